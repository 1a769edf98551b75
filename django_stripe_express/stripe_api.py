"""The one place that builds the `stripe.StripeClient` this app talks through.

The host project may use `stripe` for its own purposes with other keys, so no
module global of `stripe` is ever set: every call goes through this client.
"""
# diagnostics.py: Telling the platform's developers that Stripe refuses the platform's credentials.

from __future__ import annotations

import functools
import logging
import re
from typing import Any

import stripe
from django.utils.translation import gettext_lazy
from stripe.oauth_error import InvalidClientError, OAuthError

from .conf import app_settings


def get_client() -> stripe.StripeClient:
    """A client configured from the current settings (cached per configuration)."""
    return _build_client(
        api_key=app_settings.SECRET_KEY,
        client_id=app_settings.raw.get("CLIENT_ID") or None,
        api_base=app_settings.API_BASE,
        connect_base=app_settings.CONNECT_BASE,
        max_network_retries=app_settings.MAX_NETWORK_RETRIES,
        timeout=app_settings.TIMEOUT,
        stripe_version=app_settings.STRIPE_VERSION,
    )


@functools.lru_cache(maxsize=8)
def _build_client(
    *,
    api_key: str,
    client_id: str | None,
    api_base: str,
    connect_base: str,
    max_network_retries: int,
    timeout: float,
    stripe_version: str | None,
) -> stripe.StripeClient:
    # Settings are read on every call; the client, with its HTTP session, is
    # reused for as long as they stay the same.
    return stripe.StripeClient(
        api_key,
        client_id=client_id,
        base_addresses={"api": api_base, "connect": connect_base},
        max_network_retries=max_network_retries,
        stripe_version=stripe_version,
        http_client=stripe.RequestsClient(timeout=timeout),
    )


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


def error_code(exc: stripe.StripeError) -> str:
    """Stripe's error code for `exc`, or "".

    stripe 16 only passes the body's ``code`` to some exception classes; for a
    403 (`PermissionError`) or a 409 it is on the parsed error object only.
    """
    if exc.code:
        return str(exc.code)
    return str(exc.error.code or "") if exc.error is not None else ""


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


def no_longer_connected(exc: OAuthError) -> bool:
    """Stripe's answer when the platform was already disconnected (a missed
    ``account.application.deauthorized`` event): invalid_client "This
    application is not connected to stripe account acct_..., or that account
    does not exist."""
    return exc.code == "invalid_client" and "not connected" in str(exc.user_message or "")
