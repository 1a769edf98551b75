"""The rules: what an event changes on an `ExpressAccount`, decided in Python.

Every decision about an event is made here, and only here: whether it was
seen before (`is_duplicate`), which account it may change (`target`), whether
it must be fetched from Stripe first (`needs_fetch`), and what it changes
(`decide`: stale or not, capability marks, connected or not). A decision is a
`Change` (the instance was changed; write these fields) or an `Ignore` (record
the event with this reason). Reading, writing, recording and signalling are
`process.py`'s job, so these stay pure and easy to test.

Ordering: events arrive late and out of order. `last_event_created` holds the
``created`` of the newest ``account.updated`` applied; `capability_event_created`
one mark per capability. An event older than the mark is stale. Stripe's
``created`` has one-second resolution, so an event from the same second as the
mark is applied (delivery order decides within a second).
"""

from __future__ import annotations

import datetime
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from ..accounts import UPDATE_FIELDS, apply_account
from ..conf import app_settings
from ..models import ExpressAccount, WebhookEvent
from .event import StripeEvent

STALE = "stale"
CLOCK_SKEW = datetime.timedelta(seconds=60)

Status = WebhookEvent.Status
#: An event stored in one of these states is a duplicate: answered 200, nothing done.
DONE = (Status.PROCESSED, Status.IGNORED)
#: An event stored in one of these states is processed again when it comes back.
RETRYABLE = (Status.RECEIVED, Status.FAILED)


@dataclass(frozen=True)
class Change:
    """The event was applied to the instance; these fields must be written."""

    fields: tuple[str, ...]
    deauthorized: bool = False
    note: str = ""  # recorded as the event's detail (what could not be stored)


@dataclass(frozen=True)
class Ignore:
    """The event is recorded but not applied, for this reason."""

    reason: str


Handler = Callable[[ExpressAccount, StripeEvent, Mapping[str, Any]], "Change | Ignore"]


def is_duplicate(stored_status: str | None) -> bool:
    """Whether an event stored with this status (None: not stored) is done with."""
    return stored_status in DONE


def target(event: StripeEvent) -> str | Ignore:
    """The id of the account `event` may change, or why it changes none.

    Decided from the event alone, before anything is read.
    """
    if event.livemode != app_settings.livemode:
        mode = "live" if event.livemode else "test"
        return Ignore(f"{mode}-mode event, other mode configured")
    if event.type not in HANDLERS:
        return Ignore(f"unhandled type {event.type}")
    named = _object_account(event)
    if named and event.account and named != event.account:
        # Stripe sends a connected account's events with that account on top;
        # an object about another account is not one to apply.
        return Ignore(
            f"account mismatch: data.object is {named}, the event is {event.account}'s"
        )
    return named or event.account or Ignore("no account in event")


#: Where the object of each handled type names its account (deauthorization
#: events carry an Application: the envelope's ``account`` is the only one).
OBJECT_ACCOUNT_KEY = {"account.updated": "id", "capability.updated": "account"}


def _object_account(event: StripeEvent) -> str:
    key = OBJECT_ACCOUNT_KEY.get(event.type)
    value = event.object.get(key) if key else None
    return value if isinstance(value, str) else ""


def needs_fetch(event: StripeEvent) -> bool:
    """Whether the account must be read from Stripe before `event` is applied."""
    return event.type == "account.updated" and app_settings.WEBHOOK_REFETCH_ACCOUNT


def decide(
    account: ExpressAccount | None, event: StripeEvent, data: Mapping[str, Any] | None = None
) -> Change | Ignore:
    """Apply `event` to `account` (as read, locked) in memory, or say why not.

    `data` is the object to apply: the event's own, or one fetched from Stripe.
    """
    if account is None:
        return Ignore("unknown account")
    return HANDLERS[event.type](account, event, event.object if data is None else data)


def is_stale(account: ExpressAccount, event: StripeEvent) -> bool:
    """Whether a newer ``account.updated`` than `event` was already applied."""
    mark = account.last_event_created
    return mark is not None and event.created < mark


def account_updated(
    account: ExpressAccount, event: StripeEvent, data: Mapping[str, Any]
) -> Change | Ignore:
    """Copy the Account object (`data`: the payload's or a fresh one from Stripe)."""
    if is_stale(account, event):
        return Ignore(STALE)
    marks = account.capability_event_created or {}
    # A capability.updated newer than this event already set these: keep them.
    newer = {
        name: account.capabilities[name]
        for name, created in marks.items()
        if created > event.created_ts and name in (account.capabilities or {})
    }
    dropped = apply_account(account, data)
    if newer:
        account.capabilities = {**account.capabilities, **newer}
    account.last_event_created = event.created
    note = f"not stored (too long): {', '.join(dropped)}" if dropped else ""
    return Change((*UPDATE_FIELDS, "last_event_created"), note=note)


def capability_updated(
    account: ExpressAccount, event: StripeEvent, data: Mapping[str, Any]
) -> Change | Ignore:
    """Set one capability's status (``data.object`` is a Capability)."""
    name, status = data.get("id"), data.get("status")
    if not (isinstance(name, str) and name and isinstance(status, str)):
        return Ignore("capability without id or status")
    marks = dict(account.capability_event_created or {})
    account_mark = account.last_event_created
    mark = max(
        int(marks.get(name) or 0), int(account_mark.timestamp()) if account_mark else 0
    )
    if event.created_ts < mark:
        return Ignore(STALE)
    account.capabilities = {**(account.capabilities or {}), name: status}
    marks[name] = event.created_ts
    account.capability_event_created = marks
    return Change(("capabilities", "capability_event_created", "status", "updated_at"))


def account_deauthorized(
    account: ExpressAccount, event: StripeEvent, data: Mapping[str, Any]
) -> Change | Ignore:
    """Mark the account disconnected; Stripe is not called (access is gone)."""
    if account.deauthorized_at is not None:
        return Ignore("already disconnected")
    if event.created < account.connected_at - CLOCK_SKEW:
        # The user connected again after this disconnection. (Stripe's clock
        # and ours differ a little: a disconnection right after connecting
        # must still count.)
        return Ignore(STALE)
    account.deauthorized_at = event.created
    return Change(("deauthorized_at", "status", "updated_at"), deauthorized=True)


HANDLERS: dict[str, Handler] = {
    "account.updated": account_updated,
    "capability.updated": capability_updated,
    "account.application.deauthorized": account_deauthorized,
}
