"""`outcomes`: how Stripe's exceptions map to recorded outcomes (shared by both flows)."""

from __future__ import annotations

import pytest
import stripe
from django.contrib.messages import get_messages
from django.contrib.messages.storage.fallback import FallbackStorage
from django.test import RequestFactory
from stripe import oauth_error

from django_stripe_express.models import ConnectAttempt
from django_stripe_express.onboarding.common import (
    fail_attempt,
    oauth_error_outcome,
    stripe_error_outcome,
)

from .factories import ConnectAttemptFactory

Outcome = ConnectAttempt.Outcome


@pytest.mark.parametrize(
    ("exc", "expected"),
    [
        (oauth_error.InvalidGrantError("invalid_grant", "Code used"),
         (Outcome.INVALID_GRANT, "invalid_grant", "Code used")),
        (oauth_error.InvalidClientError("invalid_client", "No such app"),
         (Outcome.INVALID_CLIENT, "invalid_client", "No such app")),
        (oauth_error.InvalidRequestError("invalid_request", "No code"),
         (Outcome.INVALID_REQUEST, "invalid_request", "No code")),
        (oauth_error.InvalidRequestError(
            "invalid_request", "The account does not have the asserted capabilities"),
         (Outcome.CAPABILITY_NOT_GRANTED, "invalid_request",
          "The account does not have the asserted capabilities")),
        (oauth_error.InvalidScopeError("invalid_scope", "Bad scope"),
         (Outcome.OAUTH_ERROR, "invalid_scope", "Bad scope")),
        (stripe.APIConnectionError("Connection refused"),
         (Outcome.STRIPE_UNREACHABLE, "", "Connection refused")),
        (stripe.InvalidRequestError("No such account", "account", code="resource_missing"),
         (Outcome.STRIPE_ERROR, "resource_missing", "No such account")),
        (AttributeError("'str' object has no attribute 'get'"),
         (Outcome.OAUTH_ERROR, "", "'str' object has no attribute 'get'")),
    ],
)
def test_stripe_error_outcome(exc, expected):
    assert stripe_error_outcome(exc) == expected


def test_oauth_error_outcome_for_redirect_errors():
    assert oauth_error_outcome("access_denied") == Outcome.DECLINED
    assert oauth_error_outcome("invalid_scope") == Outcome.OAUTH_ERROR


def _request(user):
    request = RequestFactory().get("/")
    request.user = user
    request.session = {}
    request._messages = FallbackStorage(request)
    return request


def test_fail_attempt_keeps_the_first_outcome(user):
    attempt = ConnectAttemptFactory(user=user)
    request = _request(user)
    fail_attempt(request, attempt, Outcome.STRIPE_ERROR, error_code="api_error",
                 description="boom")
    fail_attempt(request, attempt, Outcome.DECLINED)
    attempt.refresh_from_db()
    assert (attempt.outcome, attempt.error_code, attempt.error_description) == (
        Outcome.STRIPE_ERROR, "api_error", "boom",
    )
    assert [str(m) for m in get_messages(request)] == [
        "Stripe reported an error. Please try again later.",
        "You cancelled connecting your Stripe account. Nothing was changed.",
    ]


def test_fail_attempt_without_attempt_or_messages(user):
    request = RequestFactory().get("/")
    request.user = user
    fail_attempt(request, None, Outcome.STRIPE_ERROR)  # no messages middleware: no crash
