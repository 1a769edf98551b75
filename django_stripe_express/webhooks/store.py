"""Recording each event once and applying it, with the public ORM; signals after commit.

The `WebhookEvent` row is written with the event's final status in the same
transaction as the change it describes, or as *received* by the request in
``"task"`` mode (`queue_event`). The unique ``stripe_id`` is what makes
concurrent deliveries of one event apply once: the loser's INSERT fails and
its whole transaction rolls back. The account is read under its row lock,
the rules (`rules`) decide, and the account and the event are written
together. Events applied with Stripe's data (thin events,
``WEBHOOK_REFETCH_ACCOUNT``) fetch the account first, outside any
transaction: no lock is held over HTTP, and a slower fetch never overwrites
a newer one.
"""

from __future__ import annotations

import dataclasses
import datetime
import functools
import logging
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import stripe
from django.db import IntegrityError, transaction
from django.db.models import F, QuerySet, Subquery
from django.utils import timezone

from .. import signals
from ..accounts import as_dict, storable_text
from ..conf import ACCOUNTS_V1, ACCOUNTS_V2, app_settings
from ..models import (
    ExpressAccount,
    Payout,
    WebhookEvent,
    database_alias,
    notify,
    record_payout,
    retrieve_account,
)
from ..stripe_api import GONE, failure, get_client, log_configuration_error
from . import rules as handlers
from .rules import StripeEvent, event_from_dict

Status = WebhookEvent.Status

_DETAIL_MAX = 2000


class _AlreadyProcessed(Exception):
    """Another delivery of the same event got there first (rolls the transaction back)."""


def stored_status(event: StripeEvent, alias: str) -> str | None:
    """The stored status of `event` (one query), or None when it is new."""
    events = WebhookEvent.objects.using(alias).filter(stripe_id=event.id)
    return events.values_list("status", flat=True).first()


def _detail_text(event: StripeEvent, detail: str) -> str:
    """`detail`, with a note when the payload had to be made storable; storable too."""
    if event.repaired:
        repaired = (
            f"payload: {event.repaired} value(s) no database stores (NUL, lone "
            "surrogates, non-finite numbers) replaced"
        )
        detail = f"{detail}; {repaired}" if detail else repaired
    return storable_text(detail)[0][:_DETAIL_MAX]


def _row_values(event: StripeEvent, status: str, detail: str) -> dict[str, Any]:
    """The row's fields for `event` with this outcome (all but the id and counters)."""
    return {
        "type": event.type,
        "account": event.account,
        "livemode": event.livemode,
        "created": event.created,
        "api_version": event.api_version,
        "status": status,
        "detail": _detail_text(event, detail),
        "payload": event.raw,
    }


def record(event: StripeEvent, status: str, detail: str, retry: bool, alias: str) -> WebhookEvent:
    """Store `event`'s outcome: INSERT, or UPDATE of its retryable row.

    `_AlreadyProcessed` when another delivery recorded it first.
    """
    events = WebhookEvent.objects.using(alias)
    now = timezone.now()
    if not retry:
        try:
            values = _row_values(event, status, detail)
            return events.create(stripe_id=event.id, attempts=1, processed_at=now, **values)
        except IntegrityError:
            raise _AlreadyProcessed(event.id) from None
    row = events.select_for_update().filter(stripe_id=event.id, status__in=handlers.RETRYABLE)
    saved = row.first()
    if saved is None:
        raise _AlreadyProcessed(event.id)
    saved.status, saved.detail, saved.processed_at = status, _detail_text(event, detail), now
    saved.attempts += 1
    saved.save(update_fields=["status", "detail", "processed_at", "attempts"])
    return saved


def _record_failure(event: StripeEvent, error: str, alias: str) -> None:
    """Mark `event` failed (INSERT, or UPDATE of its retryable row), so that it is
    processed again when Stripe, the admin or a task brings it back."""
    values = _row_values(event, Status.FAILED, error)
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


logger = logging.getLogger("django_stripe_express.webhooks")


_EVENT_STATUS = "webhook_event_status"  # the annotation that tells whether an event was seen

#: What an event is applied with: its own object (None), Stripe's data, or `handlers.Gone`.
Data = Mapping[str, Any] | handlers.Gone | None


@dataclass(frozen=True)
class Answer:
    """The webhook's answer to Stripe: HTTP status and a short plain-text message."""

    status_code: int
    message: str

PROCESSED = Answer(200, "processed")

_DUPLICATE = Answer(200, "duplicate")

_QUEUED = Answer(200, "queued")

FAILED = Answer(500, "failed")  # Stripe delivers it again later


def _account_and_status(
    accounts: QuerySet[ExpressAccount], stripe_id: str, event_id: str, alias: str
) -> tuple[ExpressAccount | None, str | None]:
    """The account (None if unknown) and the event's stored status (None if new): one query."""
    seen = WebhookEvent.objects.using(alias).filter(stripe_id=event_id).values("status")
    found = accounts.filter(stripe_id=stripe_id).annotate(**{_EVENT_STATUS: Subquery(seen[:1])})
    account = found.first()
    return account, getattr(account, _EVENT_STATUS, None)


def apply_locked(event: StripeEvent, data: Data, alias: str) -> Answer:
    """Decide and apply `event` on its account's row, locked (see the module)."""
    target = handlers.target(event)
    with transaction.atomic(using=alias):
        account, status = None, None
        if isinstance(target, str):
            locked = ExpressAccount.objects.using(alias).select_for_update()
            account, status = _account_and_status(locked, target, event.id, alias)
        if account is None:
            status = stored_status(event, alias)
        if handlers.is_duplicate(status):
            logger.debug("Webhook %s %s: duplicate", event.type, event.id)
            return _DUPLICATE
        retry = status is not None
        if isinstance(target, handlers.Ignore):
            return ignore(event, target.reason, retry, alias)
        previous_status = account.status if account is not None else ""
        decision = handlers.decide(account, event, data)
        if isinstance(decision, handlers.Ignore):
            return ignore(event, decision.reason, retry, alias, data)
        assert account is not None  # decide() ignores an unknown account
        if decision.payout is not None:
            # The payout's row is written here, under the account's lock and in
            # the event's transaction: recorded once, applied in order.
            payout, news, fields = record_payout(account, decision.payout, event.created)
            if payout is None:
                return ignore(event, "stale: the payout's row already has newer news",
                              retry, alias, data)
            decision = dataclasses.replace(decision, fields=tuple(fields))
            _on_commit_payout(payout, news, account, event, alias)
        if decision.fields:
            account.save(update_fields=decision.fields)
        saved = record(event, Status.PROCESSED, decision.note, retry, alias)
        if decision.payout is not None and not decision.fields:
            # The account itself did not change: no `account_updated`.
            transaction.on_commit(
                functools.partial(_send_event, saved, event, None, applied=True), using=alias
            )
        else:
            _on_commit_applied(saved, event, account, previous_status, decision, data, alias)
    logger.info("Webhook %s %s applied to %s", event.type, event.id, account.stripe_id)
    return PROCESSED


def ignore(
    event: StripeEvent, reason: str, retry: bool, alias: str, data: Data = None
) -> Answer:
    """Record `event` as ignored for `reason`; `webhook_event` after commit."""
    saved = record(event, Status.IGNORED, reason, retry, alias)
    transaction.on_commit(
        functools.partial(_send_event, saved, event, _fetched(data), applied=False), using=alias
    )
    logger.info("Webhook %s %s ignored: %s", event.type, event.id, reason)
    return Answer(200, f"ignored: {reason}")


def _fetched(data: Data) -> dict[str, Any] | None:
    return dict(data) if isinstance(data, Mapping) else None


# -- signals, after commit -----------------------------------------------------------
def _on_commit_applied(
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
            _send_applied, saved, event, account, previous_status, decision.deauthorized,
            _fetched(data),
        ),
        using=alias,
    )


def _on_commit_payout(
    payout: Payout, news: str, account: ExpressAccount, event: StripeEvent, alias: str
) -> None:
    """`payout_paid` / `payout_failed` once the transaction commits, when the
    payout just became so (``news``)."""
    signal = {Payout.Status.PAID: signals.payout_paid,
              Payout.Status.FAILED: signals.payout_failed}.get(news)  # type: ignore[call-overload]
    if signal is None:
        return
    transaction.on_commit(
        functools.partial(
            notify, signal, f"webhook {event.type} {event.id}",
            sender=Payout, payout=payout, account=account,
        ),
        using=alias,
    )


def _send_applied(
    saved: WebhookEvent,
    event: StripeEvent,
    account: ExpressAccount,
    previous_status: str,
    deauthorized: bool,
    fetched: dict[str, Any] | None,
) -> None:
    about = f"webhook {event.type} {event.id}"
    if deauthorized:
        notify(
            signals.account_deauthorized, about,
            sender=ExpressAccount, account=account, event=saved, request=None,
        )
    else:
        notify(
            signals.account_updated, about,
            sender=ExpressAccount, account=account, previous_status=previous_status,
            source="webhook", event=saved,
        )
    _send_event(saved, event, fetched, applied=True)


def _send_event(
    saved: WebhookEvent, event: StripeEvent, fetched: dict[str, Any] | None, *, applied: bool
) -> None:
    notify(
        signals.webhook_event, f"webhook {event.type} {event.id}",
        sender=WebhookEvent, event=saved, data=event.raw, fetched=fetched, applied=applied,
    )





def process_fetched(event: StripeEvent, alias: str) -> Answer:
    """Record and apply `event` with the account as Stripe has it now (see the module)."""
    if handlers.needs_event_fetch(event):
        # Mode and type first: another mode's event is not found at Stripe with
        # this key (a 404 that would fail forever), and is not ours to apply.
        if handlers.screen(event) is not None:
            return apply_locked(event, None, alias)  # records it as ignored
        status = stored_status(event, alias)
        if handlers.is_duplicate(status):
            return _DUPLICATE
        found = _with_account_from_event(event)
        if found is None:
            with transaction.atomic(using=alias):
                return ignore(event, "the event is not found at Stripe (404)",
                              status is not None, alias)
        event = found
    target = handlers.target(event)
    if isinstance(target, handlers.Ignore):
        return apply_locked(event, None, alias)  # records it as ignored
    accounts = ExpressAccount.objects.using(alias)
    account, status = _account_and_status(accounts, target, event.id, alias)
    if handlers.is_duplicate(status):
        return _DUPLICATE
    retry = status is not None
    ruled_out = handlers.precheck(account, event)
    if ruled_out is not None:
        with transaction.atomic(using=alias):
            return ignore(event, ruled_out.reason, retry, alias)
    assert account is not None  # precheck ignores an unknown account
    data = _fetch_account(event, target)
    if event.thin:
        applied = _apply_unlocked(event, account, data, retry, alias)
        if applied is not None:
            return applied
    return apply_locked(event, data, alias)


def _with_account_from_event(event: StripeEvent) -> StripeEvent | None:
    """`event` with the account its full event names (one call to Stripe); None
    when Stripe has no such event (404: retrying would never find it)."""
    try:
        full: Any = get_client().v2.core.events.retrieve(event.id)
    except stripe.StripeError as exc:
        if getattr(exc, "http_status", None) == 404:
            logger.warning("Webhook %s %s: Stripe has no such event (404); ignored",
                           event.type, event.id)
            return None
        log_configuration_error(exc, f"webhook {event.type} {event.id}")
        raise
    data = as_dict(getattr(full, "data", None))
    account = data.get("account_id")
    # Only an id of an account's shape reaches a Stripe URL or a log line.
    named = str(account) if handlers.is_account_id(account) else ""
    return dataclasses.replace(event, account=named)


def _fetch_account(event: StripeEvent, stripe_id: str) -> dict[str, Any] | handlers.Gone:
    """The account as Stripe has it now (one call), or `handlers.Gone`.

    Any other error propagates: the event is recorded as failed, answered 500,
    and processed again when Stripe retries it.
    """
    try:
        # A thin event is about a v2 account, a snapshot event about a v1 one
        # (`handlers.precheck` ignores the other pairs).
        # A thin event's `context` names where the account lives (an account of
        # one of the platform's connected accounts): read it there.
        context = event.raw.get("context") if event.thin else None
        return as_dict(
            retrieve_account(
                stripe_id,
                ACCOUNTS_V2 if event.thin else ACCOUNTS_V1,
                context=context if isinstance(context, str) else "",
            )
        )
    except stripe.StripeError as exc:
        meaning = failure(exc)
        if meaning.kind != GONE:
            # The failure is logged by class only (`_failed`); a refused key
            # also by Stripe's message, which names no payload value.
            log_configuration_error(exc, f"webhook {event.type} {event.id}", stripe_id)
            raise
        code = meaning.code or "gone"
        logger.warning(
            "Webhook %s %s: Stripe account %s is out of the platform's reach (%s)",
            event.type, event.id, stripe_id, code,
        )
        return handlers.Gone(code)


def _apply_unlocked(
    event: StripeEvent, account: ExpressAccount, data: Data, retry: bool, alias: str
) -> Answer | None:
    """Apply the decision made on the row as read, if the row is still as read.

    None when it is not (a concurrent delivery changed it): the caller then
    takes the locked path. Three queries in all for a new event.
    """
    previous_status = account.status
    read = {
        "pk": account.pk,
        "stripe_id": account.stripe_id,
        "status": account.status,
        "deauthorized_at__isnull": account.deauthorized_at is None,
    }
    mark = account.last_event_created
    guard = {**read, "last_event_created": mark} if mark else {
        **read, "last_event_created__isnull": True
    }
    decision = handlers.decide(account, event, data)
    if isinstance(decision, handlers.Ignore):
        with transaction.atomic(using=alias):
            return ignore(event, decision.reason, retry, alias, data)
    account.updated_at = timezone.now()  # update() skips auto_now
    values = {name: getattr(account, name) for name in decision.fields}
    with transaction.atomic(using=alias):
        if not ExpressAccount.objects.using(alias).filter(**guard).update(**values):
            return None
        saved = record(event, Status.PROCESSED, decision.note, retry, alias)
        _on_commit_applied(saved, event, account, previous_status, decision, data, alias)
    logger.info("Webhook %s %s applied to %s", event.type, event.id, account.stripe_id)
    return PROCESSED




__all__ = ["Answer", "process_event", "process_stored", "queue_event"]


def process_event(event: StripeEvent | WebhookEvent) -> Answer:
    """Record and apply a verified event exactly once.

    Also takes a stored `WebhookEvent` (a failed event processed again from the
    admin, or a queued one in the task): its payload is processed as if Stripe
    had delivered it again.
    """
    alias = database_alias()
    if isinstance(event, WebhookEvent):
        stored = event
        try:
            event = event_from_dict(stored.payload)
        except handlers.InvalidWebhook as exc:
            return _refuse_stored(stored, exc.log_detail or exc.reason, alias)
        if event.id != stored.stripe_id:
            # Processed, it would be recorded under another id and this row
            # stay "received" for ever; a row is only ever its own event.
            return _refuse_stored(stored, "the payload's id is not the row's", alias)
    try:
        if handlers.needs_fetch(event):
            return process_fetched(event, alias)
        return apply_locked(event, None, alias)
    except _AlreadyProcessed:
        return _DUPLICATE
    except Exception as exc:
        return _failed(event, exc, alias)


def _refuse_stored(stored: WebhookEvent, why: str, alias: str) -> Answer:
    """A stored row whose payload is not its own event: marked failed (staff see
    why in its detail), never left waiting; answered as a failure."""
    logger.error("Webhook event %s refused: %s", stored.stripe_id, why)
    WebhookEvent.objects.using(alias).filter(pk=stored.pk).update(
        status=Status.FAILED, detail=f"refused: {why}"[:_DETAIL_MAX], attempts=F("attempts") + 1,
        processed_at=timezone.now(),
    )
    return FAILED


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
        _record_failure(event, f"{type(exc).__name__}: {exc}", alias)
    except Exception as again:  # the database itself is unwell: Stripe retries anyway
        logger.error(
            "Webhook %s %s: recording the failure failed too (%s)",
            event.type, event.id, type(again).__name__,
        )
    return FAILED


# -- "task" processing: the request records, a task applies ------------------------
def queue_event(event: StripeEvent, enqueue: Callable[[str], object]) -> Answer:
    """Record `event` as received and hand its id to `enqueue` (the task's; see
    `receive`), which applies it later through `process_stored`.

    One INSERT for a new event. A redelivery of an event still waiting (or
    failed) is handed over again: the task applies each event once whatever
    the number of tasks.
    """
    alias = database_alias()
    values = _row_values(event, Status.RECEIVED, "")
    recorded = insert(alias, stripe_id=event.id, attempts=0, **values)
    if recorded is None and handlers.is_duplicate(stored_status(event, alias)):
        return _DUPLICATE
    if transaction.get_autocommit(using=alias):
        return _enqueue(event, alias, enqueue)
    # Inside the caller's transaction: a worker must not look before it commits.
    transaction.on_commit(functools.partial(_enqueue, event, alias, enqueue), using=alias)
    return _QUEUED


def _enqueue(event: StripeEvent, alias: str, enqueue: Callable[[str], object]) -> Answer:
    try:
        enqueue(event.id)
    except Exception as exc:  # no Tasks framework, a backend down: recorded as failed
        return _failed(event, exc, alias)
    return _QUEUED


def process_stored(event_id: str) -> Answer:
    """Apply the recorded event `event_id` (the task's work)."""
    stored = WebhookEvent.objects.using(database_alias()).filter(stripe_id=event_id).first()
    if stored is None:
        logger.warning("Webhook event %s is not stored (pruned?); nothing to do", event_id)
        return _DUPLICATE
    if handlers.is_duplicate(stored.status):
        return _DUPLICATE
    return process_event(stored)


def process_waiting(older_than: datetime.timedelta) -> Iterator[tuple[str, str, Answer]]:
    """Apply again the recorded events of this mode still *received* or *failed*
    ``older_than`` after they arrived, oldest first: each event's id, type and answer.

    What a lost task leaves (its worker killed: Stripe had its 200 and will not
    send the event again), and what Stripe gave up retrying. Each is applied at
    most once, whoever else processes it meanwhile (`process_stored`)."""
    cutoff = timezone.now() - older_than
    waiting = list(WebhookEvent.objects.using(database_alias()).filter(
        status__in=handlers.RETRYABLE, livemode=app_settings.livemode, received_at__lt=cutoff,
    ).order_by("received_at", "pk").values_list("stripe_id", "type"))
    for stripe_id, event_type in waiting:
        yield stripe_id, event_type, process_stored(stripe_id)
