"""Steps 3 and 4: back from Stripe, the code is exchanged and the account stored."""

from __future__ import annotations

import logging
from urllib.parse import quote

import pytest

from django_stripe_express.models import ConnectAttempt, ExpressAccount
from django_stripe_express.signals import account_connected

from .factories import ConnectAttemptFactory, ExpressAccountFactory
from .oauth_support import back_to_app, callback, messages_of, start, submit_hosted_page

Outcome = ConnectAttempt.Outcome


@pytest.fixture
def connected_signals(capture_signal):
    return capture_signal(account_connected)


def test_happy_path_through_the_hosted_page(
    logged_in_client, user, fake_stripe, connected_signals, caplog
):
    caplog.set_level(logging.DEBUG)
    location = submit_hosted_page(start(logged_in_client), finish=True)
    assert location.startswith("http://testserver/stripe/oauth/callback/?code=ac_")

    response = back_to_app(logged_in_client, location)

    assert response.status_code == 302
    assert response["Location"] == "/dashboard/"  # SUCCESS_URL
    assert messages_of(response) == ["Your Stripe account is connected."]
    account = ExpressAccount.objects.get()
    acct_id = fake_stripe.authorizations[0]["account"]
    assert (account.user, account.stripe_id, account.livemode) == (user, acct_id, False)
    assert account.status == ExpressAccount.Status.ENABLED
    assert (account.charges_enabled, account.payouts_enabled, account.details_submitted) == (
        True, True, True,
    )
    assert account.email == user.email
    assert account.capabilities == {"transfers": "active"}
    assert account.synced_at is not None
    assert account.deauthorized_at is None
    attempt = ConnectAttempt.objects.get()
    assert attempt.outcome == Outcome.CONNECTED
    assert (attempt.account, attempt.stripe_user_id) == (account, acct_id)
    assert attempt.finished_at is not None
    assert [(s["account"], s["user"], s["created"]) for s in connected_signals] == [
        (account, user, True)
    ]
    # One exchange, one read of the account; no token stored or logged.
    assert len(fake_stripe.requests_to("/oauth/token")) == 1
    assert len(fake_stripe.requests_to(f"/v1/accounts/{acct_id}", "GET")) == 1
    # (The `stripe` library itself logs response bodies at DEBUG: hosts must not
    # run its logger at DEBUG in production. This app's own loggers never do.)
    ours = "\n".join(
        r.getMessage() for r in caplog.records if r.name.startswith("django_stripe_express")
    )
    token = fake_stripe.requests_to("/oauth/token")[0]
    assert ours
    assert token.form["code"] not in ours
    assert "sk_test_" not in ours
    assert "rt_" not in ours


def test_unfinished_onboarding_is_stored_as_onboarding(logged_in_client, fake_stripe):
    location = submit_hosted_page(start(logged_in_client), finish=False)
    back_to_app(logged_in_client, location)
    account = ExpressAccount.objects.get()
    assert account.status == ExpressAccount.Status.ONBOARDING
    assert account.details_submitted is False


def test_safe_next_url_is_where_the_user_lands(logged_in_client, fake_stripe):
    url = start(logged_in_client, next="/payouts/?from=stripe")
    response = back_to_app(logged_in_client, submit_hosted_page(url))
    assert response["Location"] == "/payouts/?from=stripe"


def test_not_logged_in_goes_to_login_and_back_with_the_state(client, user, fake_stripe):
    client.force_login(user)
    location = submit_hosted_page(start(client))
    client.logout()

    response = back_to_app(client, location)
    assert response.status_code == 302
    path_and_query = location.removeprefix("http://testserver")
    assert response["Location"] == f"/accounts/login/?next={quote(path_and_query, safe='/')}"
    assert not ExpressAccount.objects.exists()

    login = client.post(response["Location"], {"username": user.username, "password": "password"})
    assert login.status_code == 302
    assert login["Location"] == path_and_query
    back = client.get(login["Location"])
    assert back["Location"] == "/dashboard/"
    assert ExpressAccount.objects.get().user == user


def test_assert_capabilities_is_sent_when_configured(
    logged_in_client, user, settings, fake_stripe
):
    settings.STRIPE_EXPRESS = {**settings.STRIPE_EXPRESS, "ASSERT_CAPABILITIES": True}
    back_to_app(logged_in_client, submit_hosted_page(start(logged_in_client)))
    (token_request,) = fake_stripe.requests_to("/oauth/token")
    assert token_request.form["assert_capabilities"] == ["transfers"]
    assert ExpressAccount.objects.get().user == user


def test_assert_capabilities_go_as_stripes_library_writes_lists(
    logged_in_client, settings, fake_stripe
):
    # stripe's typed OAuth parameters declare `assert_capabilities` a list, and
    # the library writes every list `name[0]=...`, which Stripe reads as the
    # `assert_capabilities[]=...` of its guide. Both name every capability, in order.
    settings.STRIPE_EXPRESS = {
        **settings.STRIPE_EXPRESS,
        "ASSERT_CAPABILITIES": True,
        "SUGGESTED_CAPABILITIES": ["transfers", "card_payments"],
    }
    back_to_app(logged_in_client, submit_hosted_page(start(logged_in_client)))
    (token_request,) = fake_stripe.requests_to("/oauth/token")
    pairs = [pair.split("=") for pair in token_request.body.split("&")]
    assert [(key, value) for key, value in pairs if key.startswith("assert_capabilities")] == [
        ("assert_capabilities[0]", "transfers"), ("assert_capabilities[1]", "card_payments")
    ]


def test_reconnecting_a_disconnected_account(
    logged_in_client, user, fake_stripe, connected_signals
):
    acct = fake_stripe.create_account(email=user.email)
    old = ExpressAccountFactory(user=user, stripe_id=acct["id"], disconnected=True)
    attempt = ConnectAttemptFactory(user=user)

    response = callback(logged_in_client, code=fake_stripe.issue_code(acct["id"]),
                        state=attempt.state)

    assert response["Location"] == "/dashboard/"
    account = ExpressAccount.objects.get()
    assert account.pk == old.pk
    assert account.deauthorized_at is None
    assert account.connected_at > old.connected_at
    assert account.status == ExpressAccount.Status.ENABLED
    assert connected_signals[0]["created"] is False


def test_reconnecting_with_a_new_stripe_account_forgets_the_old_one(
    logged_in_client, user, fake_stripe
):
    old = ExpressAccountFactory(user=user, disconnected=True, country="FR")
    attempt = ConnectAttemptFactory(user=user)
    code = fake_stripe.issue_code(complete=False, country="DE")

    callback(logged_in_client, code=code, state=attempt.state)

    account = ExpressAccount.objects.get()
    assert account.pk == old.pk
    assert account.stripe_id != old.stripe_id
    assert account.country == "DE"
    assert account.status == ExpressAccount.Status.ONBOARDING
    assert account.is_connected


def test_an_oauth_account_replacing_a_disconnected_v2_one_is_read_as_v1(
    logged_in_client, user, fake_stripe
):
    old = ExpressAccountFactory(user=user, disconnected=True, accounts_api="v2")
    attempt = ConnectAttemptFactory(user=user)
    code = fake_stripe.issue_code(complete=False, country="DE")

    callback(logged_in_client, code=code, state=attempt.state)

    account = ExpressAccount.objects.get()
    assert account.pk == old.pk
    assert account.accounts_api == ExpressAccount.AccountsApi.V1
    assert account.country == "DE"
    assert account.status == ExpressAccount.Status.ONBOARDING


def test_account_read_failure_still_stores_the_connection(
    logged_in_client, user, fake_stripe, caplog
):
    attempt = ConnectAttemptFactory(user=user)
    code = fake_stripe.issue_code()
    fake_stripe.fail_next("GET /v1/accounts", status=500, code="api_error", message="boom")

    with caplog.at_level(logging.WARNING):
        response = callback(logged_in_client, code=code, state=attempt.state)

    assert response["Location"] == "/dashboard/"
    account = ExpressAccount.objects.get()
    assert account.user == user
    assert account.synced_at is None
    assert account.status == ExpressAccount.Status.ONBOARDING  # defaults until a webhook
    assert f"Could not read connected Stripe account {account.stripe_id}" in caplog.text
    attempt.refresh_from_db()
    assert attempt.outcome == Outcome.CONNECTED


def test_a_connection_that_ends_in_a_review_is_stored_restricted(
    logged_in_client, fake_stripe
):
    back_to_app(logged_in_client, submit_hosted_page(start(logged_in_client), outcome="review"))

    account = ExpressAccount.objects.get()
    assert account.status == ExpressAccount.Status.RESTRICTED
    assert account.disabled_reason == "other"
    assert account.past_due == ["business_profile.product_description"]
