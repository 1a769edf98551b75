"""Account Links onboarding when Stripe fails: a message, a record, no 500, no stuck state."""

from __future__ import annotations

import time

import pytest

from django_stripe_express.models import ConnectAttempt, ExpressAccount

from .account_links_support import (
    header,
    texts,
)
from .factories import ExpressAccountFactory

CONNECT = "/stripe/connect/"
REFRESH = "/stripe/onboarding/refresh/"
RETURN = "/stripe/onboarding/return/"

UNREACHABLE = "We could not reach Stripe. Please try again in a few minutes."
BUSY = "Stripe is busy right now. Please try again in a minute."
STRIPE_ERROR = "Stripe reported an error. Please try again later."
GONE = (
    "Your Stripe account is no longer connected to this site. "
    "Connect again to set up a new one."
)


def assert_next_try_works(client, fake) -> None:
    """Nothing left behind blocks the user: the next visit reaches Stripe's form."""
    response = client.post(CONNECT)
    assert response.status_code == 302
    assert response["Location"].startswith(f"{fake.url}/setup/e/")
    assert ExpressAccount.objects.count() == 1
    assert len(fake.accounts) == 1


def test_stripe_unreachable_when_creating(logged_in_client, account_links_mode, signals_received):
    fake = account_links_mode
    with fake.refuse_connections():
        response = logged_in_client.post(CONNECT)

    assert response.status_code == 302
    assert response["Location"] == "/dashboard/"  # FAILURE_URL
    assert texts(response) == [UNREACHABLE]
    assert not ExpressAccount.objects.exists()
    attempt = ConnectAttempt.objects.get()
    assert attempt.outcome == ConnectAttempt.Outcome.STRIPE_UNREACHABLE
    assert attempt.finished_at is not None
    sent = [(n, kw["outcome"]) for n, kw in signals_received]
    assert sent == [("connect_failed", "stripe_unreachable")]
    assert_next_try_works(logged_in_client, fake)


def test_timeout_when_creating_then_retry_replays_the_same_account(
    logged_in_client, user, account_links_mode, settings
):
    """Stripe created the account but the answer never arrived: no second account."""
    fake = account_links_mode
    settings.STRIPE_EXPRESS = {**settings.STRIPE_EXPRESS, "TIMEOUT": 0.5}
    fake.delay_next(f"POST {fake.create_path}", 1.0)

    response = logged_in_client.post(CONNECT)

    assert texts(response) == [UNREACHABLE]
    assert ConnectAttempt.objects.get().outcome == "stripe_unreachable"
    assert not ExpressAccount.objects.exists()
    deadline = time.monotonic() + 5
    while not fake.accounts and time.monotonic() < deadline:  # the fake is still sleeping
        time.sleep(0.05)
    assert len(fake.accounts) == 1  # created at Stripe all the same

    assert_next_try_works(logged_in_client, fake)
    assert ExpressAccount.objects.get().stripe_id == next(iter(fake.accounts))
    keys = {header(r, "Idempotency-Key") for r in fake.creates()}
    assert len(keys) == 1
    action = "create-v2-account" if fake.api == "v2" else "create-account"
    assert keys.pop().startswith(f"django-stripe-express:{action}:test:{user.pk}:")


def test_rate_limited_when_creating(logged_in_client, account_links_mode):
    fake = account_links_mode
    fake.fail_next(f"POST {fake.create_path}", status=429)

    response = logged_in_client.post(CONNECT)

    assert response["Location"] == "/dashboard/"
    assert texts(response) == [BUSY]
    attempt = ConnectAttempt.objects.get()
    assert attempt.outcome == ConnectAttempt.Outcome.STRIPE_ERROR
    assert attempt.error_code == "rate_limit"
    assert not ExpressAccount.objects.exists()
    assert_next_try_works(logged_in_client, fake)


def test_invalid_request_when_creating(logged_in_client, account_links_mode):
    fake = account_links_mode
    fake.fail_next(f"POST {fake.create_path}", status=400, code="parameter_invalid_empty",
                   message="You passed an empty string for 'email'.")

    response = logged_in_client.post(CONNECT)

    assert texts(response) == [STRIPE_ERROR]
    attempt = ConnectAttempt.objects.get()
    assert attempt.outcome == ConnectAttempt.Outcome.STRIPE_ERROR
    assert attempt.error_code == "parameter_invalid_empty"
    assert "empty string" in attempt.error_description
    assert_next_try_works(logged_in_client, fake)


@pytest.mark.parametrize(
    ("plan", "message", "outcome"),
    [
        ({"status": 429}, BUSY, "stripe_error"),
        ({"status": 500}, STRIPE_ERROR, "stripe_error"),
        ({"status": 400, "code": "url_invalid"}, STRIPE_ERROR, "stripe_error"),
    ],
)
def test_link_failure_keeps_the_account_for_the_next_try(
    logged_in_client, account_links_mode, signals_received, plan, message, outcome
):
    fake = account_links_mode
    fake.fail_next(f"POST {fake.link_path}", **plan)

    response = logged_in_client.post(CONNECT)

    assert response["Location"] == "/dashboard/"
    assert texts(response) == [message]
    account = ExpressAccount.objects.get()
    attempt = ConnectAttempt.objects.get()
    assert attempt.outcome == outcome
    assert attempt.account == account
    assert [n for n, _kw in signals_received] == ["account_connected", "connect_failed"]

    assert_next_try_works(logged_in_client, fake)
    assert len(fake.creates()) == 1


def test_account_deleted_at_stripe_is_replaced_on_the_next_try(
    logged_in_client, user, account_links_mode, signals_received
):
    fake = account_links_mode
    if fake.api == "v2":
        acct = fake.create_v2_account(contact_email=user.email)["id"]
    else:
        acct = fake.create_account(email=user.email)["id"]
    ExpressAccountFactory(user=user, stripe_id=acct, onboarding=True, accounts_api=fake.api)
    del fake.accounts[acct]

    response = logged_in_client.post(CONNECT)

    assert response["Location"] == "/dashboard/"
    assert texts(response) == [GONE]
    account = ExpressAccount.objects.get()
    assert account.deauthorized_at is not None
    assert account.status == ExpressAccount.Status.DISCONNECTED
    attempt = ConnectAttempt.objects.get()
    # v1: 403 for an account the platform cannot reach; v2: the link names an
    # account Stripe does not have (400 `resource_missing`, the account is a parameter).
    code = "resource_missing" if fake.api == "v2" else "account_invalid"
    assert (attempt.outcome, attempt.error_code) == ("stripe_error", code)
    assert [n for n, _kw in signals_received] == ["account_deauthorized", "connect_failed"]

    response = logged_in_client.post(CONNECT)
    account.refresh_from_db()
    assert response["Location"].startswith(f"{fake.url}/setup/e/{account.stripe_id}/")
    assert account.stripe_id != acct
    assert account.is_connected


def test_refresh_failures(logged_in_client, user, account_links_mode):
    fake = account_links_mode
    logged_in_client.post(CONNECT)

    with fake.refuse_connections():
        response = logged_in_client.get(REFRESH)
    assert (response["Location"], texts(response)) == ("/dashboard/", [UNREACHABLE])

    fake.fail_next(f"POST {fake.link_path}", status=429)
    response = logged_in_client.get(REFRESH)
    # Messages the test client never displayed pile up: the newest is last.
    assert (response["Location"], texts(response)[-1]) == ("/dashboard/", BUSY)

    assert ExpressAccount.objects.get().is_connected
    assert logged_in_client.get(REFRESH)["Location"].startswith(f"{fake.url}/setup/e/")


def test_refresh_for_an_account_deleted_at_stripe(logged_in_client, account_links_mode):
    fake = account_links_mode
    logged_in_client.post(CONNECT)
    account = ExpressAccount.objects.get()
    del fake.accounts[account.stripe_id]

    response = logged_in_client.get(REFRESH)

    assert texts(response) == [GONE]
    account.refresh_from_db()
    assert account.status == ExpressAccount.Status.DISCONNECTED
    assert_next_try_works(logged_in_client, fake)


@pytest.mark.parametrize(
    ("plan", "message"),
    [
        ({"status": 429}, BUSY),
        ({"status": 500}, STRIPE_ERROR),
        # A 403 other than account_invalid: the key lacks a permission (test_diagnostics).
        ({"status": 403}, "Payouts with Stripe are not set up correctly on this site. "
                          "Please contact support."),
    ],
)
def test_return_failures_leave_the_account_as_it_was(
    logged_in_client, account_links_mode, signals_received, plan, message, caplog
):
    fake = account_links_mode
    logged_in_client.post(CONNECT)
    account = ExpressAccount.objects.get()
    fake.complete_onboarding(account.stripe_id)
    fake.fail_next(f"GET {fake.retrieve_path}", **plan)

    response = logged_in_client.get(RETURN)

    assert response.status_code == 302
    assert response["Location"] == "/dashboard/"  # SUCCESS_URL
    assert texts(response) == [message]
    account.refresh_from_db()
    assert account.status == ExpressAccount.Status.ONBOARDING
    assert "account_updated" not in [n for n, _kw in signals_received]
    (line,) = [r for r in caplog.records if "failed" in r.getMessage()]
    assert account.stripe_id in line.getMessage()
    assert "sk_test" not in line.getMessage()

    # Once Stripe answers again, the same return URL updates the status.
    logged_in_client.get(RETURN)
    account.refresh_from_db()
    assert account.status == ExpressAccount.Status.ENABLED


def test_return_when_stripe_is_unreachable(logged_in_client, account_links_mode):
    fake = account_links_mode
    logged_in_client.post(CONNECT)
    with fake.refuse_connections():
        response = logged_in_client.get(RETURN)
    assert (response["Location"], texts(response)) == ("/dashboard/", [UNREACHABLE])


def test_return_for_an_account_deleted_at_stripe(logged_in_client, account_links_mode):
    fake = account_links_mode
    logged_in_client.post(CONNECT)
    account = ExpressAccount.objects.get()
    del fake.accounts[account.stripe_id]

    response = logged_in_client.get(RETURN)

    assert (response["Location"], texts(response)) == ("/dashboard/", [GONE])
    account.refresh_from_db()
    assert account.deauthorized_at is not None


def test_account_id_already_stored_for_another_user_is_refused(
    logged_in_client, user, other_user, account_links_mode, signals_received
):
    """An idempotent replay can return an id this database gave someone else
    (a test database reset within 24 hours): never move it between users."""
    fake = account_links_mode
    logged_in_client.post(CONNECT)
    acct = ExpressAccount.objects.get().stripe_id
    ExpressAccount.objects.update(user=other_user)

    response = logged_in_client.post(CONNECT)

    assert response["Location"] == "/dashboard/"
    assert texts(response) == [
        "This Stripe account is already linked to another user or another account on "
        "this site. Please contact support."
    ]
    assert ExpressAccount.objects.get().user == other_user
    attempt = ConnectAttempt.objects.order_by("-created_at", "-pk").first()
    assert attempt.outcome == ConnectAttempt.Outcome.ACCOUNT_ALREADY_LINKED
    assert attempt.stripe_user_id == acct
    assert len(fake.accounts) == 1
