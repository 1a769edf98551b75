"""Recording events once by their Stripe id.

No row is written before an event's fate is known: the row is inserted (or, for
a retry of a failed event, updated) with its final status in the same
transaction as the change it describes. The unique ``stripe_id`` is what makes
concurrent deliveries of one event apply once: the loser's insert fails and its
whole transaction rolls back.
"""

from __future__ import annotations

from typing import Any

from django.db import IntegrityError, transaction
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import F
from django.utils import timezone

from ..models import WebhookEvent
from . import store
from .errors import AlreadyProcessed
from .event import StripeEvent

Status = WebhookEvent.Status
#: An event in one of these states is a duplicate: answered 200, nothing done.
DONE = (Status.PROCESSED, Status.IGNORED)
#: An event in one of these states is processed again when redelivered.
RETRYABLE = (Status.RECEIVED, Status.FAILED)

DETAIL_MAX = 2000


def existing_status(event_id: str, db: BaseDatabaseWrapper) -> str | None:
    """The stored status of `event_id` (one query), or None when it is new."""
    events = WebhookEvent.objects.using(db.alias).filter(stripe_id=event_id)
    return events.values_list("status", flat=True).first()


def _fields(event: StripeEvent, status: str, detail: str) -> dict[str, Any]:
    return {
        "type": event.type,
        "account": event.account,
        "livemode": event.livemode,
        "created": event.created,
        "api_version": event.api_version,
        "status": status,
        "detail": detail[:DETAIL_MAX],
        "payload": event.raw,
        "processed_at": timezone.now(),
    }


def new_row(event: StripeEvent, status: str, detail: str = "") -> WebhookEvent:
    """The (unsaved) row recording `event` with its outcome, first delivery."""
    return WebhookEvent(stripe_id=event.id, attempts=1, **_fields(event, status, detail))


def record(
    event: StripeEvent, status: str, detail: str = "", *, retry: bool, db: BaseDatabaseWrapper
) -> WebhookEvent:
    """Store `event`'s outcome; `AlreadyProcessed` if another delivery stored it first.

    `retry` says the event is already stored as failed/received (one UPDATE that
    only succeeds while it still is); otherwise one INSERT.
    """
    if not retry:
        return store.insert_event(new_row(event, status, detail), db)
    fields = _fields(event, status, detail)
    events = WebhookEvent.objects.using(db.alias)
    updated = events.filter(stripe_id=event.id, status__in=RETRYABLE).update(
        attempts=F("attempts") + 1, **fields
    )
    if not updated:
        raise AlreadyProcessed(event.id)
    return events.get(stripe_id=event.id)


def record_failure(
    event: StripeEvent, error: str, *, retry: bool, db: BaseDatabaseWrapper
) -> None:
    """Mark `event` failed so that Stripe's next delivery processes it again."""
    fields = _fields(event, Status.FAILED, error)
    fields.pop("processed_at")
    events = WebhookEvent.objects.using(db.alias)
    if not retry:
        try:
            # A savepoint: the insert may lose a race, and the caller's
            # transaction (if any) must survive that.
            with transaction.atomic(using=db.alias):
                events.create(stripe_id=event.id, attempts=1, **fields)
            return
        except IntegrityError:
            pass
    events.filter(stripe_id=event.id, status__in=RETRYABLE).update(
        attempts=F("attempts") + 1, **fields
    )
