"""Stripe webhooks: verify (`signature`), parse (`event`), record once (`record`),
apply (`handlers`), all tied together by `process`.

The view only reads the body and maps an `Outcome` or `InvalidWebhook` to a
response; tests and host code can call `handle_delivery` / `process_event`.
"""

from .errors import InvalidWebhook
from .event import StripeEvent, parse_event
from .process import Outcome, handle_delivery, process_event
from .signature import verify_signature

__all__ = [
    "InvalidWebhook",
    "Outcome",
    "StripeEvent",
    "handle_delivery",
    "parse_event",
    "process_event",
    "verify_signature",
]
