"""Telling the platform's developers that Stripe refuses the platform's credentials.

A wrong, expired or revoked secret key (401), a restricted key without a
permission (403), a client id that is not the key's platform (OAuth
``invalid_client``): Stripe refuses every call the same way, the user can
only be told that payouts are not set up correctly, and trying again changes
nothing. So these failures are logged at ERROR with what Stripe said, its
request id (quote it to Stripe's support) and what to check. Other failures
keep their codes-only lines: their texts can echo request details.

Stripe masks keys in its messages itself ("Invalid API Key provided:
sk_test_****gkey"); whatever still looks like a key or a secret is masked
the same way before it is logged.
"""

from __future__ import annotations

import logging
import re

import stripe
from django.utils.translation import gettext_lazy
from stripe.oauth_error import InvalidClientError

from .disconnect import no_longer_connected
from .onboarding.outcomes import error_code

logger = logging.getLogger(__name__)

#: What the user reads: nothing they do helps, the platform must fix it.
MESSAGE = gettext_lazy(
    "Payouts with Stripe are not set up correctly on this site. Please contact support."
)

_SECRET = re.compile(r"\b((?:sk|rk|pk)_(?:test|live)_|whsec_)([A-Za-z0-9]+)")

_WHAT_TO_CHECK = {
    401: "STRIPE_EXPRESS['SECRET_KEY'] is wrong, expired or rolled, or from another account",
    403: "the restricted key (rk_...) lacks a permission this app needs, or the key cannot "
    "act for this account",
    "invalid_client": "STRIPE_EXPRESS['CLIENT_ID'] and SECRET_KEY are not the same "
    "platform's (or the mode differs)",
}


def mask_secrets(text: str) -> str:
    """``text`` with every key or secret in it masked as Stripe does (prefix, last four)."""

    def mask(match: re.Match[str]) -> str:
        prefix, rest = match.group(1), match.group(2)
        visible = rest[-4:] if len(rest) > 4 else ""
        return prefix + "*" * (len(rest) - len(visible)) + visible

    return _SECRET.sub(mask, text)


def problem(exc: BaseException) -> str | int | None:
    """What kind of configuration failure ``exc`` is (a key of `_WHAT_TO_CHECK`), or None."""
    if isinstance(exc, stripe.AuthenticationError):
        return 401
    if isinstance(exc, stripe.PermissionError):
        # account_invalid: the account is gone or revoked the platform, not a
        # configuration problem (`stripe_failures.is_gone`).
        return None if error_code(exc) == "account_invalid" else 403
    if isinstance(exc, InvalidClientError) and not no_longer_connected(exc):
        return "invalid_client"
    return None


def log_configuration_error(exc: BaseException, doing: str, account: str = "") -> bool:
    """Log ``exc`` at ERROR if Stripe refused the platform's credentials; whether it did."""
    kind = problem(exc)
    if kind is None:
        return False
    assert isinstance(exc, stripe.StripeError)
    logger.error(
        "Stripe refused this platform's credentials (%s) during %s: %s "
        "[http_status=%s request_id=%s account=%s]. Check: %s.",
        type(exc).__name__, doing, mask_secrets(str(exc.user_message or "")),
        exc.http_status or "-", exc.request_id or "-", account or "-", _WHAT_TO_CHECK[kind],
    )
    return True
