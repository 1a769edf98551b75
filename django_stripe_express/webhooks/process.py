"""Record each event once and apply it, with the public ORM; signals after commit.

`process_event` is the entry point for every verified event, inline or from
the task: an event applied with its own data goes to `apply.apply_locked`
(one transaction, the account's row locked; see there), one that needs
Stripe's data (a thin event, or ``account.updated`` with
``WEBHOOK_REFETCH_ACCOUNT``) to `fetched.process_fetched` (the fetch outside
any transaction, then the same rules). A failure is recorded as failed and
answered 500 (`_failed`), so Stripe's retry processes it again.

With ``WEBHOOK_PROCESSING = "task"`` the request only records the event
(`queue_event`) and a task of Django's Tasks framework applies it later
(`process_stored`, from `tasks.py`), through the same `process_event`.
"""

from __future__ import annotations

import functools
import logging

from django.db import transaction

from ..models import WebhookEvent, database_alias
from . import handlers, record
from .apply import DUPLICATE, FAILED, QUEUED, Answer, apply_locked
from .event import StripeEvent, event_from_dict
from .fetched import process_fetched

logger = logging.getLogger("django_stripe_express.webhooks")

Status = WebhookEvent.Status

__all__ = ["Answer", "process_event", "process_stored", "queue_event"]


def process_event(event: StripeEvent | WebhookEvent) -> Answer:
    """Record and apply a verified event exactly once.

    Also takes a stored `WebhookEvent` (a failed event processed again from the
    admin, or a queued one in the task): its payload is processed as if Stripe
    had delivered it again.
    """
    if isinstance(event, WebhookEvent):
        event = event_from_dict(event.payload)
    alias = database_alias()
    try:
        if handlers.needs_fetch(event):
            return process_fetched(event, alias)
        return apply_locked(event, None, alias)
    except record.AlreadyProcessed:
        return DUPLICATE
    except Exception as exc:
        return _failed(event, exc, alias)


def _failed(event: StripeEvent, exc: Exception, alias: str) -> Answer:
    """Record `event` as failed, so that it is processed again; answer 500.

    The log names the error's class and where it was raised, never its
    message: a database error quotes the values it refused, which are the
    payload's. (The stored detail, beside the payload, keeps the message.)
    """
    where = exc.__traceback__
    while where is not None and where.tb_next is not None:
        where = where.tb_next
    place = f" at {where.tb_frame.f_code.co_filename}:{where.tb_lineno}" if where else ""
    logger.error(
        "Webhook %s %s failed (%s%s); it will be processed again when Stripe retries it",
        event.type, event.id, type(exc).__name__, place,
    )
    try:
        record.record_failure(event, f"{type(exc).__name__}: {exc}", alias)
    except Exception as again:  # the database itself is unwell: Stripe retries anyway
        logger.error(
            "Webhook %s %s: recording the failure failed too (%s)",
            event.type, event.id, type(again).__name__,
        )
    return FAILED


# -- "task" processing: the request records, a task applies ------------------------


def queue_event(event: StripeEvent) -> Answer:
    """Record `event` as received and hand it to a task; the task applies it.

    One INSERT for a new event. A redelivery of an event still waiting (or
    failed) is handed over again: the task applies each event once whatever
    the number of tasks.
    """
    alias = database_alias()
    values = record.row_values(event, Status.RECEIVED, "")
    recorded = record.insert(alias, stripe_id=event.id, attempts=0, **values)
    if recorded is None and handlers.is_duplicate(record.stored_status(event, alias)):
        return DUPLICATE
    if transaction.get_autocommit(using=alias):
        return _enqueue(event, alias)
    # Inside the caller's transaction: a worker must not look before it commits.
    transaction.on_commit(functools.partial(_enqueue, event, alias), using=alias)
    return QUEUED


def _enqueue(event: StripeEvent, alias: str) -> Answer:
    try:
        from .tasks import process_webhook_event  # the Tasks framework, only in this mode

        process_webhook_event.enqueue(event.id)
    except Exception as exc:
        return _failed(event, exc, alias)
    return QUEUED


def process_stored(event_id: str) -> Answer:
    """Apply the recorded event `event_id` (the task's work)."""
    stored = WebhookEvent.objects.using(database_alias()).filter(stripe_id=event_id).first()
    if stored is None:
        logger.warning("Webhook event %s is not stored (pruned?); nothing to do", event_id)
        return DUPLICATE
    if handlers.is_duplicate(stored.status):
        return DUPLICATE
    return process_event(stored)
