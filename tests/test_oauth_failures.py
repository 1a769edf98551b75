"""Every way the OAuth flow can fail: what the user sees, what the database holds.

Each failure ends on FAILURE_URL with a message, records the outcome (and
Stripe's error code) on the attempt, fires `connect_failed`, stores no account.
"""

from __future__ import annotations

import pytest

from django_stripe_express.models import ConnectAttempt, ExpressAccount
from django_stripe_express.signals import connect_failed

from .factories import ConnectAttemptFactory, ExpressAccountFactory
from .oauth_support import back_to_app, callback, messages_of, start, submit_hosted_page

Outcome = ConnectAttempt.Outcome


@pytest.fixture
def failures(capture_signal):
    return capture_signal(connect_failed)


@pytest.fixture
def attempt(user):
    return ConnectAttemptFactory(user=user)


def assert_failed(response, attempt, failures, outcome, *, code="", message):
    """The common shape of a failure, from the user's side and the database's."""
    assert response.status_code == 302
    assert response["Location"] == "/failed/"
    assert messages_of(response) == [message]
    attempt.refresh_from_db()
    assert attempt.outcome == outcome
    assert attempt.error_code == code
    assert attempt.finished_at is not None
    assert [(f["attempt"], f["outcome"], f["error_code"]) for f in failures] == [
        (attempt, outcome, code)
    ]
    assert failures[0]["user"] == attempt.user
    assert failures[0]["request"] is not None


@pytest.fixture(autouse=True)
def failure_url(settings, fake_stripe):
    settings.STRIPE_EXPRESS = {**settings.STRIPE_EXPRESS, "FAILURE_URL": "/failed/"}


def test_user_declines_on_the_hosted_page(logged_in_client, fake_stripe, failures):
    location = submit_hosted_page(start(logged_in_client), action="decline")
    response = back_to_app(logged_in_client, location)

    assert_failed(
        response, ConnectAttempt.objects.get(), failures, Outcome.DECLINED, code="access_denied",
        message="You cancelled connecting your Stripe account. Nothing was changed.",
    )
    assert ConnectAttempt.objects.get().error_description == "The user denied your request"
    assert not ExpressAccount.objects.exists()
    assert fake_stripe.requests_to("/oauth/token") == []


def test_other_error_in_the_redirect(logged_in_client, attempt, fake_stripe, failures):
    response = callback(logged_in_client, state=attempt.state, error="server_error",
                        error_description="Something broke")
    assert_failed(response, attempt, failures, Outcome.OAUTH_ERROR, code="server_error",
                  message="Stripe could not connect your account. Please try again.")
    assert attempt.error_description == "Something broke"


def test_redirect_without_code_or_error(logged_in_client, attempt, fake_stripe, failures):
    response = callback(logged_in_client, state=attempt.state)
    assert_failed(response, attempt, failures, Outcome.INVALID_REQUEST,
                  message="Stripe could not connect your account. Please try again.")


def test_code_already_used_is_invalid_grant(logged_in_client, user, fake_stripe, failures):
    code = fake_stripe.issue_code()
    first, second = ConnectAttemptFactory(user=user), ConnectAttemptFactory(user=user)
    connected = callback(logged_in_client, code=code, state=first.state)
    assert connected["Location"] == "/dashboard/"
    assert messages_of(connected) == ["Your Stripe account is connected."]
    logged_in_client.cookies.pop("messages")  # as if the dashboard had shown it
    ExpressAccount.objects.all().delete()  # so the second try is judged on the code alone

    response = callback(logged_in_client, code=code, state=second.state)

    assert_failed(
        response, second, failures, Outcome.INVALID_GRANT, code="invalid_grant",
        message="This Stripe connection link has expired or was already used. "
        "Please start again.",
    )
    assert second.error_description == f"Authorization code already used: {code}"
    assert not ExpressAccount.objects.exists()


def test_unknown_code_is_invalid_grant(logged_in_client, attempt, fake_stripe, failures):
    response = callback(logged_in_client, code="ac_forged", state=attempt.state)
    assert_failed(
        response, attempt, failures, Outcome.INVALID_GRANT, code="invalid_grant",
        message="This Stripe connection link has expired or was already used. "
        "Please start again.",
    )


def test_invalid_client(logged_in_client, attempt, fake_stripe, failures):
    fake_stripe.fail_next("/oauth/token", status=401, code="invalid_client",
                          message="No such application: 'ca_fake'")
    response = callback(logged_in_client, code=fake_stripe.issue_code(), state=attempt.state)
    assert_failed(
        response, attempt, failures, Outcome.INVALID_CLIENT, code="invalid_client",
        message="Connecting Stripe accounts is not set up correctly on this site. "
        "Please contact support.",
    )


def test_invalid_request(logged_in_client, attempt, fake_stripe, failures):
    fake_stripe.fail_next("/oauth/token", code="invalid_request", message="No grant type")
    response = callback(logged_in_client, code=fake_stripe.issue_code(), state=attempt.state)
    assert_failed(response, attempt, failures, Outcome.INVALID_REQUEST, code="invalid_request",
                  message="Stripe could not connect your account. Please try again.")


def test_failed_capability_assertion(logged_in_client, attempt, settings, fake_stripe, failures):
    settings.STRIPE_EXPRESS = {
        **settings.STRIPE_EXPRESS,
        "SUGGESTED_CAPABILITIES": ["transfers", "card_payments"],
        "ASSERT_CAPABILITIES": True,
    }
    code = fake_stripe.issue_code(capabilities={"transfers": "active"})

    response = callback(logged_in_client, code=code, state=attempt.state)

    assert_failed(
        response, attempt, failures, Outcome.CAPABILITY_NOT_GRANTED, code="invalid_request",
        message="Your Stripe account cannot be used here yet: it lacks a capability this "
        "site needs. Please finish your Stripe setup and try again.",
    )
    assert "card_payments" in attempt.error_description
    (token_request,) = fake_stripe.requests_to("/oauth/token")
    assert token_request.form["assert_capabilities"] == ["transfers", "card_payments"]
    assert not ExpressAccount.objects.exists()


def test_error_code_the_library_does_not_know(logged_in_client, attempt, fake_stripe, failures):
    # stripe 16 raises a raw AttributeError for e.g. access_denied from /oauth/token.
    fake_stripe.fail_next("/oauth/token", code="access_denied", message="Denied")
    response = callback(logged_in_client, code=fake_stripe.issue_code(), state=attempt.state)
    assert_failed(response, attempt, failures, Outcome.OAUTH_ERROR,
                  message="Stripe could not connect your account. Please try again.")


def test_stripe_unreachable(logged_in_client, attempt, fake_stripe, failures):
    code = fake_stripe.issue_code()
    with fake_stripe.refuse_connections():
        response = callback(logged_in_client, code=code, state=attempt.state)
    assert_failed(response, attempt, failures, Outcome.STRIPE_UNREACHABLE,
                  message="We could not reach Stripe. Please try again in a few minutes.")


def test_stripe_timing_out(logged_in_client, attempt, settings, fake_stripe, failures):
    settings.STRIPE_EXPRESS = {**settings.STRIPE_EXPRESS, "TIMEOUT": 0.3}
    fake_stripe.delay_next("/oauth/token", 1.0)
    response = callback(logged_in_client, code=fake_stripe.issue_code(), state=attempt.state)
    assert_failed(response, attempt, failures, Outcome.STRIPE_UNREACHABLE,
                  message="We could not reach Stripe. Please try again in a few minutes.")


def test_other_stripe_error(logged_in_client, attempt, fake_stripe, failures):
    fake_stripe.fail_next("/oauth/token", status=500,
                          error={"type": "api_error", "message": "Stripe fell over"})
    response = callback(logged_in_client, code=fake_stripe.issue_code(), state=attempt.state)
    # The library drops a 500's code; the body's type is kept for staff, as in
    # every flow (one reading of Stripe's errors: `stripe_api.failure`).
    assert_failed(response, attempt, failures, Outcome.STRIPE_ERROR, code="api_error",
                  message="Stripe reported an error. Please try again later.")
    assert attempt.error_description == "Stripe fell over"


def test_account_linked_to_another_user_is_never_moved(
    logged_in_client, attempt, other_user, fake_stripe, failures
):
    acct = fake_stripe.create_account()
    theirs = ExpressAccountFactory(user=other_user, stripe_id=acct["id"])

    response = callback(logged_in_client, code=fake_stripe.issue_code(acct["id"]),
                        state=attempt.state)

    assert_failed(
        response, attempt, failures, Outcome.ACCOUNT_ALREADY_LINKED,
        message="This Stripe account is already linked to another user or another account "
        "on this site. Please contact support.",
    )
    assert attempt.stripe_user_id == acct["id"]
    assert ExpressAccount.objects.get() == theirs
    theirs.refresh_from_db()
    assert theirs.user == other_user


def test_a_second_connected_account_in_the_same_mode_is_refused(
    logged_in_client, user, attempt, fake_stripe, failures
):
    mine = ExpressAccountFactory(user=user)
    response = callback(logged_in_client, code=fake_stripe.issue_code(), state=attempt.state)
    assert_failed(
        response, attempt, failures, Outcome.ACCOUNT_ALREADY_LINKED,
        message="This Stripe account is already linked to another user or another account "
        "on this site. Please contact support.",
    )
    assert list(ExpressAccount.objects.values_list("stripe_id", flat=True)) == [mine.stripe_id]
