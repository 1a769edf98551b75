"""Stripe webhooks, one concern per module:

- `signature`: Stripe's ``Stripe-Signature`` scheme, constant time, several secrets;
- `event`: a verified body parsed into a `StripeEvent` (or refused);
- `lookup`: the one read per delivery (the account, and whether the event was seen);
- `record`: the `WebhookEvent` row, once per event id;
- `handlers`: what each event type changes on an `ExpressAccount` (pure);
- `store`: the account UPDATE and event INSERT, all or nothing, fast;
- `fast_path`: on PostgreSQL, a new ``account.updated`` in one statement;
- `process`: ties them together, sends the signals after commit;
- `response`: HTTP in and out for the (one-line) view.

Tests and host code can call `handle_delivery` / `process_event` directly.
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
