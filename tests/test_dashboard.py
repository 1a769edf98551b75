"""The `dashboard` view: a login link to the Express dashboard, for accounts of either flow."""

from __future__ import annotations

import pytest
import requests

from django_stripe_express.models import ExpressAccount

from .account_links_support import (
    texts,
)
from .factories import ExpressAccountFactory

DASHBOARD = "/stripe/dashboard/"


@pytest.fixture(params=["oauth", "account_links"])
def either_mode(request, fake_stripe, settings):
    """Both flows: the dashboard must work the same for accounts from each."""
    settings.STRIPE_EXPRESS = {**settings.STRIPE_EXPRESS, "ONBOARDING": request.param}
    return fake_stripe


@pytest.fixture
def onboarded(user, fake_stripe):
    """An account finished at the fake and stored locally."""
    acct = fake_stripe.create_account(email=user.email)["id"]
    fake_stripe.complete_onboarding(acct)
    return ExpressAccountFactory(user=user, stripe_id=acct)


def test_redirects_to_a_fresh_login_link(logged_in_client, onboarded, either_mode):
    fake = either_mode

    response = logged_in_client.post(DASHBOARD)

    assert response.status_code == 302
    url = response["Location"]
    assert url.startswith(f"{fake.url}/express/{onboarded.stripe_id}/")
    (call,) = fake.requests_to(f"/v1/accounts/{onboarded.stripe_id}/login_links", "POST")
    assert call.form == {}
    # The link opens the account's Express dashboard, once.
    page = requests.get(url, timeout=5)
    assert page.status_code == 200
    assert onboarded.stripe_id in page.text
    assert requests.get(url, timeout=5).status_code == 400
    # A second visit gets a new link.
    assert logged_in_client.post(DASHBOARD)["Location"] != url


def test_query_count(logged_in_client, onboarded, fake_stripe, django_assert_num_queries):
    # Session, user, account.
    with django_assert_num_queries(3):
        logged_in_client.post(DASHBOARD)


def test_no_account_goes_to_connect(logged_in_client, either_mode):
    response = logged_in_client.post(DASHBOARD)

    assert response.status_code == 302
    assert response["Location"] == "/stripe/connect/"
    assert texts(response) == ["Connect your Stripe account first."]
    assert either_mode.requests == []


def test_disconnected_account_goes_to_connect(logged_in_client, user, either_mode):
    ExpressAccountFactory(user=user, disconnected=True)

    response = logged_in_client.post(DASHBOARD)

    assert response["Location"] == "/stripe/connect/"
    assert either_mode.requests == []


def test_live_mode_account_is_not_used_with_a_test_key(logged_in_client, user, either_mode):
    ExpressAccountFactory(user=user, livemode=True)

    response = logged_in_client.post(DASHBOARD)

    assert response["Location"] == "/stripe/connect/"


def test_unfinished_onboarding_gets_an_account_link(logged_in_client, user, either_mode):
    """In both modes: Stripe refuses login links until onboarding is finished."""
    fake = either_mode
    acct = fake.create_account(email=user.email)["id"]
    ExpressAccountFactory(user=user, stripe_id=acct, onboarding=True)

    response = logged_in_client.post(DASHBOARD)

    assert response["Location"].startswith(f"{fake.url}/setup/e/{acct}/")
    assert texts(response) == ["Finish setting up your Stripe account to open its dashboard."]
    assert fake.requests_to(f"/v1/accounts/{acct}/login_links") == []


def test_unfinished_onboarding_reads_the_account_once(
    logged_in_client, user, fake_stripe, django_assert_num_queries
):
    acct = fake_stripe.create_account(email=user.email)["id"]
    ExpressAccountFactory(user=user, stripe_id=acct, onboarding=True)
    # Session, user, account.
    with django_assert_num_queries(3):
        logged_in_client.post(DASHBOARD)


def test_login_required(client, fake_stripe):
    response = client.get(DASHBOARD)
    assert response["Location"] == f"/accounts/login/?next={DASHBOARD}"


OPEN_FAILED = "Stripe could not open your dashboard just now. Please try again later."


@pytest.mark.parametrize(
    ("plan", "message"),
    [
        ({"status": 429}, "Stripe is busy right now. Please try again in a minute."),
        ({"status": 400, "code": "parameter_invalid"}, OPEN_FAILED),
        ({"status": 500}, OPEN_FAILED),
    ],
)
def test_stripe_errors_give_a_message_not_a_500(
    logged_in_client, onboarded, either_mode, plan, message, caplog
):
    either_mode.fail_next("POST /v1/accounts/", **plan)

    response = logged_in_client.post(DASHBOARD)

    assert response.status_code == 302
    assert response["Location"] == "/dashboard/"  # SUCCESS_URL
    assert texts(response) == [message]
    onboarded.refresh_from_db()
    assert onboarded.is_connected
    (line,) = [r for r in caplog.records if "login link failed" in r.getMessage()]
    assert onboarded.stripe_id in line.getMessage()


def test_stripe_unreachable(logged_in_client, onboarded, either_mode):
    with either_mode.refuse_connections():
        response = logged_in_client.post(DASHBOARD)

    assert response["Location"] == "/dashboard/"
    assert texts(response) == ["We could not reach Stripe. Please try again in a few minutes."]


def test_stripe_disagrees_that_onboarding_is_finished(logged_in_client, user, either_mode):
    """Our row says finished (a stale webhook); Stripe refuses the login link."""
    fake = either_mode
    acct = fake.create_account(email=user.email)["id"]
    ExpressAccountFactory(user=user, stripe_id=acct)

    response = logged_in_client.post(DASHBOARD)

    assert response["Location"] == "/dashboard/"
    assert texts(response) == [OPEN_FAILED]


@pytest.mark.parametrize("how", ["deleted", "access revoked"])
def test_account_the_platform_lost_is_marked_disconnected(
    logged_in_client, onboarded, either_mode, signals_received, how
):
    if how == "deleted":
        del either_mode.accounts[onboarded.stripe_id]
    else:
        either_mode.deauthorize(onboarded.stripe_id)  # Stripe answers 403 account_invalid

    response = logged_in_client.post(DASHBOARD)

    assert response["Location"] == "/dashboard/"
    assert texts(response) == [
        "Your Stripe account is no longer connected to this site. "
        "Connect again to set up a new one."
    ]
    onboarded.refresh_from_db()
    assert onboarded.status == ExpressAccount.Status.DISCONNECTED
    assert [n for n, _kw in signals_received] == ["account_deauthorized"]
    # And the next dashboard visit sends the user to connect again.
    assert logged_in_client.post(DASHBOARD)["Location"] == "/stripe/connect/"
