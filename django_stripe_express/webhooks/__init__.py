"""Stripe webhooks: one short path per delivery.

``http.webhook_response`` (the view's body, served as ``webhook`` and
``thin_webhook``) -> ``signature.verify_signature`` -> ``event.parse_event``
(the one place that knows payload families: snapshot events and thin event
notifications) -> ``process.process_event``: ``apply.apply_locked`` (in one
transaction: the account read locked, ``handlers.decide`` in Python, the
account saved, the event's row written by ``record.record``), or first
``fetched.process_fetched`` for events applied with Stripe's data (thin
events, ``WEBHOOK_REFETCH_ACCOUNT``: the fetch outside any transaction) ->
signals after commit. With ``WEBHOOK_PROCESSING = "task"``,
``process.queue_event`` records the event and ``tasks.process_webhook_event``
applies it later through ``process_event``.

Tests and host code can call `handle_delivery` / `process_event` directly.
"""

from .receive import handle_delivery, verify_signature
from .rules import InvalidWebhook, StripeEvent, parse_event
from .store import Answer, process_event

__all__ = [
    "Answer",
    "InvalidWebhook",
    "StripeEvent",
    "handle_delivery",
    "parse_event",
    "process_event",
    "verify_signature",
]
