"""Stripe failures on the platform-created flows' paths: a message, a record, no 500.

Inside an onboarding attempt (`fail`) the record is the attempt's outcome,
through the shared `outcomes.fail_attempt`; elsewhere (refresh, return, login
link: `report_stripe_error`; the Account Session, which answers JSON) it is a
log line with codes and ids only (`log_failure`). What the user reads is
decided once, in `failure_message`. An
account the platform can no longer reach (`is_gone`: revoked, deleted) is
marked disconnected (`mark_gone`), so that it never blocks the next try:
``start`` replaces it, and the user can connect again.
"""

from __future__ import annotations

import logging
from typing import Any

import stripe
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from ..diagnostics import MESSAGE as CONFIGURATION_MESSAGE
from ..diagnostics import log_configuration_error
from ..disconnect import disconnect_account
from ..landing import failure_url
from ..models import ConnectAttempt, ExpressAccount
from .outcomes import error_code, fail_attempt, message_for, stripe_error_outcome

logger = logging.getLogger(__name__)

GONE_MESSAGE = gettext_lazy(
    "Your Stripe account is no longer connected to this site. "
    "Connect again to set up a new one."
)


def is_gone(exc: stripe.StripeError) -> bool:
    """Stripe says the platform cannot reach the account any more.

    For an account whose user revoked the platform's access, or that was
    deleted, Stripe answers 403 ``account_invalid`` ("The provided key ... does
    not have access to account ... (or that account does not exist).
    Application access may have been revoked."): a `stripe.PermissionError`.
    ``resource_missing`` (404) is the answer where an account id is a
    parameter. Other 403s (a restricted key without a permission) are not.
    """
    if isinstance(exc, stripe.PermissionError):
        return error_code(exc) == "account_invalid"
    return isinstance(exc, stripe.InvalidRequestError) and exc.code in (
        "resource_missing",
        "account_invalid",
    )


def mark_gone(account: ExpressAccount, request: HttpRequest | None = None) -> bool:
    """Mark an account the platform can no longer reach as disconnected.

    Otherwise the row would point at nothing forever and block the user: a
    disconnected account is replaced by a new one on the next ``start``, and
    the button offers to connect again. Whether it was connected until now.
    """
    if account.deauthorized_at is not None:
        return False
    logger.warning("Stripe Express account %s is no longer reachable: marked disconnected",
                   account.stripe_id)
    disconnect_account(account, via_oauth=False, request=request)
    return True


def _fallback_code(exc: stripe.StripeError) -> str:
    """Stripe's code when the library dropped it: staff still want to see it.

    stripe 16 drops the body's code for HTTP 429 and 5xx, and an
    ``idempotency_error`` has none: the body's ``code``, else its ``type``
    when that says more than ``invalid_request_error``.
    """
    if isinstance(exc, stripe.RateLimitError):
        return "rate_limit"
    body: dict[str, Any] = exc.json_body if isinstance(exc.json_body, dict) else {}
    error = body.get("error")
    if not isinstance(error, dict):
        return ""
    kind = str(error.get("type") or "")
    return str(error.get("code") or (kind if kind != "invalid_request_error" else ""))


def log_failure(
    exc: stripe.StripeError,
    account: ExpressAccount | None,
    doing: str,
    log: logging.Logger = logger,
) -> str:
    """One WARNING line for a Stripe failure; its outcome (see `outcomes`).

    Codes and ids only: Stripe's texts can echo request parameters (a refused
    key is logged with Stripe's message too, by `log_configuration_error`).
    """
    outcome, code, _description = stripe_error_outcome(exc)
    code = code or _fallback_code(exc)
    log.warning(
        "Stripe Express %s failed: outcome=%s code=%s http_status=%s account=%s request_id=%s",
        doing, outcome, code or "-", getattr(exc, "http_status", None) or "-",
        account.stripe_id if account else "-", exc.request_id or "-",
    )
    return outcome


def failure_message(
    request: HttpRequest, exc: stripe.StripeError, account: ExpressAccount | None, doing: str
) -> str | None:
    """The user's message for the failures that have one of their own, after what
    each entails; None for the others.

    Stripe refused the platform's credentials (logged at ERROR: only the
    platform can fix it), the account is out of the platform's reach (marked
    disconnected), Stripe is rate limiting.
    """
    if log_configuration_error(exc, doing, account.stripe_id if account else ""):
        return str(CONFIGURATION_MESSAGE)
    if account is not None and is_gone(exc):
        mark_gone(account, request)
        return str(GONE_MESSAGE)
    if isinstance(exc, stripe.RateLimitError):
        return _("Stripe is busy right now. Please try again in a minute.")
    return None


def report_stripe_error(
    request: HttpRequest,
    exc: stripe.StripeError,
    account: ExpressAccount | None,
    *,
    doing: str,
    message: str | None = None,
) -> None:
    """Message and log line for a Stripe failure outside an onboarding attempt."""
    outcome = log_failure(exc, account, doing)
    text = failure_message(request, exc, account, doing)
    if text is None:
        unreachable = isinstance(exc, stripe.APIConnectionError)
        text = message_for(outcome) if unreachable or message is None else message
    messages.error(request, text, fail_silently=True)


def fail(
    request: HttpRequest, attempt: ConnectAttempt, exc: stripe.StripeError,
    account: ExpressAccount | None = None,
) -> HttpResponse:
    """End ``attempt`` with the outcome for ``exc``; the redirect back to where the
    user started (``FAILURE_URL`` without a ``next``)."""
    outcome, code, description = stripe_error_outcome(exc)
    code = code or _fallback_code(exc)
    message = failure_message(request, exc, account, "onboarding")
    if message is None and code == "idempotency_key_in_use":
        # A double click or a second tab: the other request is creating the
        # account with the same key, and the next try gets it.
        message = _("Your Stripe account is being set up in another window. "
                    "Please try again in a moment.")
    fail_attempt(request, attempt, outcome, error_code=code, description=description,
                 message=message)
    return redirect(failure_url(attempt.next_url))
