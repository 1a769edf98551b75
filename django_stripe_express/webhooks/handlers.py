"""The rules: what an event changes on an `ExpressAccount`, decided in Python.

Every decision about an event is made here, and only here: whether it was
seen before (`is_duplicate`), which account it may change (`target`), whether
it must be fetched from Stripe first (`needs_fetch`, `needs_event_fetch`),
whether the row alone rules it out (`precheck`: unknown, stale, the other
Accounts API, disconnected), and what it changes (`decide`: stale or not,
capability marks, connected or not). A decision is a `Change` (the instance
was changed; write these fields) or an `Ignore` (record the event with this
reason). Reading, fetching, writing, recording and signalling are
`apply.py`'s and `fetched.py`'s job, so these stay pure and easy to test.

Ordering: events arrive late and out of order. `last_event_created` holds the
``created`` of the newest ``account.updated`` (v1) or thin account event (v2)
applied; `capability_event_created` one mark per capability. An event older
than the mark is stale. Stripe's ``created`` has one-second resolution for
snapshot events (milliseconds for thin ones), so an event from the same
moment as the mark is applied (delivery order decides). A thin event's data
is fetched after the event happened, so it is at least as new as the event:
marking by the event keeps a slower fetch of an older event from overwriting
what a newer one stored.

Each Accounts API keeps its own accounts current: a v2 account by its thin
events, a v1 account by its snapshot events. A v1 ``account.updated`` or
``capability.updated`` about a v2 account (Stripe sends them, in v1 shape) is
recorded as ignored: applied, it would mix v1 names into the v2 row, and
re-reading it through v2 would repeat, at one more call, what the thin event
for the same change does. A thin event about a v1 account is ignored alike.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from django.utils import timezone

from ..accounts import UPDATE_FIELDS, apply_account
from ..accounts_v2 import is_closed
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


@dataclass(frozen=True)
class Gone:
    """The fetch found that the platform can no longer reach the account (revoked,
    deleted: 403 ``account_invalid``, 404): what to apply instead of its data."""

    code: str


Handler = Callable[[ExpressAccount, StripeEvent, Mapping[str, Any]], "Change | Ignore"]

#: Thin event types (Accounts v2) that re-read their account: one fetch with the
#: ``include`` the app reads, applied whole (`thin_account`).
THIN_ACCOUNT_TYPES = (
    "v2.core.account.updated",
    "v2.core.account.closed",
    "v2.core.account[requirements].updated",
    "v2.core.account[configuration.recipient].capability_status_updated",
    "v2.core.account[configuration.merchant].capability_status_updated",
    "v2.core.account[configuration.recipient].updated",
    "v2.core.account[configuration.merchant].updated",
    "v2.core.account[identity].updated",
    "v2.core.account[defaults].updated",
)
#: The user came back from a v2 Account Link. Its notification has no
#: ``related_object``: the account is in the event's ``data.account_id``
#: (``/v2/core/events/{id}``, one more call), then it is re-read like the others.
LINK_RETURNED = "v2.core.account_link.returned"
#: Types whose mark is `last_event_created` (a newer one makes them stale).
_MARKED = ("account.updated", *THIN_ACCOUNT_TYPES, LINK_RETURNED)
#: Snapshot (v1) types that carry an account's state, in v1 shape.
_V1_STATE = ("account.updated", "capability.updated")


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
    """Whether the account must be read from Stripe before `event` is applied:
    always for a handled thin event, which carries no data; for ``account.updated``
    with ``WEBHOOK_REFETCH_ACCOUNT``."""
    if event.thin:
        return event.type in HANDLERS
    return event.type == "account.updated" and app_settings.WEBHOOK_REFETCH_ACCOUNT


def needs_event_fetch(event: StripeEvent) -> bool:
    """Whether the account is named only in the full event (`LINK_RETURNED`)."""
    return event.thin and event.type == LINK_RETURNED and not event.account


def precheck(account: ExpressAccount | None, event: StripeEvent) -> Ignore | None:
    """Why `event` changes nothing on `account`, seen from the row alone; None if it may.

    Decided before anything is fetched (no call to Stripe for these), and again
    by `decide` on the row as it is when the change is written.
    """
    if account is None:
        return Ignore("unknown account")
    if event.thin and not account.is_v2:
        return Ignore("thin event about an Accounts v1 account: its snapshot events keep it")
    if not event.thin and account.is_v2 and event.type in _V1_STATE:
        return Ignore("v1 snapshot of an Accounts v2 account: its thin events keep it")
    if event.thin and not account.is_connected:
        return Ignore("account disconnected")
    if event.type in _MARKED and is_stale(account, event):
        return Ignore(STALE)
    return None


def decide(
    account: ExpressAccount | None,
    event: StripeEvent,
    data: Mapping[str, Any] | Gone | None = None,
) -> Change | Ignore:
    """Apply `event` to `account` (as read, locked) in memory, or say why not.

    `data` is the object to apply: the event's own, one fetched from Stripe, or
    `Gone` when the fetch found the account out of the platform's reach.
    """
    ruled_out = precheck(account, event)
    if ruled_out is not None:
        return ruled_out
    assert account is not None  # precheck ignores an unknown account
    if isinstance(data, Gone):
        return account_gone(account, data)
    return HANDLERS[event.type](account, event, event.object if data is None else data)


def is_stale(account: ExpressAccount, event: StripeEvent) -> bool:
    """Whether a newer ``account.updated`` (or thin event) than `event` was already applied."""
    mark = account.last_event_created
    return mark is not None and event.created < mark


def account_updated(
    account: ExpressAccount, event: StripeEvent, data: Mapping[str, Any]
) -> Change | Ignore:
    """Copy the Account object (`data`: the payload's or a fresh one from Stripe)."""
    marks = account.capability_event_created or {}
    # A capability.updated newer than this event already set these: keep them.
    newer = {
        name: account.capabilities[name]
        for name, created in marks.items()
        if created > event.created_ts and name in (account.capabilities or {})
    }
    note = _apply(account, event, data)
    if newer:
        account.capabilities = {**account.capabilities, **newer}
    return Change((*UPDATE_FIELDS, "last_event_created"), note=note)


def _apply(account: ExpressAccount, event: StripeEvent, data: Mapping[str, Any]) -> str:
    """Copy the account ``data`` and mark it with ``event``; the note to record
    (the fields Stripe sent that do not fit their column)."""
    dropped = apply_account(account, data)
    account.last_event_created = event.created
    return f"not stored (too long): {', '.join(dropped)}" if dropped else ""


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


def thin_account(
    account: ExpressAccount, event: StripeEvent, data: Mapping[str, Any]
) -> Change | Ignore:
    """Copy the v2 account fetched for a thin event; a closed one is disconnected."""
    note = _apply(account, event, data)
    if is_closed(data):
        account.deauthorized_at = event.created
        account.status = account.derive_status()
        fields = (*UPDATE_FIELDS, "last_event_created", "deauthorized_at")
        return Change(fields, deauthorized=True, note=note or "closed at Stripe")
    return Change((*UPDATE_FIELDS, "last_event_created"), note=note)


def account_gone(account: ExpressAccount, gone: Gone) -> Change | Ignore:
    """The platform can no longer reach the account: disconnected, not a failure
    (a 500 here would make Stripe retry the event for days)."""
    if account.deauthorized_at is not None:
        return Ignore("already disconnected")
    account.deauthorized_at = timezone.now()
    account.status = account.derive_status()
    note = f"the account is out of the platform's reach ({gone.code}): marked disconnected"
    return Change(("deauthorized_at", "status", "updated_at"), deauthorized=True, note=note)


HANDLERS: dict[str, Handler] = {
    "account.updated": account_updated,
    "capability.updated": capability_updated,
    "account.application.deauthorized": account_deauthorized,
    **dict.fromkeys(THIN_ACCOUNT_TYPES, thin_account),
    LINK_RETURNED: thin_account,
}
