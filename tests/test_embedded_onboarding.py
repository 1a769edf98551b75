"""Embedded onboarding: `connect` leads to the `onboarding` page, whose component's
exit re-reads the account exactly as the hosted flow's return does."""

from __future__ import annotations

import json
import re

import pytest
from django.test import Client

from django_stripe_express.models import ConnectAttempt, ExpressAccount
from django_stripe_express.testing.objects_v2 import as_v1

from .account_links_support import header, texts
from .embedded_support import ONBOARDING, csrf_token, draw

CONNECT = "/stripe/connect/"


def config_of(html: str) -> dict:
    match = re.search(
        r'<script id="stripe-express-embedded-config" type="application/json">(.*?)</script>',
        html, re.S,
    )
    assert match, html
    return json.loads(match.group(1))


def test_connect_creates_the_account_once_and_leads_to_the_onboarding_page(
    logged_in_client, user, embedded_mode, signals_received
):
    fake = embedded_mode

    response = logged_in_client.post(CONNECT, {"next": "/dashboard/?tab=payouts"})

    assert response.status_code == 302
    assert response["Location"] == ONBOARDING
    account = ExpressAccount.objects.get()
    assert account.user == user
    assert account.status == ExpressAccount.Status.ONBOARDING
    assert set(fake.accounts) == {account.stripe_id}
    (create,) = fake.creates()
    action = "create-v2-account" if fake.api == "v2" else "create-account"
    assert header(create, "Idempotency-Key").startswith(
        f"django-stripe-express:{action}:test:{user.pk}:"
    )
    assert account.accounts_api == fake.api
    params = fake.create_params(create)
    if fake.api == "v2":
        assert params["dashboard"] == "express"
    else:
        assert params["controller"]["stripe_dashboard"] == {"type": "express"}
    assert fake.links() == []  # no hosted form
    attempt = ConnectAttempt.objects.get()
    assert attempt.flow == ConnectAttempt.Flow.EMBEDDED
    assert attempt.outcome == ConnectAttempt.Outcome.CONNECTED
    assert attempt.account == account
    assert attempt.next_url == "/dashboard/?tab=payouts"
    assert [name for name, _ in signals_received] == ["account_connected"]

    # Pressing the button again reuses the account.
    assert logged_in_client.post(CONNECT)["Location"] == ONBOARDING
    assert len(fake.creates()) == 1
    assert ExpressAccount.objects.count() == 1


def test_a_failed_account_creation_ends_like_the_other_flows(
    logged_in_client, embedded_mode, signals_received
):
    embedded_mode.fail_next(
        f"POST {embedded_mode.create_path}", status=400, code="country_unsupported"
    )

    response = logged_in_client.post(CONNECT, follow=False)

    assert response["Location"] == "/dashboard/"  # FAILURE_URL
    assert texts(response) == ["Stripe reported an error. Please try again later."]
    attempt = ConnectAttempt.objects.get()
    assert attempt.flow == ConnectAttempt.Flow.EMBEDDED
    assert attempt.outcome == ConnectAttempt.Outcome.STRIPE_ERROR
    assert attempt.error_code == "country_unsupported"
    assert not ExpressAccount.objects.exists()
    assert [name for name, _ in signals_received] == ["connect_failed"]


def test_a_server_error_at_creation_can_be_retried_at_once(logged_in_client, embedded_mode):
    """As in the Account Links flow: Stripe replays a saved 500 (``/v1``) for its
    key for a day, so the next click must be a new request."""
    embedded_mode.fail_next(f"POST {embedded_mode.create_path}", status=500)
    assert texts(logged_in_client.post(CONNECT)) == [
        "Stripe reported an error. Please try again later."
    ]

    response = logged_in_client.post(CONNECT)

    assert response["Location"] == ONBOARDING
    assert list(embedded_mode.accounts) == [ExpressAccount.objects.get().stripe_id]
    first, second = [header(r, "Idempotency-Key") for r in embedded_mode.creates()]
    assert second == f"{first}:after:{ConnectAttempt.objects.order_by('pk').first().pk}"


def test_the_page_hosts_the_onboarding_component_without_inline_script(
    logged_in_client, unfinished_account, embedded_mode
):
    response = logged_in_client.get(ONBOARDING)

    assert response.status_code == 200
    assert [t.name for t in response.templates][:2] == [
        "django_stripe_express/onboarding.html", "django_stripe_express/base.html",
    ]
    html = response.content.decode()
    assert 'data-stripe-express-component="account_onboarding"' in html
    assert 'data-stripe-express-exit="stripe-express-onboarding-exit"' in html
    assert re.search(
        r'<form id="stripe-express-onboarding-exit"[^>]* method="post" '
        r'action="/stripe/onboarding/"><input type="hidden" name="csrfmiddlewaretoken"', html,
    )
    # The fallback (hidden until Connect.js fails) offers Stripe's hosted form.
    assert 'method="post" action="/stripe/onboarding/refresh/"' in html
    assert "Continue on Stripe's website instead" in html
    # Scripts: the settings block (JSON, not executed) and static files only.
    scripts = re.findall(r"<script([^>]*)>(.*?)</script>", html, re.S)
    assert [attrs for attrs, body in scripts if body.strip() and "json" not in attrs] == []
    assert any('src="/static/django_stripe_express/embedded.js"' in attrs for attrs, _ in scripts)
    config = config_of(html)
    assert config["publishableKey"] == embedded_mode.publishable_key
    assert config["connectJsUrl"] == embedded_mode.connect_js_url
    assert config["accountSessionUrl"] == "/stripe/account-session/"
    assert config["csrfToken"]
    assert embedded_mode.requests == []  # the page itself asks Stripe nothing


def test_the_page_without_an_account_creates_nothing(logged_in_client, embedded_mode):
    response = logged_in_client.get(ONBOARDING)
    assert response.status_code == 302
    assert response["Location"] == CONNECT
    assert embedded_mode.requests == []
    assert not ExpressAccount.objects.exists()


def test_finishing_in_the_component_then_exit_lands_connected(
    user, embedded_mode, signals_received
):
    fake = embedded_mode
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    token = csrf_token(client)
    client.post(CONNECT, {"next": "/dashboard/?tab=payouts"}, HTTP_X_CSRFTOKEN=token)
    account = ExpressAccount.objects.get()

    # What the page's script and the stand-in Connect.js do in a browser.
    secret = client.post(
        "/stripe/account-session/", {"components": "account_onboarding"},
        HTTP_X_CSRFTOKEN=token, HTTP_ACCEPT="application/json",
    ).json()["client_secret"]
    form = draw(fake, "account_onboarding", secret)
    assert "Agree and submit" in form.text
    assert account.stripe_id in form.text
    submitted = draw(fake, "account_onboarding/submit", secret, action="agree", finish="on")
    assert '"type": "exit"' in submitted.text
    assert as_v1(fake.accounts[account.stripe_id])["details_submitted"] is True

    # The component exited: the page POSTs its form.
    response = client.post(ONBOARDING, HTTP_X_CSRFTOKEN=token)

    assert response.status_code == 302
    assert response["Location"] == "/dashboard/?tab=payouts"
    assert texts(response) == ["Your Stripe account is set up. You are ready to be paid."]
    account.refresh_from_db()
    assert account.status == ExpressAccount.Status.ENABLED
    updated = [kw for name, kw in signals_received if name == "account_updated"]
    assert [kw["source"] for kw in updated] == ["onboarding"]


def test_leaving_before_finishing_says_what_is_still_due(
    logged_in_client, unfinished_account, embedded_mode
):
    response = logged_in_client.post(ONBOARDING)

    assert response["Location"] == "/dashboard/"  # SUCCESS_URL: no attempt with a next
    (text,) = texts(response)
    assert text.startswith("Your Stripe onboarding is not finished.")
    (call,) = embedded_mode.requests_to(f"/v1/accounts/{unfinished_account.stripe_id}", "GET")
    assert call.method == "GET"


def test_the_exit_post_needs_the_csrf_token(csrf_client, unfinished_account, embedded_mode):
    response = csrf_client.post(ONBOARDING, HTTP_REFERER="https://evil.example/")
    assert response.status_code == 403
    assert embedded_mode.requests == []


def test_views_require_login(client, embedded_mode):
    for path in (ONBOARDING,):
        response = client.get(path)
        assert response.status_code == 302
        assert response["Location"].startswith(f"/accounts/login/?next={path}")
    assert client.post(ONBOARDING).status_code == 302
    assert embedded_mode.requests == []


def test_other_methods_are_refused(logged_in_client, unfinished_account, embedded_mode):
    assert logged_in_client.put(ONBOARDING).status_code == 405
    assert logged_in_client.delete(ONBOARDING).status_code == 405


@pytest.mark.parametrize("flow", ["account_links", "embedded"])
def test_the_hosted_fallback_returns_to_the_embedded_attempt_s_next(
    logged_in_client, fake_stripe, settings, flow
):
    # Connect.js could not load: the page links to `onboarding_refresh` (the
    # hosted form); its return lands where the embedded attempt said.
    settings.STRIPE_EXPRESS = {**settings.STRIPE_EXPRESS, "ONBOARDING": flow}
    logged_in_client.post(CONNECT, {"next": "/dashboard/?from=" + flow})
    link = logged_in_client.get("/stripe/onboarding/refresh/")
    assert link["Location"].startswith(f"{fake_stripe.url}/setup/e/")
    landing = logged_in_client.get("/stripe/onboarding/return/")
    assert landing["Location"] == "/dashboard/?from=" + flow


def test_query_counts(logged_in_client, embedded_mode, django_assert_num_queries):
    # Session + user, account lookup, attempt insert, the last refused
    # creation (for the idempotency key), breadcrumb, account insert (in a
    # savepoint), attempt close: as Account Links.
    with django_assert_num_queries(10):
        logged_in_client.post(CONNECT)
    # Session + user, account lookup.
    with django_assert_num_queries(3):
        logged_in_client.get(ONBOARDING)
    # Session + user, account lookup, one UPDATE, the attempt's `next`.
    with django_assert_num_queries(5):
        logged_in_client.post(ONBOARDING)
