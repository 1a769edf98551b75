"""A verified body parsed into a `StripeEvent`: the one place that knows Stripe's
payload families (`FAMILIES`).

* The snapshot event (``"object": "event"``, a webhook endpoint's) carries the
  object as it was when the event happened (``data.object``), the connected
  account in ``account`` and ``created`` in Unix seconds.
* The thin event notification (``"object": "v2.core.event"``, an event
  destination's, Accounts v2) carries no object: ``related_object`` names it
  (``{"id": "acct_...", "type": "v2.core.account", "url": ...}``), so the app
  fetches it; ``created`` is an RFC 3339 time with milliseconds. Its
  ``object`` is empty and ``thin`` is set.

Both become the same `StripeEvent`, so the rest of the path (record once,
fetch, apply under the ordering rule) is shared.
"""

from __future__ import annotations

import datetime
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ..storable import may_need_repair, storable_json
from .signature import InvalidWebhook


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
    family = FAMILIES.get(kind) if isinstance(kind, str) else None
    if family is None:
        raise InvalidWebhook("not a Stripe event", log_detail="no object=event or v2.core.event")
    return family(data, repaired)


def _envelope_str(value: Any) -> bool:
    # Fits the model's columns. Stripe's ids and types are printable ASCII
    # (so a NUL, or what replaced one, is not Stripe's).
    return (
        isinstance(value, str) and 0 < len(value) <= 255 and value.isascii() and value.isprintable()
    )


def _snapshot(data: dict[str, Any], repaired: int) -> StripeEvent:
    event_id, type_, created = data.get("id"), data.get("type"), data.get("created")
    body = data.get("data")
    obj = body.get("object") if isinstance(body, dict) else None
    account = data.get("account")
    problems = [
        name
        for name, ok in (
            ("id", _envelope_str(event_id)),
            ("type", _envelope_str(type_)),
            ("created", isinstance(created, int) and not isinstance(created, bool)),
            ("data.object", isinstance(obj, dict)),
            ("account", account is None or account == "" or _envelope_str(account)),
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
V2_ACCOUNT = "v2.core.account"
#: RFC 3339, as Stripe writes v2 times: ``2026-11-28T23:08:00.000Z``.
_RFC3339 = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?(Z|[+-]\d{2}:\d{2})")


def _time(value: Any) -> datetime.datetime | None:
    if not isinstance(value, str) or not _RFC3339.fullmatch(value):
        return None
    try:
        return datetime.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None


def _thin(data: dict[str, Any], repaired: int) -> StripeEvent:
    event_id, type_ = data.get("id"), data.get("type")
    when = _time(data.get("created"))
    related = data.get("related_object")
    related_id = related.get("id") if isinstance(related, dict) else None
    problems = [
        name
        for name, ok in (
            ("id", _envelope_str(event_id)),
            ("type", _envelope_str(type_)),
            ("created", when is not None),
            ("livemode", isinstance(data.get("livemode"), bool)),
            ("related_object", related is None or _envelope_str(related_id)),
        )
        if not ok
    ]
    if problems:
        raise InvalidWebhook("not a Stripe event", log_detail="bad " + ", ".join(problems))
    assert isinstance(event_id, str)
    assert isinstance(type_, str)
    assert when is not None
    # Only an account's id is an account; other related objects (a person...)
    # are recorded with no account.
    about_account = isinstance(related, dict) and related.get("type") == V2_ACCOUNT
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
FAMILIES: dict[str, Callable[[dict[str, Any], int], StripeEvent]] = {
    "event": _snapshot,
    "v2.core.event": _thin,
}
