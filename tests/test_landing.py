"""Where users land: where they started (`next`), else SUCCESS_URL / FAILURE_URL.

The settings take URL names; their defaults are the app's own status page,
which exists in every project (the old "/" was a 404 in a project without a
home page); a declined or failed connection goes back to where the user
started, as a finished one does; disconnecting and a failed dashboard link too.
"""

from __future__ import annotations

import logging
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import SystemCheckError

from .account_links_support import hosted_onboarding, local_path, texts
from .factories import ExpressAccountFactory
from .oauth_support import back_to_app, start, submit_hosted_page

STATUS_PAGE = "/stripe/connect/"


@pytest.fixture
def default_landing(settings, fake_stripe):
    """The settings a newcomer has: no SUCCESS_URL or FAILURE_URL at all."""
    settings.STRIPE_EXPRESS = {
        k: v for k, v in settings.STRIPE_EXPRESS.items() if k not in ("SUCCESS_URL", "FAILURE_URL")
    }
    return fake_stripe


def with_settings(settings, **values):
    settings.STRIPE_EXPRESS = {**settings.STRIPE_EXPRESS, **values}


# -- the defaults exist in any project ----------------------------------------------------


def test_by_default_a_connected_user_lands_on_the_status_page(logged_in_client, default_landing):
    back = submit_hosted_page(start(logged_in_client))
    response = back_to_app(logged_in_client, back)

    assert response["Location"] == STATUS_PAGE
    page = logged_in_client.get(response["Location"])
    assert page.status_code == 200
    html = page.content.decode()
    assert 'data-stripe-express-status="enabled"' in html
    assert "Your Stripe account is connected." in html  # the flow's message, shown there


def test_by_default_a_declined_connection_lands_on_the_status_page(
    logged_in_client, default_landing
):
    back = submit_hosted_page(start(logged_in_client), action="decline")
    response = back_to_app(logged_in_client, back)

    assert response["Location"] == STATUS_PAGE
    page = logged_in_client.get(STATUS_PAGE).content.decode()
    assert "You cancelled connecting your Stripe account" in page
    assert "Connect with Stripe" in page


# -- URL names ---------------------------------------------------------------------------


def test_url_names_are_accepted(logged_in_client, fake_stripe, settings):
    with_settings(settings, SUCCESS_URL="dashboard", FAILURE_URL="login")

    ok = back_to_app(logged_in_client, submit_hosted_page(start(logged_in_client)))
    assert ok["Location"] == "/dashboard/"

    logged_in_client.post("/stripe/disconnect/")  # to connect again and decline
    declined = back_to_app(
        logged_in_client, submit_hosted_page(start(logged_in_client), action="decline")
    )
    assert declined["Location"] == "/accounts/login/"


def test_a_name_that_resolves_to_nothing_lands_on_the_status_page(
    logged_in_client, fake_stripe, settings, caplog
):
    with_settings(settings, FAILURE_URL="dashbaord")
    caplog.set_level(logging.WARNING, logger="django_stripe_express")
    declined = back_to_app(
        logged_in_client, submit_hosted_page(start(logged_in_client), action="decline")
    )
    assert declined.status_code == 302
    assert declined["Location"] == STATUS_PAGE
    assert any("W016" in r.getMessage() and "FAILURE_URL" in r.getMessage()
               for r in caplog.records)


# -- back to where the user started -----------------------------------------------------


def test_a_declined_connection_goes_back_to_next(logged_in_client, fake_stripe):
    back = submit_hosted_page(start(logged_in_client, next="/settings/payouts/"), action="decline")
    response = back_to_app(logged_in_client, back)
    assert response["Location"] == "/settings/payouts/"
    assert texts(response) == [
        "You cancelled connecting your Stripe account. Nothing was changed."
    ]


def test_an_oauth_error_goes_back_to_next(logged_in_client, fake_stripe):
    fake_stripe.fail_next("/oauth/token", code="invalid_grant")
    back = submit_hosted_page(start(logged_in_client, next="/settings/payouts/"))
    assert back_to_app(logged_in_client, back)["Location"] == "/settings/payouts/"


def test_an_account_links_failure_goes_back_to_next(
    logged_in_client, account_links_mode, settings
):
    account_links_mode.fail_next(f"POST {account_links_mode.create_path}", status=500)
    response = logged_in_client.post("/stripe/connect/?next=/settings/payouts/")
    assert response["Location"] == "/settings/payouts/"


def test_account_links_finish_and_refresh_failures_go_back_to_next(
    logged_in_client, account_links_mode
):
    response = logged_in_client.post("/stripe/connect/?next=/settings/payouts/")
    back = hosted_onboarding(response["Location"])

    account_links_mode.fail_next(f"GET {account_links_mode.retrieve_path}/", status=500)
    assert logged_in_client.get(local_path(back))["Location"] == "/settings/payouts/"
    account_links_mode.fail_next(account_links_mode.link_path, status=500)
    refresh = logged_in_client.get("/stripe/onboarding/refresh/")
    assert refresh["Location"] == "/settings/payouts/"


def test_disconnecting_goes_back_to_the_form_s_next(logged_in_client, user, fake_stripe):
    acct = fake_stripe.create_account()
    ExpressAccountFactory(user=user, stripe_id=acct["id"])
    response = logged_in_client.post("/stripe/disconnect/", {"next": "/settings/payouts/"})
    assert response["Location"] == "/settings/payouts/"
    elsewhere = logged_in_client.post("/stripe/disconnect/", {"next": "https://evil.example/"})
    assert elsewhere["Location"] == "/dashboard/"  # SUCCESS_URL: only this site's URLs


def test_a_failed_dashboard_link_goes_back_to_next(logged_in_client, user, fake_stripe):
    acct = fake_stripe.create_account()
    fake_stripe.complete_onboarding(acct["id"])
    ExpressAccountFactory(user=user, stripe_id=acct["id"])
    fake_stripe.fail_next("/v1/accounts/", status=500)
    response = logged_in_client.post("/stripe/dashboard/", {"next": "/settings/payouts/"})
    assert response["Location"] == "/settings/payouts/"


def test_the_button_s_dashboard_link_carries_the_page(rf, user, fake_stripe):
    from django.template import RequestContext, Template

    acct = fake_stripe.create_account()
    ExpressAccountFactory(user=user, stripe_id=acct["id"])
    request = rf.get("/settings/payouts/")
    request.user = user
    html = Template("{% load stripe_express %}{% stripe_express_button %}").render(
        RequestContext(request)
    )
    assert 'action="/stripe/dashboard/?next=%2Fsettings%2Fpayouts%2F"' in html


# -- check W016 ----------------------------------------------------------------------------


def run_check() -> str:
    out, err = StringIO(), StringIO()
    try:
        call_command("check", stdout=out, stderr=err)
    except SystemCheckError as exc:
        return str(exc)
    return out.getvalue() + err.getvalue()


@pytest.mark.parametrize("value", ["dashbaord", "", 42])
def test_check_w016_reports_a_landing_that_leads_nowhere(settings, value):
    with_settings(settings, SUCCESS_URL=value)
    output = run_check()
    assert "django_stripe_express.W016" in output
    assert "SUCCESS_URL" in output
    assert "HINT:" in output


@pytest.mark.parametrize(
    "value", ["dashboard", "stripe_express:connect", "/anywhere/", "https://example.com/x", None]
)
def test_check_w016_accepts_paths_urls_and_names(settings, value):
    with_settings(settings, SUCCESS_URL=value, FAILURE_URL=value)
    if value is None:
        settings.STRIPE_EXPRESS = {
            k: v for k, v in settings.STRIPE_EXPRESS.items() if not k.endswith("_URL")
        }
    assert "W016" not in run_check()
