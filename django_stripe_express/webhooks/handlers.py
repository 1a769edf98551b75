"""What each handled event type changes on an `ExpressAccount`, in memory.

A handler looks at the account as read and the event, and either changes the
instance and names the fields to write (`Change`), or says why the event is not
applied (`Ignore`). Writing, recording and signalling are `process.py`'s job,
so these stay pure and easy to test.

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
from ..models import ExpressAccount
from .event import StripeEvent

STALE = "stale"
CLOCK_SKEW = datetime.timedelta(seconds=60)


@dataclass(frozen=True)
class Change:
    """The event was applied to the instance; these fields must be written."""

    fields: tuple[str, ...]
    deauthorized: bool = False


@dataclass(frozen=True)
class Ignore:
    """The event is recorded but not applied, for this reason."""

    reason: str


Handler = Callable[[ExpressAccount, StripeEvent, Mapping[str, Any]], "Change | Ignore"]


def account_id(event: StripeEvent) -> str:
    """The connected account an event is about ("" when it names none)."""
    obj = event.object
    if event.type == "account.updated" and isinstance(obj.get("id"), str):
        return str(obj["id"])
    if event.type.startswith("capability.") and isinstance(obj.get("account"), str):
        return str(obj["account"])
    return event.account


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
    apply_account(account, data)
    if newer:
        account.capabilities = {**account.capabilities, **newer}
    account.last_event_created = event.created
    return Change((*UPDATE_FIELDS, "last_event_created"))


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
    account.status = account.derive_status()
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
    account.status = account.derive_status()
    return Change(("deauthorized_at", "status", "updated_at"), deauthorized=True)


HANDLERS: dict[str, Handler] = {
    "account.updated": account_updated,
    "capability.updated": capability_updated,
    "account.application.deauthorized": account_deauthorized,
}
