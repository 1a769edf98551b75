"""The OAuth state: CSRF protection for the callback, consumed exactly once.

A bad state gets an HTTP 400 page and no code exchange: nothing reaches Stripe,
nothing is stored. The page never tells an unknown state from another user's.
"""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone

from django_stripe_express.models import ConnectAttempt, ExpressAccount
from django_stripe_express.signals import connect_failed

from .factories import ConnectAttemptFactory
from .oauth_support import back_to_app, callback, query_of, start, submit_hosted_page

Outcome = ConnectAttempt.Outcome
NOT_VALID = "This connection link is not valid for your session"
EXPIRED = "This connection link has expired."


@pytest.fixture
def failures(capture_signal):
    return capture_signal(connect_failed)


def assert_refused(response, text):
    assert response.status_code == 400
    assert response.templates[0].name == "django_stripe_express/callback_error.html"
    assert text in response.content.decode()
    assert 'href="/stripe/connect/"' in response.content.decode()


@pytest.mark.parametrize("params", [{}, {"state": ""}, {"state": "forged-state-value"}])
def test_missing_or_forged_state(logged_in_client, fake_stripe, params, failures):
    response = callback(logged_in_client, code=fake_stripe.issue_code(), **params)
    assert_refused(response, NOT_VALID)
    assert fake_stripe.requests_to("/oauth/token") == []
    assert not ExpressAccount.objects.exists()
    assert not ConnectAttempt.objects.exists()
    assert failures == []


def test_forged_state_with_a_declined_error_is_refused_too(logged_in_client, user, fake_stripe):
    attempt = ConnectAttemptFactory(user=user)
    response = callback(logged_in_client, state="forged", error="access_denied")
    assert_refused(response, NOT_VALID)
    attempt.refresh_from_db()
    assert attempt.outcome == Outcome.PENDING  # the real attempt is untouched


def test_state_of_user_a_cannot_complete_for_user_b(
    client, user, other_user, fake_stripe, failures
):
    # A starts and finishes on Stripe; B (the victim of a login CSRF, or an
    # attacker holding A's link) arrives with A's state and code.
    client.force_login(user)
    location = submit_hosted_page(start(client))
    client.force_login(other_user)

    response = back_to_app(client, location)

    assert_refused(response, NOT_VALID)
    assert fake_stripe.requests_to("/oauth/token") == []
    assert not ExpressAccount.objects.exists()
    attempt = ConnectAttempt.objects.get()
    assert attempt.user == user
    assert attempt.outcome == Outcome.WRONG_USER  # leaked: burnt, and recorded for staff
    assert [(f["attempt"], f["user"], f["outcome"]) for f in failures] == [
        (attempt, other_user, Outcome.WRONG_USER)
    ]
    # A's own redirect is now refused as well (the same page as for anyone).
    client.force_login(user)
    assert_refused(back_to_app(client, location), NOT_VALID)
    assert not ExpressAccount.objects.exists()


def test_wrong_user_and_unknown_state_look_the_same(client, user, other_user, fake_stripe):
    attempt = ConnectAttemptFactory(user=user)
    client.force_login(other_user)
    theirs = callback(client, state=attempt.state, code="ac_x")
    unknown = callback(client, state="no-such-state", code="ac_x")
    assert (theirs.status_code, theirs.content) == (unknown.status_code, unknown.content)


def test_expired_state(logged_in_client, user, fake_stripe, failures):
    attempt = ConnectAttemptFactory(
        user=user, expires_at=timezone.now() - datetime.timedelta(seconds=1)
    )
    response = callback(logged_in_client, state=attempt.state, code=fake_stripe.issue_code())
    assert_refused(response, EXPIRED)
    attempt.refresh_from_db()
    assert attempt.outcome == Outcome.EXPIRED
    assert attempt.finished_at is not None
    assert fake_stripe.requests_to("/oauth/token") == []
    assert not ExpressAccount.objects.exists()
    assert [f["outcome"] for f in failures] == [Outcome.EXPIRED]


def test_state_is_consumed_once(logged_in_client, fake_stripe, failures):
    location = submit_hosted_page(start(logged_in_client))
    assert back_to_app(logged_in_client, location)["Location"] == "/dashboard/"

    replay = back_to_app(logged_in_client, location)

    assert_refused(replay, NOT_VALID)
    assert len(fake_stripe.requests_to("/oauth/token")) == 1
    assert ConnectAttempt.objects.get().outcome == Outcome.CONNECTED  # first outcome kept
    assert ExpressAccount.objects.count() == 1
    assert failures == []


def test_a_failed_attempt_cannot_be_retried_with_its_state(logged_in_client, fake_stripe):
    location = submit_hosted_page(start(logged_in_client), action="decline")
    back_to_app(logged_in_client, location)
    attempt = ConnectAttempt.objects.get()
    state = query_of(location)["state"][0]
    response = callback(logged_in_client, state=state, code=fake_stripe.issue_code())
    assert_refused(response, NOT_VALID)
    attempt.refresh_from_db()
    assert attempt.outcome == Outcome.DECLINED


def test_account_links_attempt_state_is_not_an_oauth_state(logged_in_client, user, fake_stripe):
    attempt = ConnectAttemptFactory(user=user, flow=ConnectAttempt.Flow.ACCOUNT_LINKS)
    response = callback(logged_in_client, state=attempt.state, code=fake_stripe.issue_code())
    assert_refused(response, NOT_VALID)
    attempt.refresh_from_db()
    assert attempt.outcome == Outcome.PENDING
