"""Applying an event under the account's row lock; what is sent once it commits.

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
from ..models import ExpressAccount, WebhookEvent
from . import handlers, record
from .event import StripeEvent

logger = logging.getLogger("django_stripe_express.webhooks")

Status = WebhookEvent.Status
EVENT_STATUS = "webhook_event_status"  # the annotation that tells whether an event was seen
#: What an event is applied with: its own object (None), Stripe's data, or `handlers.Gone`.
Data = Mapping[str, Any] | handlers.Gone | None


@dataclass(frozen=True)
class Answer:
    """The webhook's answer to Stripe: HTTP status and a short plain-text message."""

    status_code: int
    message: str


PROCESSED = Answer(200, "processed")
DUPLICATE = Answer(200, "duplicate")
QUEUED = Answer(200, "queued")
FAILED = Answer(500, "failed")  # Stripe delivers it again later


def account_and_status(
    accounts: QuerySet[ExpressAccount], stripe_id: str, event_id: str, alias: str
) -> tuple[ExpressAccount | None, str | None]:
    """The account (None if unknown) and the event's stored status (None if new): one query."""
    seen = WebhookEvent.objects.using(alias).filter(stripe_id=event_id).values("status")
    found = accounts.filter(stripe_id=stripe_id).annotate(**{EVENT_STATUS: Subquery(seen[:1])})
    account = found.first()
    return account, getattr(account, EVENT_STATUS, None)


def apply_locked(event: StripeEvent, data: Data, alias: str) -> Answer:
    """Decide and apply `event` on its account's row, locked (see the module)."""
    target = handlers.target(event)
    with transaction.atomic(using=alias):
        account, status = None, None
        if isinstance(target, str):
            locked = ExpressAccount.objects.using(alias).select_for_update()
            account, status = account_and_status(locked, target, event.id, alias)
        if account is None:
            status = record.stored_status(event, alias)
        if handlers.is_duplicate(status):
            logger.debug("Webhook %s %s: duplicate", event.type, event.id)
            return DUPLICATE
        retry = status is not None
        if isinstance(target, handlers.Ignore):
            return ignore(event, target.reason, retry, alias)
        previous_status = account.status if account is not None else ""
        decision = handlers.decide(account, event, data)
        if isinstance(decision, handlers.Ignore):
            return ignore(event, decision.reason, retry, alias, data)
        assert account is not None  # decide() ignores an unknown account
        account.save(update_fields=decision.fields)
        saved = record.record(event, Status.PROCESSED, decision.note, retry, alias)
        on_commit_applied(saved, event, account, previous_status, decision, data, alias)
    logger.info("Webhook %s %s applied to %s", event.type, event.id, account.stripe_id)
    return PROCESSED


def ignore(
    event: StripeEvent, reason: str, retry: bool, alias: str, data: Data = None
) -> Answer:
    """Record `event` as ignored for `reason`; `webhook_event` after commit."""
    saved = record.record(event, Status.IGNORED, reason, retry, alias)
    transaction.on_commit(
        functools.partial(send_event, saved, event, _fetched(data), applied=False), using=alias
    )
    logger.info("Webhook %s %s ignored: %s", event.type, event.id, reason)
    return Answer(200, f"ignored: {reason}")


def _fetched(data: Data) -> dict[str, Any] | None:
    return dict(data) if isinstance(data, Mapping) else None


# -- signals, after commit -----------------------------------------------------------


def on_commit_applied(
    saved: WebhookEvent,
    event: StripeEvent,
    account: ExpressAccount,
    previous_status: str,
    decision: handlers.Change,
    data: Data,
    alias: str,
) -> None:
    """Send the signals of an applied event once the transaction commits."""
    transaction.on_commit(
        functools.partial(
            send_applied, saved, event, account, previous_status, decision.deauthorized,
            _fetched(data),
        ),
        using=alias,
    )


def send_applied(
    saved: WebhookEvent,
    event: StripeEvent,
    account: ExpressAccount,
    previous_status: str,
    deauthorized: bool,
    fetched: dict[str, Any] | None,
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
    send_event(saved, event, fetched, applied=True)


def send_event(
    saved: WebhookEvent, event: StripeEvent, fetched: dict[str, Any] | None, *, applied: bool
) -> None:
    signals.notify(
        signals.webhook_event, f"webhook {event.type} {event.id}",
        sender=WebhookEvent, event=saved, data=event.raw, fetched=fetched, applied=applied,
    )
