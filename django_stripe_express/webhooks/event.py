"""A verified body parsed into a `StripeEvent`: the one place that knows Stripe's
payload families.

Today there is one family, the snapshot event (``"object": "event"``), which
carries the object as it was when the event happened. Accounts v2 thin events
(``"object": "v2.core.event"``: no object, only its id, so the app fetches it)
are meant to be a second entry of `FAMILIES`, parsed into the same shape; the
rest of the path (record once, fetch, apply under the ordering rule) is shared.
"""

from __future__ import annotations

import datetime
import json
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
        raise InvalidWebhook("not a Stripe event", log_detail="no object=event")
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


#: ``object`` of a body -> its parser.
FAMILIES: dict[str, Callable[[dict[str, Any], int], StripeEvent]] = {"event": _snapshot}
