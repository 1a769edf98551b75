"""Record each event once and apply it, with the public ORM; signals after commit.

One transaction per event, on the database the routers write the app's
models to (`models.database_alias`)::

    SELECT the account FOR UPDATE, with the event's stored status (one query)
    -> handlers.decide, in Python
    -> UPDATE the account (save(update_fields=...)), if the event changes it
    -> INSERT the event with its final status (or UPDATE it, when retried)

A new ``account.updated`` costs those three queries; a duplicate only the
first. The row lock makes concurrent deliveries for one account take turns,
each deciding from the row as the previous one left it. The event's unique
``stripe_id`` is the last guard: under PostgreSQL's READ COMMITTED a delivery
that waited for the lock still sees the event as new in the status it read,
and its INSERT fails; the whole transaction is then rolled back and answered
as a duplicate.

With ``WEBHOOK_PROCESSING = "task"`` the request only records the event
(`queue_event`) and a task of Django's Tasks framework applies it later
(`process_stored`, from `tasks.py`), through the same `process_event`.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.db.models import QuerySet, Subquery

from .. import signals
from ..accounts import as_dict
from ..client import get_client
from ..models import ExpressAccount, WebhookEvent, database_alias
from . import handlers, record
from .event import StripeEvent, event_from_dict

logger = logging.getLogger("django_stripe_express.webhooks")

Status = WebhookEvent.Status
EVENT_STATUS = "webhook_event_status"  # the annotation that tells whether an event was seen


@dataclass(frozen=True)
class Answer:
    """The webhook's answer to Stripe: HTTP status and a short plain-text message."""

    status_code: int
    message: str


PROCESSED = Answer(200, "processed")
DUPLICATE = Answer(200, "duplicate")
QUEUED = Answer(200, "queued")
FAILED = Answer(500, "failed")  # Stripe delivers it again later


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
        data = _fetch(event, alias) if handlers.needs_fetch(event) else None
        return _apply(event, data, alias)
    except record.AlreadyProcessed:
        return DUPLICATE
    except Exception as exc:
        return _failed(event, exc, alias)


def _fetch(event: StripeEvent, alias: str) -> Mapping[str, Any] | None:
    """The account as Stripe has it now; None when the event will not be applied.

    Read outside any transaction: no row stays locked while Stripe answers.
    `_apply` then decides under the lock as for any event.
    """
    target = handlers.target(event)
    if isinstance(target, handlers.Ignore):
        return None
    accounts = ExpressAccount.objects.using(alias)
    account, status = _account_and_status(accounts, target, event.id, alias)
    if account is None or handlers.is_duplicate(status):
        return None
    if handlers.is_stale(account, event):
        return None
    return as_dict(get_client().v1.accounts.retrieve(target))


def _account_and_status(
    accounts: QuerySet[ExpressAccount], stripe_id: str, event_id: str, alias: str
) -> tuple[ExpressAccount | None, str | None]:
    """The account (None if unknown) and the event's stored status (None if new): one query."""
    seen = WebhookEvent.objects.using(alias).filter(stripe_id=event_id).values("status")
    found = accounts.filter(stripe_id=stripe_id).annotate(**{EVENT_STATUS: Subquery(seen[:1])})
    account = found.first()
    return account, getattr(account, EVENT_STATUS, None)


def _apply(event: StripeEvent, data: Mapping[str, Any] | None, alias: str) -> Answer:
    target = handlers.target(event)
    with transaction.atomic(using=alias):
        account, status = None, None
        if isinstance(target, str):
            locked = ExpressAccount.objects.using(alias).select_for_update()
            account, status = _account_and_status(locked, target, event.id, alias)
        if account is None:
            status = record.stored_status(event, alias)
        if handlers.is_duplicate(status):
            logger.debug("Webhook %s %s: duplicate", event.type, event.id)
            return DUPLICATE
        retry = status is not None
        if isinstance(target, handlers.Ignore):
            return _ignore(event, target.reason, retry, alias)
        previous_status = account.status if account is not None else ""
        decision = handlers.decide(account, event, data)
        if isinstance(decision, handlers.Ignore):
            return _ignore(event, decision.reason, retry, alias)
        assert account is not None  # decide() ignores an unknown account
        account.save(update_fields=decision.fields)
        saved = record.record(event, Status.PROCESSED, decision.note, retry, alias)
        transaction.on_commit(
            functools.partial(_send_applied, saved, event, account, previous_status,
                              decision.deauthorized),
            using=alias,
        )
    logger.info("Webhook %s %s applied to %s", event.type, event.id, account.stripe_id)
    return PROCESSED


def _ignore(event: StripeEvent, reason: str, retry: bool, alias: str) -> Answer:
    saved = record.record(event, Status.IGNORED, reason, retry, alias)
    transaction.on_commit(
        functools.partial(_send_event, saved, event, applied=False), using=alias
    )
    logger.info("Webhook %s %s ignored: %s", event.type, event.id, reason)
    return Answer(200, f"ignored: {reason}")


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


# -- signals, after commit -----------------------------------------------------------


def _send_applied(
    saved: WebhookEvent,
    event: StripeEvent,
    account: ExpressAccount,
    previous_status: str,
    deauthorized: bool,
) -> None:
    about = f"webhook {event.type} {event.id}"
    if deauthorized:
        signals.notify(
            signals.account_deauthorized, about,
            sender=ExpressAccount, account=account, event=saved, request=None,
        )
    else:
        signals.notify(
            signals.account_updated, about,
            sender=ExpressAccount, account=account, previous_status=previous_status,
            source="webhook", event=saved,
        )
    _send_event(saved, event, applied=True)


def _send_event(saved: WebhookEvent, event: StripeEvent, *, applied: bool) -> None:
    signals.notify(
        signals.webhook_event, f"webhook {event.type} {event.id}",
        sender=WebhookEvent, event=saved, data=event.raw, applied=applied,
    )
