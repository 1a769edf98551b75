"""What an event is and what it changes: pure decisions, no database and no Stripe.

A verified body becomes a `StripeEvent` here (`parse_event`: the one place
that knows Stripe's payload families). The snapshot event (``"object":
"event"``, a webhook endpoint's) carries the object as it was when the event
happened (``data.object``), the connected account in ``account`` and
``created`` in Unix seconds. The thin event notification (``"object":
"v2.core.event"``, an event destination's, Accounts v2) carries no object:
``related_object`` names it, so the app fetches it; ``created`` is an RFC 3339
time with milliseconds.

Then the rules (`_HANDLERS`): given the account as stored and the event, what
changes on the `ExpressAccount` (`Change`) or why nothing does (`Ignore`:
stale, other mode, unknown account, unhandled type). `store` applies them.
"""

from __future__ import annotations

import datetime
import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from django.utils import timezone

from ..accounts import may_need_repair, not_objects, rfc3339, storable_json, storable_text
from ..accounts.v2 import is_closed
from ..conf import app_settings
from ..models import UPDATE_FIELDS, ExpressAccount, Payout, WebhookEvent


class InvalidWebhook(Exception):
    """A delivery that is not a genuine, well-formed Stripe event: answered with 400.

    ``reason`` is short and safe to send back; ``log_detail`` adds what an
    operator needs (never a secret, a signature or the payload's content).
    """

    def __init__(self, reason: str, log_detail: str = "") -> None:
        super().__init__(reason)
        self.reason = reason
        self.log_detail = log_detail


@dataclass(frozen=True)
class StripeEvent:
    """A verified Stripe event: its envelope, its ``data.object`` and the whole dict."""

    id: str
    type: str
    account: str  # the connected account (top-level ``account``), "" for platform events
    livemode: bool
    created: datetime.datetime
    created_ts: int
    api_version: str
    object: dict[str, Any]
    raw: dict[str, Any]
    #: Characters or numbers of the body that no database stores, replaced in
    #: `raw` and `object` (see `storable`); 0 for almost every event.
    repaired: int = 0
    #: A thin event notification (Accounts v2): no ``object``, the app fetches it.
    thin: bool = False


def parse_event(payload: bytes) -> StripeEvent:
    """The event in a verified `payload`; `InvalidWebhook` (400) for anything else."""
    try:
        data = json.loads(payload)
    except (ValueError, RecursionError) as exc:  # UnicodeDecodeError is a ValueError
        raise InvalidWebhook("malformed JSON", log_detail=type(exc).__name__) from None
    repaired = 0
    if may_need_repair(payload):
        data, repaired = storable_json(data)
    return event_from_dict(data, repaired)


def event_from_dict(data: Any, repaired: int = 0) -> StripeEvent:
    """The event in a decoded body, or in a stored payload (already storable)."""
    kind = data.get("object") if isinstance(data, dict) else None
    family = _FAMILIES.get(kind) if isinstance(kind, str) else None
    if family is None:
        raise InvalidWebhook("not a Stripe event", log_detail="no object=event or v2.core.event")
    return family(data, repaired)


def _envelope_str(value: Any) -> bool:
    # Fits the model's columns. Stripe's ids and types are printable ASCII
    # (so a NUL, or what replaced one, is not Stripe's).
    return (
        isinstance(value, str) and 0 < len(value) <= 255 and value.isascii() and value.isprintable()
    )


#: Stripe's ids: a type prefix and letters, digits or underscores. Only ids of
#: this shape reach a Stripe URL or a log line (``.``, ``..``, ``/`` or a line
#: break in an id would reach another endpoint, or forge a log line).
_EVENT_ID = re.compile(r"evt_[A-Za-z0-9_]{1,250}")

_ACCOUNT_ID = re.compile(r"acct_[A-Za-z0-9_]{1,250}")


def is_account_id(value: Any) -> bool:
    """Whether `value` is shaped like a Stripe account id (``acct_...``)."""
    return isinstance(value, str) and _ACCOUNT_ID.fullmatch(value) is not None


def _event_id(value: Any) -> bool:
    return isinstance(value, str) and _EVENT_ID.fullmatch(value) is not None


def _snapshot(data: dict[str, Any], repaired: int) -> StripeEvent:
    event_id, type_, created = data.get("id"), data.get("type"), data.get("created")
    body = data.get("data")
    obj = body.get("object") if isinstance(body, dict) else None
    account = data.get("account")
    problems = [
        name
        for name, ok in (
            ("id", _event_id(event_id)),
            ("type", _envelope_str(type_)),
            ("created", isinstance(created, int) and not isinstance(created, bool)),
            ("data.object", isinstance(obj, dict)),
            ("account", account is None or account == "" or is_account_id(account)),
        )
        if not ok
    ]
    if problems:
        raise InvalidWebhook("not a Stripe event", log_detail="bad " + ", ".join(problems))
    # Checked above; these narrow the types for mypy.
    assert isinstance(event_id, str)
    assert isinstance(type_, str)
    assert isinstance(created, int)
    assert isinstance(obj, dict)
    try:
        when = datetime.datetime.fromtimestamp(created, tz=datetime.timezone.utc)
    except (OverflowError, OSError, ValueError):
        raise InvalidWebhook("not a Stripe event", log_detail="bad created") from None
    return StripeEvent(
        id=event_id,
        type=type_,
        account=account or "",
        livemode=bool(data.get("livemode")),
        created=when,
        created_ts=created,
        api_version=str(data.get("api_version") or "")[:64],
        object=obj,
        raw=data,
        repaired=repaired,
    )

#: The ``related_object.type`` of a thin event about an account.
_V2_ACCOUNT = "v2.core.account"

#: RFC 3339, as Stripe writes v2 times: ``2026-11-28T23:08:00.000Z``.
def _thin(data: dict[str, Any], repaired: int) -> StripeEvent:
    event_id, type_ = data.get("id"), data.get("type")
    when = rfc3339(data.get("created"))
    related = data.get("related_object")
    related_id = related.get("id") if isinstance(related, dict) else None
    # Only an account's id is an account; other related objects (a person...)
    # are recorded with no account.
    about_account = isinstance(related, dict) and related.get("type") == _V2_ACCOUNT
    problems = [
        name
        for name, ok in (
            ("id", _event_id(event_id)),
            ("type", _envelope_str(type_)),
            ("created", when is not None),
            ("livemode", isinstance(data.get("livemode"), bool)),
            ("related_object", related is None or _envelope_str(related_id)),
            ("related_object.id", not about_account or is_account_id(related_id)),
        )
        if not ok
    ]
    if problems:
        raise InvalidWebhook("not a Stripe event", log_detail="bad " + ", ".join(problems))
    assert isinstance(event_id, str)
    assert isinstance(type_, str)
    assert when is not None
    return StripeEvent(
        id=event_id,
        type=type_,
        account=str(related_id) if about_account else "",
        livemode=bool(data.get("livemode")),
        created=when,
        created_ts=int(when.timestamp()),
        api_version="",
        object={},
        raw=data,
        repaired=repaired,
        thin=True,
    )

#: ``object`` of a body -> its parser.
_FAMILIES: dict[str, Callable[[dict[str, Any], int], StripeEvent]] = {
    "event": _snapshot,
    "v2.core.event": _thin,
}


_STALE = "stale"

_CLOCK_SKEW = datetime.timedelta(seconds=60)

Status = WebhookEvent.Status

#: An event stored in one of these states is a duplicate: answered 200, nothing done.
_DONE = (Status.PROCESSED, Status.IGNORED)

#: An event stored in one of these states is processed again when it comes back.
RETRYABLE = (Status.RECEIVED, Status.FAILED)


@dataclass(frozen=True)
class Change:
    """The event was applied to the instance; these fields must be written."""

    fields: tuple[str, ...]
    deauthorized: bool = False
    note: str = ""  # recorded as the event's detail (what could not be stored)
    #: A payout event's values for its `Payout` row (`store` applies them under
    #: the account's lock, see `models.record_payout`); None for other events.
    payout: Mapping[str, Any] | None = None


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
#: ``include`` the app reads, applied whole (`_thin_account`).
_THIN_ACCOUNT_TYPES = (
    "v2.core.account.updated",
    "v2.core.account.closed",
    "v2.core.account[requirements].updated",
    "v2.core.account[future_requirements].updated",
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
_LINK_RETURNED = "v2.core.account_link.returned"

#: Types whose mark is `last_event_created` (a newer one makes them stale).
_MARKED = ("account.updated", *_THIN_ACCOUNT_TYPES, _LINK_RETURNED)

#: Snapshot (v1) types that carry an account's state, in v1 shape.
_V1_STATE = ("account.updated", "capability.updated")


def is_duplicate(stored_status: str | None) -> bool:
    """Whether an event stored with this status (None: not stored) is done with."""
    return stored_status in _DONE


def screen(event: StripeEvent) -> Ignore | None:
    """Why `event` changes nothing whatever it is about (its mode, its type): decided
    from the envelope alone, before any call to Stripe (even the event's own fetch)."""
    if event.livemode != app_settings.livemode:
        mode = "live" if event.livemode else "test"
        return Ignore(f"{mode}-mode event, other mode configured")
    if event.type in _PLATFORM_EVENTS:
        return Ignore(_PLATFORM_EVENTS[event.type])
    if event.type not in _HANDLERS:
        return Ignore(f"unhandled type {event.type}")
    return None


def target(event: StripeEvent) -> str | Ignore:
    """The id of the account `event` may change, or why it changes none.

    Decided from the event alone, before anything is read.
    """
    screened = screen(event)
    if screened is not None:
        return screened
    named = _object_account(event)
    if named and not is_account_id(named):
        # Never a Stripe URL nor a log line: the reason does not repeat it.
        return Ignore("data.object names no account id (acct_...)")
    if named and event.account and named != event.account:
        # Stripe sends a connected account's events with that account on top;
        # an object about another account is not one to apply.
        return Ignore(
            f"account mismatch: data.object is {named}, the event is {event.account}'s"
        )
    return named or event.account or Ignore("no account in event")

#: The platform's own events (no ``account``) that the app acts on through the
#: `webhook_event` signal rather than on an account: recorded with these words.
_PLATFORM_EVENTS = {
    "balance.available": "platform balance available: transfers waiting for funds are sent "
    "again (payments)",
    "transfer.reversed": "platform transfer event: its amount reversed is kept (payments)",
    "transfer.updated": "platform transfer event: its amount reversed is kept (payments)",
    "payment_intent.succeeded": "platform payment: a destination charge's transfer is "
    "recorded (payments)",
    "charge.succeeded": "platform charge: a destination charge's transfer is recorded "
    "(payments)",
    "charge.refunded": "platform refund: the destination charge's transfer's amount "
    "reversed is kept (payments)",
}

#: Where the object of each handled type names its account (deauthorization
#: events carry an Application: the envelope's ``account`` is the only one).
_OBJECT_ACCOUNT_KEY = {
    "account.updated": "id",
    "capability.updated": "account",
    "account.external_account.created": "account",
    "account.external_account.updated": "account",
}


def _object_account(event: StripeEvent) -> str:
    key = _OBJECT_ACCOUNT_KEY.get(event.type)
    value = event.object.get(key) if key else None
    return value if isinstance(value, str) else ""


def needs_fetch(event: StripeEvent) -> bool:
    """Whether the account must be read from Stripe before `event` is applied:
    always for a handled thin event, which carries no data; for ``account.updated``
    with ``WEBHOOK_REFETCH_ACCOUNT``."""
    if event.thin:
        return event.type in _HANDLERS
    return event.type == "account.updated" and app_settings.WEBHOOK_REFETCH_ACCOUNT


def needs_event_fetch(event: StripeEvent) -> bool:
    """Whether the account is named only in the full event (`_LINK_RETURNED`)."""
    return event.thin and event.type == _LINK_RETURNED and not event.account


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
    if event.type in _MARKED and _is_stale(account, event):
        return Ignore(_STALE)
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
        return _account_gone(account, data)
    return _HANDLERS[event.type](account, event, event.object if data is None else data)


#: How far ahead of this server's clock an event's ``created`` may be and still
#: mark the account (clock skew); beyond it, see `_mark`.
_FUTURE_LIMIT = datetime.timedelta(minutes=5)


def _mark(event: StripeEvent) -> tuple[datetime.datetime, str]:
    """The time `event` marks the account with, and a note when it is not ``created``.

    An event dated far in the future (a wrong clock, a bug, a leaked secret)
    would otherwise make every later event stale until that date: it is
    ordered as received now.
    """
    now = timezone.now()
    if event.created > now + _FUTURE_LIMIT:
        return now, "created in the future: ordered as received now"
    return event.created, ""


def _is_stale(account: ExpressAccount, event: StripeEvent) -> bool:
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
    (the fields Stripe sent that do not fit their column, objects that are not
    objects, a mark clamped to now)."""
    dropped = account.apply(data)
    account.last_event_created, clamped = _mark(event)
    notes = [f"not stored (too long): {', '.join(dropped)}"] if dropped else []
    odd = not_objects(data)
    if odd:
        notes.append(f"not an object, read as empty: {', '.join(odd)}")
    if clamped:
        notes.append(clamped)
    return "; ".join(notes)


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
        return Ignore(_STALE)
    account.capabilities = {**(account.capabilities or {}), name: status}
    mark_at, note = _mark(event)
    marks[name] = int(mark_at.timestamp())
    account.capability_event_created = marks
    return Change(
        ("capabilities", "capability_event_created", "status", "updated_at"), note=note
    )


def account_deauthorized(
    account: ExpressAccount, event: StripeEvent, data: Mapping[str, Any]
) -> Change | Ignore:
    """Mark the account disconnected; Stripe is not called (access is gone)."""
    if account.deauthorized_at is not None:
        return Ignore("already disconnected")
    if event.created < account.connected_at - _CLOCK_SKEW:
        # The user connected again after this disconnection. (Stripe's clock
        # and ours differ a little: a disconnection right after connecting
        # must still count.)
        return Ignore(_STALE)
    account.deauthorized_at = event.created
    return Change(("deauthorized_at", "status", "updated_at"), deauthorized=True)


def _thin_account(
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


def _account_gone(account: ExpressAccount, gone: Gone) -> Change | Ignore:
    """The platform can no longer reach the account: disconnected, not a failure
    (a 500 here would make Stripe retry the event for days)."""
    if account.deauthorized_at is not None:
        return Ignore("already disconnected")
    account.deauthorized_at = timezone.now()
    account.status = account.derive_status()
    note = f"the account is out of the platform's reach ({gone.code}): marked disconnected"
    return Change(("deauthorized_at", "status", "updated_at"), deauthorized=True, note=note)

# -- payouts (Connect events: the envelope's ``account`` is the user's) ---------------
_PAYOUT_ID = re.compile(r"po_[A-Za-z0-9_]{1,250}")

#: Payout event types -> the status their name implies (None: the object's only).
_PAYOUT_TYPES: dict[str, str | None] = {
    "payout.created": None,
    "payout.updated": None,
    "payout.paid": Payout.Status.PAID,
    "payout.failed": Payout.Status.FAILED,
    "payout.canceled": Payout.Status.CANCELED,
}

_CURRENCY = re.compile(r"[a-z]{3}")


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _stamp(value: Any) -> datetime.datetime | None:
    seconds = _int(value)
    if seconds is None:
        return None
    try:
        return datetime.datetime.fromtimestamp(seconds, tz=datetime.timezone.utc)
    except (OverflowError, OSError, ValueError):
        return None


def _text(value: Any, limit: int) -> str:
    return storable_text(value)[0][:limit] if isinstance(value, str) else ""


def payout_values(event: StripeEvent, obj: Mapping[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """The `Payout` row's values in a payout object, and what was missing or odd
    (recorded as the event's note): a partial object is kept as far as it goes."""
    odd: list[str] = []
    status = obj.get("status")
    if status not in Payout.Status.values:
        implied = _PAYOUT_TYPES.get(event.type)
        status = implied or Payout.Status.PENDING
        odd.append("status")
    amount = _int(obj.get("amount"))
    currency = obj.get("currency")
    if not (isinstance(currency, str) and _CURRENCY.fullmatch(currency)):
        currency = ""
    arrival, created = _stamp(obj.get("arrival_date")), _stamp(obj.get("created"))
    method, automatic = obj.get("method"), obj.get("automatic")
    for name, ok in (
        ("amount", amount is not None), ("currency", bool(currency)),
        ("arrival_date", arrival is not None), ("created", created is not None),
        ("method", isinstance(method, str)), ("automatic", isinstance(automatic, bool)),
    ):
        if not ok:
            odd.append(name)
    values = {
        "stripe_id": obj["id"],
        "status": status,
        "amount": amount or 0,
        "currency": currency,
        "arrival_date": arrival,
        "created": created,
        "failure_code": _text(obj.get("failure_code"), 255),
        "failure_message": _text(obj.get("failure_message"), 2000),
        "method": _text(method, 32),
        "automatic": automatic if isinstance(automatic, bool) else True,
    }
    return values, odd


def payout_event(
    account: ExpressAccount, event: StripeEvent, data: Mapping[str, Any]
) -> Change | Ignore:
    """Keep the payout's row (`models.record_payout` applies it, under the lock)."""
    if not (isinstance(data.get("id"), str) and _PAYOUT_ID.fullmatch(data["id"])):
        return Ignore("payout object without a payout id (po_...)")
    values, odd = payout_values(event, data)
    note = f"payout object partial, not read: {', '.join(odd)}" if odd else ""
    return Change((), note=note, payout=values)


def external_account_changed(
    account: ExpressAccount, event: StripeEvent, data: Mapping[str, Any]
) -> Change | Ignore:
    """The user changed their bank account: a failed payout is no longer the news."""
    failed_at = account.payout_failed_at
    if failed_at is None:
        return Ignore("no failed payout to clear")
    if event.created < failed_at:
        return Ignore(_STALE)
    return Change(tuple(account.clear_payout_failure()), note="failed payout cleared")


_HANDLERS: dict[str, Handler] = {
    **dict.fromkeys(_PAYOUT_TYPES, payout_event),
    "account.external_account.created": external_account_changed,
    "account.external_account.updated": external_account_changed,
    "account.updated": account_updated,
    "capability.updated": capability_updated,
    "account.application.deauthorized": account_deauthorized,
    **dict.fromkeys(_THIN_ACCOUNT_TYPES, _thin_account),
    _LINK_RETURNED: _thin_account,
}


# -- Which events the app needs, and from which kind of destination ----------
#
# `manage.py stripe_express_webhooks` prints these; with ``--check`` it lists the
# platform's webhook endpoints and event destinations at Stripe and names what
# none of them sends (`uncovered`). A destination is described by where its
# events come from (connected accounts, or the platform's own account) and their
# payload (snapshot or thin): the same event type from the wrong kind never
# reaches the rules above (a ``payout.failed`` of the platform's own account is
# not a user's).

CONNECT = "connect"  # events of connected accounts (events_from @accounts)
PLATFORM = "platform"  # events of the platform's own account (@self)
SNAPSHOT, THIN = "snapshot", "thin"


@dataclass(frozen=True)
class Need:
    """Events the app needs from one kind of destination, for one purpose.

    Each entry of ``events`` is one event type, or a tuple of types any one of
    which will do (a destination charge's transfer is recorded from
    ``payment_intent.succeeded`` or ``charge.succeeded``)."""

    purpose: str
    source: str
    payload: str
    events: tuple[str | tuple[str, ...], ...]


def needs(*, v1: bool, v2: bool, oauth: bool, payments: bool) -> list[Need]:
    """What the app needs for the accounts it keeps (v1, v2, connected through
    OAuth) and, with ``payments``, for the transfer ledger. Payouts are always
    needed: every connected account is paid out."""
    found = []
    if v1:
        found.append(Need("Accounts v1: status and capabilities", CONNECT, SNAPSHOT,
                          ("account.updated", "capability.updated")))
    if oauth:
        found.append(Need("OAuth: a user who revokes access", CONNECT, SNAPSHOT,
                          ("account.application.deauthorized",)))
    if v2:
        found.append(Need("Accounts v2: status, requirements and closing", PLATFORM, THIN, (
            "v2.core.account.updated",
            "v2.core.account[requirements].updated",
            "v2.core.account[configuration.recipient].capability_status_updated",
            "v2.core.account.closed",
        )))
    found.append(Need("payouts and failed payouts", CONNECT, SNAPSHOT, (
        *_PAYOUT_TYPES, "account.external_account.created", "account.external_account.updated",
    )))
    if payments:
        found.append(Need("paying users: waiting for funds, reversals, destination charges",
                          PLATFORM, SNAPSHOT, (
                              "balance.available", "transfer.reversed", "transfer.updated",
                              ("payment_intent.succeeded", "charge.succeeded"),
                              "charge.refunded",
                          )))
    return found


@dataclass(frozen=True)
class Destination:
    """A webhook endpoint or event destination as Stripe lists it.

    ``sources`` (`CONNECT`, `PLATFORM`) is empty for a v1 webhook endpoint:
    Stripe's object does not say whether it is a Connect endpoint (``connect``
    is a create parameter only). ``url`` is None when Stripe did not show it."""

    id: str
    url: str | None
    sources: frozenset[str]
    payload: str
    events: frozenset[str]
    enabled: bool

    def sends(self, event_type: str) -> bool:
        return self.enabled and (event_type in self.events or "*" in self.events)

    def posts_to(self, paths: tuple[str, ...]) -> bool:
        """Whether it posts to one of the app's webhook ``paths`` (or may: no URL shown)."""
        return self.url is None or urlsplit(self.url).path in paths


@dataclass(frozen=True)
class Gap:
    """An event the app needs that no enabled destination of the right kind posts
    to the app's URLs. ``maybe``: a v1 endpoint of unknown kind sends it."""

    need: Need
    event: str
    maybe: tuple[str, ...] = ()


def uncovered(
    wanted: list[Need], destinations: list[Destination], our_paths: tuple[str, ...]
) -> list[Gap]:
    """The events of ``wanted`` that no destination posting to one of
    ``our_paths`` sends as ``wanted`` says (kind and payload)."""
    ours = [d for d in destinations if d.posts_to(our_paths)]
    gaps = []
    for need in wanted:
        fitting = [d for d in ours if d.payload == need.payload]
        for entry in need.events:
            choices = (entry,) if isinstance(entry, str) else entry
            if any(need.source in d.sources and d.sends(t) for d in fitting for t in choices):
                continue
            maybe = tuple(sorted({d.id for d in fitting if not d.sources
                                  for t in choices if d.sends(t)}))
            gaps.append(Gap(need, " or ".join(choices), maybe))
    return gaps
