"""Ending an onboarding attempt that failed, the same way in both flows.

A failure always leaves three things behind: the outcome and Stripe's error on
the `ConnectAttempt` (for support staff), a message the user understands, and
the `connect_failed` signal (for the host project). Callers then redirect to
`FAILURE_URL`; nothing here raises.
"""

from __future__ import annotations

import logging

import stripe
from django.contrib import messages
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from stripe.oauth_error import OAuthError

from ..models import ConnectAttempt, ExpressAccount
from ..signals import connect_failed, notify

logger = logging.getLogger(__name__)

Outcome = ConnectAttempt.Outcome

# What the user reads for each outcome. Worded for the user, not for staff:
# Stripe's own description is kept on the attempt, never shown.
MESSAGES = {
    Outcome.DECLINED: _("You cancelled connecting your Stripe account. Nothing was changed."),
    Outcome.OAUTH_ERROR: _("Stripe could not connect your account. Please try again."),
    Outcome.INVALID_GRANT: _(
        "This Stripe connection link has expired or was already used. Please start again."
    ),
    Outcome.INVALID_CLIENT: _(
        "Connecting Stripe accounts is not set up correctly on this site. "
        "Please contact support."
    ),
    Outcome.INVALID_REQUEST: _("Stripe could not connect your account. Please try again."),
    Outcome.CAPABILITY_NOT_GRANTED: _(
        "Your Stripe account cannot be used here yet: it lacks a capability this site "
        "needs. Please finish your Stripe setup and try again."
    ),
    Outcome.EXPIRED: _("This connection attempt has expired. Please start again."),
    Outcome.STATE_REUSED: _("This connection attempt was already completed."),
    Outcome.WRONG_USER: _("This connection attempt was started by another user."),
    Outcome.ACCOUNT_ALREADY_LINKED: _(
        "This Stripe account is already linked to another user or another account on "
        "this site. Please contact support."
    ),
    Outcome.STRIPE_UNREACHABLE: _(
        "We could not reach Stripe. Please try again in a few minutes."
    ),
    Outcome.STRIPE_ERROR: _("Stripe reported an error. Please try again later."),
}
DEFAULT_MESSAGE = _("Your Stripe account could not be connected. Please try again.")

# Stripe's OAuth error codes with an outcome of their own.
_OAUTH_CODES = {
    "access_denied": Outcome.DECLINED,
    "invalid_grant": Outcome.INVALID_GRANT,
    "invalid_client": Outcome.INVALID_CLIENT,
    "invalid_request": Outcome.INVALID_REQUEST,
}


def message_for(outcome: str) -> str:
    """The translated message a user sees for `outcome`."""
    return str(MESSAGES.get(outcome, DEFAULT_MESSAGE))  # type: ignore[call-overload]


def oauth_error_outcome(code: str, description: str = "") -> str:
    """The outcome for an OAuth error `code` (redirect or token endpoint)."""
    if code == "invalid_request" and "capabilit" in description.lower():
        # A failed `assert_capabilities`: Stripe says invalid_request and names
        # the capabilities in the description.
        return Outcome.CAPABILITY_NOT_GRANTED
    return _OAUTH_CODES.get(code, Outcome.OAUTH_ERROR)


def error_code(exc: stripe.StripeError) -> str:
    """Stripe's error code for `exc`, or "".

    stripe 16 only passes the body's ``code`` to some exception classes; for a
    403 (`PermissionError`) or a 409 it is on the parsed error object only.
    """
    if exc.code:
        return str(exc.code)
    return str(exc.error.code or "") if exc.error is not None else ""


def stripe_error_outcome(exc: BaseException) -> tuple[str, str, str]:
    """``(outcome, error_code, description)`` for an exception from a Stripe call.

    Covers `stripe.oauth_error.OAuthError` subclasses, `APIConnectionError`
    (unreachable, timeouts), any other `StripeError`, and the raw
    `AttributeError` stripe 16 raises for an OAuth error code it does not know.
    Anything else is the caller's bug and should not be passed here.
    """
    if isinstance(exc, OAuthError):
        code = str(exc.code or "")
        description = str(exc.user_message or "")
        return oauth_error_outcome(code, description), code, description
    if isinstance(exc, stripe.APIConnectionError):
        return Outcome.STRIPE_UNREACHABLE, "", str(exc.user_message or "")
    if isinstance(exc, stripe.StripeError):
        return Outcome.STRIPE_ERROR, error_code(exc), str(exc.user_message or "")
    if isinstance(exc, AttributeError):
        # stripe 16 knows six OAuth codes; for any other (e.g. `access_denied`)
        # it parses the body as a /v1 error and calls `.get` on a str. The
        # code is lost with it.
        return Outcome.OAUTH_ERROR, "", str(exc)
    return Outcome.STRIPE_ERROR, "", str(exc)


def fail_attempt(
    request: HttpRequest,
    attempt: ConnectAttempt | None,
    outcome: str,
    *,
    error_code: str = "",
    description: str = "",
    message: str | None = None,
) -> None:
    """Record `outcome` on `attempt`, tell the user, send `connect_failed`.

    `attempt` may be ``None`` (no attempt matched). Only a pending attempt is
    changed: one that already ended keeps its first outcome. `message`
    overrides the standard user message for `outcome`.
    """
    if attempt is not None and attempt.pk and attempt.is_pending:
        attempt.outcome = outcome
        attempt.error_code = error_code[:255]
        attempt.error_description = description
        attempt.finished_at = timezone.now()
        attempt.save(
            update_fields=[
                "outcome", "error_code", "error_description", "finished_at", "stripe_user_id"
            ]
        )
    # Codes only: descriptions can echo request details.
    logger.info(
        "Stripe Express onboarding failed: outcome=%s code=%s attempt=%s",
        outcome, error_code or "-", attempt.pk if attempt is not None else "-",
    )
    messages.error(request, message or message_for(outcome), fail_silently=True)
    notify(
        connect_failed,
        f"failed attempt {attempt.pk if attempt is not None else '-'}",
        sender=ExpressAccount,
        attempt=attempt,
        user=getattr(request, "user", None),
        request=request,
        outcome=str(outcome),
        error_code=error_code,
        error_description=description,
    )
