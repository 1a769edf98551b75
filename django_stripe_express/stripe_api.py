"""Talking to Stripe: the one client, and what every Stripe error means.

The host project may use `stripe` for its own purposes with other keys, so no
module global of `stripe` is ever set: every call goes through `get_client`.

What a failed call means is decided once, by `failure`, for the flows, the
webhooks, the sync command and the admin alike: the account is out of the
platform's reach (``gone``), Stripe refused the platform's credentials (the
user can only be told that payouts are not set up; the developers get an
ERROR line with Stripe's message, its request id and what to check), Stripe
is busy or unreachable (trying again later may work), or another error. Its
words for users and staff come with it.

Stripe masks keys in its messages itself ("Invalid API Key provided:
sk_test_****gkey"); whatever still looks like a key or a secret is masked
the same way before it is logged.
"""

from __future__ import annotations

import functools
import logging
import re
from dataclasses import dataclass
from typing import Any

import stripe
from django.utils.translation import gettext_lazy
from stripe.oauth_error import OAuthError

from .conf import app_settings

logger = logging.getLogger(__name__)


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


# What a failure is (`Failure.kind`).
GONE = "gone"  # the account was deleted, or its user revoked the platform's access
CREDENTIALS = "credentials"  # Stripe refuses the platform's key or client id
_RATE_LIMITED = "rate_limited"
UNREACHABLE = "unreachable"  # no answer: network, timeout, connection refused
KEY_IN_USE = "key_in_use"  # another request runs with this idempotency key
OAUTH = "oauth"  # an OAuth error (its code says which)
ERROR = "error"  # anything else Stripe refused

#: What the user reads when Stripe refuses the platform's credentials: nothing
#: they do helps, the platform must fix it.
MESSAGE = gettext_lazy(
    "Payouts with Stripe are not set up correctly on this site. Please contact support."
)
GONE_MESSAGE = gettext_lazy(
    "Your Stripe account is no longer connected to this site. "
    "Connect again to set up a new one."
)
_USER_MESSAGES = {
    CREDENTIALS: MESSAGE,
    GONE: GONE_MESSAGE,
    _RATE_LIMITED: gettext_lazy("Stripe is busy right now. Please try again in a minute."),
}
#: An account being created with the same key by another request (a double
#: click, a second tab): the next try gets it.
KEY_IN_USE_MESSAGE = gettext_lazy(
    "Your Stripe account is being set up in another window. Please try again in a moment."
)

_WHAT_TO_CHECK = {
    401: "STRIPE_EXPRESS['SECRET_KEY'] is wrong, expired or rolled, or from another account",
    403: "the restricted key (rk_...) lacks a permission this app needs, or the key cannot "
    "act for this account",
    "invalid_client": "STRIPE_EXPRESS['CLIENT_ID'] and SECRET_KEY are not the same "
    "platform's (or the mode differs)",
}


@dataclass(frozen=True)
class Failure:
    """What one exception from a Stripe call means."""

    kind: str
    #: Stripe's error code (or, when the library dropped it, what the body
    #: says), "" if none: for records and log lines.
    code: str = ""
    #: Stripe's own text: for staff records only (it can echo request values).
    description: str = ""
    #: Which of `_WHAT_TO_CHECK` a refused credential is.
    check: str | int | None = None
    #: The exception's class, for staff when Stripe said nothing.
    exception: str = ""
    #: Stripe's HTTP status (None: no answer).
    http_status: int | None = None

    @property
    def user_message(self) -> str | None:
        """The user's words for failures that have their own; None for the others
        (the caller says what failed)."""
        message = _USER_MESSAGES.get(self.kind)
        return None if message is None else str(message)

    @property
    def retryable(self) -> bool:
        """Trying again later may succeed (nothing was refused for good)."""
        return self.kind in (_RATE_LIMITED, UNREACHABLE, KEY_IN_USE)

    @property
    def retry_with_same_key(self) -> bool:
        """Whether the request may have done its work at Stripe although it failed
        here (no answer, a server error Stripe saves for the key, the key busy or
        refused): a request that moves money is then repeated with the SAME
        idempotency key, never a new one. Refused credentials and rate limits
        did nothing, and a retry with the same key is as safe."""
        return (
            self.retryable
            or self.kind == CREDENTIALS
            or (self.http_status or 0) >= 500
            or self.code == "idempotency_error"
        )

    @property
    def staff_text(self) -> str:
        """A short, secret-free description for staff (the admin's messages)."""
        if self.kind == UNREACHABLE:
            return str(gettext_lazy("Stripe could not be reached."))
        code = f" ({self.code})" if self.code else ""
        return f"{self.description or self.exception}{code}"


def failure(exc: BaseException) -> Failure:
    """What `exc`, raised by a Stripe call, means (see `_ladder`)."""
    meaning = _ladder(exc)
    status = getattr(exc, "http_status", None)
    return Failure(meaning.kind, meaning.code, meaning.description, meaning.check,
                   type(exc).__name__, status if isinstance(status, int) else None)


def _ladder(exc: BaseException) -> Failure:
    """What `exc`, raised by a Stripe call, means: the one ladder.

    Covers `stripe.StripeError` (OAuth errors included), and the raw
    `AttributeError` stripe 16 raises for an OAuth error code it does not know
    (it parses the body as a /v1 error and calls ``.get`` on a str: the code
    is lost with it).
    """
    if isinstance(exc, OAuthError):
        code, text = str(exc.code or ""), str(exc.user_message or "")
        if code == "invalid_client" and "not connected" in text:
            # The platform was already disconnected (a missed
            # `account.application.deauthorized`): "This application is not
            # connected to stripe account acct_..., or that account does not exist."
            return Failure(GONE, code, text)
        if code == "invalid_client":
            return Failure(CREDENTIALS, code, text, check="invalid_client")
        return Failure(OAUTH, code, text)
    if not isinstance(exc, stripe.StripeError):
        return Failure(OAUTH if isinstance(exc, AttributeError) else ERROR, "", str(exc))
    text = str(exc.user_message or "")
    if isinstance(exc, stripe.APIConnectionError):
        return Failure(UNREACHABLE, "", text)
    if isinstance(exc, stripe.RateLimitError):
        return Failure(_RATE_LIMITED, _stated_code(exc) or "rate_limit", text)
    code = _code(exc)
    if isinstance(exc, stripe.AuthenticationError):
        return Failure(CREDENTIALS, code, text, check=401)
    if isinstance(exc, stripe.PermissionError):
        # 403 `account_invalid` is Stripe's answer for an account whose user
        # revoked the platform's access or that was deleted ("The provided key
        # ... does not have access to account ... Application access may have
        # been revoked."); other 403s are a restricted key without a permission.
        if code == "account_invalid":
            return Failure(GONE, code, text)
        return Failure(CREDENTIALS, code, text, check=403)
    if isinstance(exc, stripe.InvalidRequestError) and code in (
        "resource_missing",  # where an account id is a parameter
        "account_invalid",
    ):
        return Failure(GONE, code, text)
    if code == "idempotency_key_in_use":
        return Failure(KEY_IN_USE, code, text)
    return Failure(ERROR, code, text)


def _code(exc: stripe.StripeError) -> str:
    """Stripe's error code, wherever the library put it (or dropped it).

    stripe 16 passes the body's ``code`` to some exception classes only: for a
    403 or a 409 it is on the parsed error object; for HTTP 429 and 5xx, and
    an ``idempotency_error``, only the body has it (its ``code``, else its
    ``type`` when that says more than ``invalid_request_error``).
    """
    stated = _stated_code(exc)
    if stated:
        return stated
    body: dict[str, Any] = exc.json_body if isinstance(exc.json_body, dict) else {}
    error = body.get("error")
    if not isinstance(error, dict):
        return ""
    kind = str(error.get("type") or "")
    return str(error.get("code") or (kind if kind != "invalid_request_error" else ""))


def _stated_code(exc: stripe.StripeError) -> str:
    if exc.code:
        return str(exc.code)
    return str(exc.error.code or "") if exc.error is not None else ""


def is_gone(exc: BaseException) -> bool:
    """Stripe says the platform cannot reach the account any more."""
    return failure(exc).kind == GONE


_SECRET = re.compile(r"\b((?:sk|rk|pk)_(?:test|live)_|whsec_)([A-Za-z0-9]+)")


def mask_secrets(text: str) -> str:
    """``text`` with every key or secret in it masked as Stripe does (prefix, last four)."""

    def mask(match: re.Match[str]) -> str:
        prefix, rest = match.group(1), match.group(2)
        visible = rest[-4:] if len(rest) > 4 else ""
        return prefix + "*" * (len(rest) - len(visible)) + visible

    return _SECRET.sub(mask, text)


def log_configuration_error(exc: BaseException, doing: str, account: str = "") -> bool:
    """Log ``exc`` at ERROR if Stripe refused the platform's credentials; whether it did.

    Only these failures carry Stripe's message into the log: the user can do
    nothing, trying again changes nothing, and the developers need the text
    and the request id (quote it to Stripe's support).
    """
    meaning = failure(exc)
    if meaning.kind != CREDENTIALS or meaning.check is None:
        return False
    logger.error(
        "Stripe refused this platform's credentials (%s) during %s: %s "
        "[http_status=%s request_id=%s account=%s]. Check: %s.",
        type(exc).__name__, doing, mask_secrets(meaning.description),
        getattr(exc, "http_status", None) or "-", getattr(exc, "request_id", None) or "-",
        account or "-", _WHAT_TO_CHECK[meaning.check],
    )
    return True
