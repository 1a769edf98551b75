"""The bodies of the errors a test plans (`FakeStripe.fail_next`), in the format
of the endpoint they stand for: Connect OAuth, ``/v2`` or ``/v1``.

When a test names only the status, each gets the code and message Stripe
sends with it, so that the app's handling meets what production would.
"""

from __future__ import annotations

from typing import Any

from . import objects, objects_v2

DEFAULT_MESSAGES = {
    401: "Invalid API Key provided.",
    402: "Your card was declined.",
    403: "The provided key does not have access to this resource.",
    404: "Unrecognized request URL.",
    409: "This object cannot be accessed right now because another API request or Stripe "
    "process is currently accessing it. If you see this error intermittently, retry the "
    "request.",
    429: "Request rate limit exceeded. Learn more about rate limits here "
    "https://stripe.com/docs/rate-limits.",
    500: "An unknown error occurred",
}
FALLBACK_MESSAGE = "Forced error from the fake Stripe."


def error_body(
    endpoint: str, status: int, error: dict[str, Any] | None, code: str | None, message: str | None
) -> dict[str, Any]:
    """``error`` (the whole body or its inner hash) as a body; else one built from
    ``code`` and ``message`` for ``endpoint``'s family."""
    if error is not None:
        if "error" in error:
            return error
        return {"error": error}
    if "/oauth" in endpoint:
        oauth_code = code or ("invalid_client" if status == 401 else "invalid_request")
        return objects.oauth_error(oauth_code, message or f"Forced error: {oauth_code}")
    text = message or DEFAULT_MESSAGES.get(status, FALLBACK_MESSAGE)
    if "/v2/" in endpoint:
        # v2 errors name their kind in `type`: `rate_limit` for 429, as Stripe.
        type_ = {429: "rate_limit", 500: "api_error"}.get(status, "invalid_request_error")
        return objects_v2.error(text, type_=type_, code=code)
    type_ = {402: "card_error", 500: "api_error"}.get(status, "invalid_request_error")
    default_code = {402: "card_declined", 409: "lock_timeout", 429: "rate_limit"}.get(status)
    return objects.api_error(text, type_=type_, code=code or default_code)
