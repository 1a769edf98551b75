"""From an HTTP request to an HTTP answer for Stripe (the view stays one line)."""

from __future__ import annotations

import logging

from django.http import HttpRequest, HttpResponse

from ..conf import app_settings
from .errors import InvalidWebhook
from .process import handle_delivery

logger = logging.getLogger("django_stripe_express.webhooks")

TEXT = "text/plain; charset=utf-8"


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
        outcome = handle_delivery(body, request.headers.get("Stripe-Signature"))
    except InvalidWebhook as exc:
        detail = f" ({exc.log_detail})" if exc.log_detail else ""
        logger.warning("Webhook rejected: %s%s", exc.reason, detail)
        return HttpResponse(exc.reason, status=400, content_type=TEXT)
    return HttpResponse(outcome.message, status=outcome.status_code, content_type=TEXT)
