"""The `WebhookEvent` row: each event stored once by its Stripe id.

The row is written with the event's final status in the same transaction as
the change it describes (`apply.py`, `fetched.py`), or as *received* by the
request in ``"task"`` mode (`process.queue_event`). The unique ``stripe_id``
is what makes concurrent deliveries of one event apply once: the loser's
INSERT fails and its whole transaction rolls back (`AlreadyProcessed`).
"""

from __future__ import annotations

from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from ..models import WebhookEvent
from ..storable import storable_text
from . import handlers
from .event import StripeEvent

Status = WebhookEvent.Status
DETAIL_MAX = 2000


class AlreadyProcessed(Exception):
    """Another delivery of the same event got there first (rolls the transaction back)."""


def stored_status(event: StripeEvent, alias: str) -> str | None:
    """The stored status of `event` (one query), or None when it is new."""
    events = WebhookEvent.objects.using(alias).filter(stripe_id=event.id)
    return events.values_list("status", flat=True).first()


def detail_text(event: StripeEvent, detail: str) -> str:
    """`detail`, with a note when the payload had to be made storable; storable too."""
    if event.repaired:
        repaired = (
            f"payload: {event.repaired} value(s) no database stores (NUL, lone "
            "surrogates, non-finite numbers) replaced"
        )
        detail = f"{detail}; {repaired}" if detail else repaired
    return storable_text(detail)[0][:DETAIL_MAX]


def row_values(event: StripeEvent, status: str, detail: str) -> dict[str, Any]:
    """The row's fields for `event` with this outcome (all but the id and counters)."""
    return {
        "type": event.type,
        "account": event.account,
        "livemode": event.livemode,
        "created": event.created,
        "api_version": event.api_version,
        "status": status,
        "detail": detail_text(event, detail),
        "payload": event.raw,
    }


def record(event: StripeEvent, status: str, detail: str, retry: bool, alias: str) -> WebhookEvent:
    """Store `event`'s outcome: INSERT, or UPDATE of its retryable row.

    `AlreadyProcessed` when another delivery recorded it first.
    """
    events = WebhookEvent.objects.using(alias)
    now = timezone.now()
    if not retry:
        try:
            values = row_values(event, status, detail)
            return events.create(stripe_id=event.id, attempts=1, processed_at=now, **values)
        except IntegrityError:
            raise AlreadyProcessed(event.id) from None
    row = events.select_for_update().filter(stripe_id=event.id, status__in=handlers.RETRYABLE)
    saved = row.first()
    if saved is None:
        raise AlreadyProcessed(event.id)
    saved.status, saved.detail, saved.processed_at = status, detail_text(event, detail), now
    saved.attempts += 1
    saved.save(update_fields=["status", "detail", "processed_at", "attempts"])
    return saved


def record_failure(event: StripeEvent, error: str, alias: str) -> None:
    """Mark `event` failed (INSERT, or UPDATE of its retryable row), so that it is
    processed again when Stripe, the admin or a task brings it back."""
    values = row_values(event, Status.FAILED, error)
    if insert(alias, stripe_id=event.id, attempts=1, **values) is None:
        WebhookEvent.objects.using(alias).filter(
            stripe_id=event.id, status__in=handlers.RETRYABLE
        ).update(attempts=F("attempts") + 1, status=Status.FAILED, detail=values["detail"])


def insert(alias: str, **values: Any) -> WebhookEvent | None:
    """INSERT an event's row; None when its id is already stored.

    In autocommit, one statement; inside the caller's transaction, within a
    savepoint, so that transaction survives the conflict.
    """
    events = WebhookEvent.objects.using(alias)
    try:
        if transaction.get_autocommit(using=alias):
            return events.create(**values)
        with transaction.atomic(using=alias):
            return events.create(**values)
    except IntegrityError:
        return None
