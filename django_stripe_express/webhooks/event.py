"""Parsing a verified body into the few fields of a Stripe event the app uses."""

from __future__ import annotations

import datetime
import json
from dataclasses import dataclass
from typing import Any

from .errors import InvalidWebhook


@dataclass(frozen=True)
class StripeEvent:
    """A verified Stripe event: its envelope, its ``data.object`` and the raw dict."""

    id: str
    type: str
    account: str  # the connected account (top-level ``account``), "" for platform events
    livemode: bool
    created: datetime.datetime
    created_ts: int
    api_version: str
    object: dict[str, Any]
    raw: dict[str, Any]


def _short_str(value: Any) -> bool:
    # Fits the model's columns; NUL is refused by PostgreSQL text columns.
    return isinstance(value, str) and 0 < len(value) <= 255 and "\x00" not in value


def parse_event(payload: bytes) -> StripeEvent:
    """The event in `payload`, or `InvalidWebhook` for malformed JSON or a non-event."""
    try:
        data = json.loads(payload)
    except (ValueError, RecursionError) as exc:  # UnicodeDecodeError is a ValueError
        raise InvalidWebhook("malformed JSON", log_detail=type(exc).__name__) from None
    return event_from_dict(data)


def event_from_dict(data: Any) -> StripeEvent:
    """The event in a decoded body (or a stored payload); `InvalidWebhook` if not one."""
    if not isinstance(data, dict) or data.get("object") != "event":
        raise InvalidWebhook("not a Stripe event", log_detail="no object=event")
    event_id, type_, created = data.get("id"), data.get("type"), data.get("created")
    body = data.get("data")
    obj = body.get("object") if isinstance(body, dict) else None
    account = data.get("account")
    problems = [
        name
        for name, ok in (
            ("id", _short_str(event_id)),
            ("type", _short_str(type_)),
            ("created", isinstance(created, int) and not isinstance(created, bool)),
            ("data.object", isinstance(obj, dict)),
            ("account", account is None or account == "" or _short_str(account)),
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
    )
