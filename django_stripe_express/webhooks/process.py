"""Verify, record once, apply, signal: the webhook's logic, callable without a view.

Queries for an ``account.updated`` that is applied: on PostgreSQL, usually one
statement (`fast_path`), which also reads the row the rest of this module
needs when it cannot apply the event by itself. Elsewhere (and for the other
types): one SELECT of the account that also tells whether the event was seen
before (`lookup`), then one conditional UPDATE of the account and one INSERT
of the event with its final status, all or nothing (`store`; a single
statement on PostgreSQL). A duplicate costs the first read alone.

The UPDATE is optimistic (it only matches the row as it was read), so no row
lock is held while Python works; when another delivery changed the account in
between, the account is read again and the event re-decided.
"""

from __future__ import annotations

import functools
import logging
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.db.backends.base.base import BaseDatabaseWrapper

from .. import signals
from ..client import get_client
from ..conf import app_settings
from ..models import ExpressAccount, WebhookEvent
from . import fast_path, handlers, lookup, store
from .errors import AlreadyProcessed
from .event import StripeEvent, event_from_dict, parse_event
from .record import DONE, existing_status, new_row, record, record_failure
from .signature import verify_signature

logger = logging.getLogger("django_stripe_express.webhooks")

#: Re-reads allowed when other deliveries keep changing the same account.
MAX_CONFLICTS = 10

Status = WebhookEvent.Status


@dataclass(frozen=True)
class Outcome:
    """The answer for Stripe: HTTP status and a short plain-text message."""

    status_code: int
    message: str


def handle_delivery(payload: bytes, signature_header: str | None) -> Outcome:
    """Verify and process one delivery; `InvalidWebhook` (a 400) when it is not genuine."""
    verify_signature(
        payload, signature_header, app_settings.WEBHOOK_SECRETS, app_settings.WEBHOOK_TOLERANCE
    )
    return process_event(parse_event(payload))


def process_event(event: StripeEvent | WebhookEvent) -> Outcome:
    """Record and apply a verified event exactly once.

    Also takes a stored `WebhookEvent` (the admin's "process again" on a failed
    event): its payload is processed as if Stripe had delivered it again.
    """
    if isinstance(event, WebhookEvent):
        event = event_from_dict(event.payload)
    handler = handlers.HANDLERS.get(event.type)
    acct_id = handlers.account_id(event) if handler else ""
    db = store.database()
    retry = False
    try:
        account: ExpressAccount | None = None
        status: str | None = None
        if acct_id and fast_path.applies(event, db):
            attempt = fast_path.apply_account_updated(event, acct_id, db)
            if attempt.recorded is not None and attempt.account is not None:
                return _applied(
                    attempt.recorded, event, attempt.account, attempt.previous_status, db=db
                )
            account, status = attempt.account, attempt.event_status
        elif acct_id:
            account, status = lookup.account_and_event_status(acct_id, event.id, db)
        if account is None:
            status = existing_status(event.id, db)
        if status in DONE:
            logger.debug("Webhook %s %s: duplicate", event.type, event.id)
            return Outcome(200, "duplicate")
        retry = status is not None
        return _process(event, handler, account, retry=retry, db=db)
    except AlreadyProcessed:
        return Outcome(200, "duplicate")
    except Exception as exc:
        logger.exception("Webhook %s %s failed; Stripe will retry it", event.type, event.id)
        record_failure(event, f"{type(exc).__name__}: {exc}", retry=retry, db=db)
        return Outcome(500, "failed")


def _ignore_reason(
    event: StripeEvent, handler: handlers.Handler | None, account: ExpressAccount | None
) -> str:
    if event.livemode != app_settings.livemode:
        mode = "live" if event.livemode else "test"
        return f"{mode}-mode event, other mode configured"
    if handler is None:
        return f"unhandled type {event.type}"
    if account is None:
        return "unknown account" if handlers.account_id(event) else "no account in event"
    return ""


def _process(
    event: StripeEvent,
    handler: handlers.Handler | None,
    account: ExpressAccount | None,
    *,
    retry: bool,
    db: BaseDatabaseWrapper,
) -> Outcome:
    reason = _ignore_reason(event, handler, account)
    if reason or handler is None or account is None:
        return _ignore(event, reason, retry=retry, db=db)
    data: Any = event.object
    if (
        event.type == "account.updated"
        and app_settings.WEBHOOK_REFETCH_ACCOUNT
        and not handlers.is_stale(account, event)
    ):
        data = get_client().v1.accounts.retrieve(account.stripe_id)
    for _ in range(MAX_CONFLICTS):
        previous_status = account.status
        version = (account.updated_at, account.last_event_created)
        result = handler(account, event, data)
        if isinstance(result, handlers.Ignore):
            return _ignore(event, result.reason, retry=retry, db=db)
        saved = _write(event, account, version, result.fields, retry=retry, db=db)
        if saved is not None:
            return _applied(saved, event, account, previous_status, result.deauthorized, db=db)
        # Another delivery changed the account since it was read: decide again.
        fresh = ExpressAccount.objects.using(db.alias).filter(pk=account.pk).first()
        if fresh is None:
            return _ignore(event, "unknown account", retry=retry, db=db)
        account = fresh
    raise RuntimeError(f"account {account.stripe_id} kept changing; giving up for now")


def _write(
    event: StripeEvent,
    account: ExpressAccount,
    version: tuple[Any, Any],
    fields: tuple[str, ...],
    *,
    retry: bool,
    db: BaseDatabaseWrapper,
) -> WebhookEvent | None:
    """Write the account, if still as read, and record the event; None if it was not."""
    fields = store.stamped(account, fields)
    if not retry:
        return store.update_and_insert(
            account, fields, version, new_row(event, Status.PROCESSED), db
        )
    with transaction.atomic(using=db.alias, savepoint=False):
        if not store.update_account(account, fields, version, db):
            return None
        return record(event, Status.PROCESSED, retry=True, db=db)


def _applied(
    saved: WebhookEvent,
    event: StripeEvent,
    account: ExpressAccount,
    previous_status: str,
    deauthorized: bool = False,
    *,
    db: BaseDatabaseWrapper,
) -> Outcome:
    transaction.on_commit(
        functools.partial(_send_applied, saved, event, account, previous_status, deauthorized),
        using=db.alias,
    )
    logger.info("Webhook %s %s applied to %s", event.type, event.id, account.stripe_id)
    return Outcome(200, "processed")


def _ignore(event: StripeEvent, reason: str, *, retry: bool, db: BaseDatabaseWrapper) -> Outcome:
    saved = record(event, Status.IGNORED, reason, retry=retry, db=db)
    logger.info("Webhook %s %s ignored: %s", event.type, event.id, reason)
    transaction.on_commit(
        functools.partial(_send_event, saved, event, applied=False), using=db.alias
    )
    return Outcome(200, f"ignored: {reason}")


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
