"""From an HTTP request to an HTTP answer for Stripe (the view stays one line)."""

from __future__ import annotations

import logging

from django.http import HttpRequest, HttpResponse

from ..conf import WEBHOOK_PROCESSING_TASK, app_settings
from .event import parse_event
from .process import Answer, process_event, queue_event
from .signature import InvalidWebhook, verify_signature

logger = logging.getLogger("django_stripe_express.webhooks")

TEXT = "text/plain; charset=utf-8"


def handle_delivery(payload: bytes, signature_header: str | None) -> Answer:
    """Verify, parse, then apply (or queue) one delivery; `InvalidWebhook` (a 400)
    when it is not a genuine Stripe event."""
    verify_signature(
        payload, signature_header, app_settings.WEBHOOK_SECRETS, app_settings.WEBHOOK_TOLERANCE
    )
    event = parse_event(payload)
    if app_settings.WEBHOOK_PROCESSING == WEBHOOK_PROCESSING_TASK:
        return queue_event(event)
    return process_event(event)


def read_body(request: HttpRequest, limit: int) -> bytes | None:
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
    body = read_body(request, limit)
    if body is None:
        logger.warning("Webhook rejected: body larger than WEBHOOK_MAX_BODY_SIZE (%d)", limit)
        return HttpResponse("payload too large", status=413, content_type=TEXT)
    try:
        answer = handle_delivery(body, request.headers.get("Stripe-Signature"))
    except InvalidWebhook as exc:
        detail = f" ({exc.log_detail})" if exc.log_detail else ""
        logger.warning("Webhook rejected: %s%s", exc.reason, detail)
        return HttpResponse(exc.reason, status=400, content_type=TEXT)
    return HttpResponse(answer.message, status=answer.status_code, content_type=TEXT)
