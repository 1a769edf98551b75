"""From an HTTP request to an HTTP answer for Stripe: the body's size, the
signature, then the event handed to `store` (inline) or to a task (`tasks`).

Stripe sends ``Stripe-Signature: t=<unix time>,v1=<hex>[,v1=<hex>...]`` where
each ``v1`` is HMAC-SHA256 of ``b"<t>." + body`` under the endpoint's signing
secret, checked here in constant time. Several ``v1`` appear while Stripe
rolls a secret, and the app accepts several secrets because a Connect
endpoint, the platform endpoint and an event destination sign with different
ones. Nothing here ever logs or returns a secret or a signature.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import time
from collections.abc import Sequence

from django.http import HttpRequest, HttpResponse

from ..conf import WEBHOOK_PROCESSING_TASK, app_settings
from .rules import InvalidWebhook, parse_event
from .store import Answer, process_event, queue_event

_SCHEME = "v1"


def parse_header(header: str) -> tuple[int | None, list[str]]:
    """The timestamp and the ``v1`` signatures of a ``Stripe-Signature`` value."""
    timestamp: int | None = None
    signatures: list[str] = []
    for item in header.split(","):
        key, sep, value = item.strip().partition("=")
        if not sep:
            continue
        if key == "t":
            try:
                timestamp = int(value)
            except ValueError:
                timestamp = None
        elif key == _SCHEME:
            signatures.append(value)
    return timestamp, signatures


def _expected_signature(payload: bytes, secret: str, timestamp: int) -> str:
    message = str(timestamp).encode() + b"." + payload
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def verify_signature(
    payload: bytes,
    header: str | None,
    secrets: Sequence[str],
    tolerance: int,
    now: float | None = None,
) -> None:
    """Raise `InvalidWebhook` naming the failed check unless a secret signed `payload`."""
    if not header:
        raise InvalidWebhook("missing Stripe-Signature header")
    timestamp, signatures = parse_header(header)
    if timestamp is None:
        raise InvalidWebhook("no timestamp in Stripe-Signature header")
    if not signatures:
        raise InvalidWebhook("no v1 signature in Stripe-Signature header")
    if not secrets:
        raise InvalidWebhook(
            "no signature matched",
            log_detail=(
                "STRIPE_EXPRESS['WEBHOOK_SECRETS'] is empty: no delivery can be verified; add "
                "the signing secret of the event destination for thin events and of the "
                "Connect webhook endpoint"
            ),
        )
    if not _any_match(payload, timestamp, signatures, secrets):
        raise InvalidWebhook(
            "no signature matched",
            log_detail=(
                f"no v1 signature matched any of the {len(secrets)} configured "
                "secret(s); Connect endpoints have their own signing secret, distinct "
                "from the platform endpoint's, and so does the event destination for thin "
                "events: add it to STRIPE_EXPRESS['WEBHOOK_SECRETS']"
            ),
        )
    # Checked after the signature so the log tells a replay or a skewed clock
    # (genuine but old) apart from a forgery.
    age = (time.time() if now is None else now) - timestamp
    if tolerance > 0 and age > tolerance:
        raise InvalidWebhook(
            "timestamp outside the tolerance",
            log_detail=f"signed {int(age)}s ago, tolerance is {tolerance}s (replay or clock skew)",
        )


def _any_match(
    payload: bytes, timestamp: int, signatures: list[str], secrets: Sequence[str]
) -> bool:
    # Every comparison runs, so timing says nothing about which secret or
    # signature came close.
    matched = False
    for secret in secrets:
        expected = _expected_signature(payload, secret, timestamp)
        for signature in signatures:
            if hmac.compare_digest(expected.encode(), signature.encode("utf-8", "replace")):
                matched = True
    return matched


logger = logging.getLogger("django_stripe_express.webhooks")

_TEXT = "text/plain; charset=utf-8"


def handle_delivery(payload: bytes, signature_header: str | None) -> Answer:
    """Verify, parse, then apply (or queue) one delivery; `InvalidWebhook` (a 400)
    when it is not a genuine Stripe event."""
    verify_signature(
        payload, signature_header, app_settings.WEBHOOK_SECRETS, app_settings.WEBHOOK_TOLERANCE
    )
    event = parse_event(payload)
    if app_settings.WEBHOOK_PROCESSING == WEBHOOK_PROCESSING_TASK:
        return queue_event(event, _enqueue_task)
    return process_event(event)


def _enqueue_task(event_id: str) -> None:
    # Imported here, in "task" mode only: inline deployments need no Tasks framework.
    from ..tasks import process_webhook_event

    process_webhook_event.enqueue(event_id)


def _read_body(request: HttpRequest, limit: int) -> bytes | None:
    """The body, or None when it is larger than `limit` bytes (never reads more)."""
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        declared = 0
    if declared > limit:
        return None
    body = request.read(limit + 1)
    return None if len(body) > limit else body


def webhook_response(request: HttpRequest) -> HttpResponse:
    limit = app_settings.WEBHOOK_MAX_BODY_SIZE
    body = _read_body(request, limit)
    if body is None:
        logger.warning("Webhook rejected: body larger than WEBHOOK_MAX_BODY_SIZE (%d)", limit)
        return HttpResponse("payload too large", status=413, content_type=_TEXT)
    try:
        answer = handle_delivery(body, request.headers.get("Stripe-Signature"))
    except InvalidWebhook as exc:
        detail = f" ({exc.log_detail})" if exc.log_detail else ""
        logger.warning("Webhook rejected: %s%s", exc.reason, detail)
        return HttpResponse(exc.reason, status=400, content_type=_TEXT)
    return HttpResponse(answer.message, status=answer.status_code, content_type=_TEXT)
