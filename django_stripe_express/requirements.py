"""Reading an account's stored ``requirements`` without trusting its shape.

``requirements`` is Stripe's JSON as a webhook or a fetch delivered it. A
value of an unexpected type (a string ``current_deadline``, a number in
``currently_due``, a list where a dict belongs) must not make every page with
that user's button a 500: the readers below keep what is usable, drop the
rest, and log a warning naming the account and the key (never the value,
which may be personal data). Each bad key is logged once per loaded row.
"""

from __future__ import annotations

import datetime
import logging
from collections.abc import Mapping
from typing import Any, Protocol

logger = logging.getLogger(__name__)

_WARNED_ATTR = "_stripe_express_malformed_warned"


class HasRequirements(Protocol):
    stripe_id: str
    requirements: Any


def warn_malformed(account: HasRequirements, key: str, value: Any) -> None:
    """Log once per loaded row that ``key`` held a ``value`` of an unusable type."""
    warned: set[str] = account.__dict__.setdefault(_WARNED_ATTR, set())
    if key in warned:
        return
    warned.add(key)
    logger.warning(
        "Stripe Express account %s has malformed requirements: %s is a %s; "
        "shown without it until Stripe sends the account again.",
        account.stripe_id or "-", key, type(value).__name__,
    )


def requirements_of(account: HasRequirements) -> Mapping[str, Any]:
    """The ``requirements`` dict, or an empty one if it is not a dict."""
    value = account.requirements
    if value in (None, "", [], {}):
        return {}
    if not isinstance(value, Mapping):
        warn_malformed(account, "requirements", value)
        return {}
    return value


def _list_of(account: HasRequirements, key: str, kind: type[Any]) -> list[Any]:
    value = requirements_of(account).get(key)
    if value is None:
        return []
    if not isinstance(value, (list, tuple)):
        warn_malformed(account, f"requirements.{key}", value)
        return []
    kept = [item for item in value if isinstance(item, kind)]
    if len(kept) != len(value):
        odd = next(item for item in value if not isinstance(item, kind))
        warn_malformed(account, f"requirements.{key}[]", odd)
    return kept


def names(account: HasRequirements, key: str) -> list[str]:
    """The requirement names under ``key`` (e.g. ``currently_due``): strings only."""
    return _list_of(account, key, str)


def entries(account: HasRequirements, key: str) -> list[Mapping[str, Any]]:
    """The objects under ``key`` (e.g. ``errors``): dicts only."""
    return _list_of(account, key, Mapping)


def deadline_stamp(account: HasRequirements) -> int | None:
    """``current_deadline`` as a Unix timestamp Python can turn into a date, or None."""
    value = requirements_of(account).get("current_deadline")
    if value is None or value == "":
        return None
    try:
        if isinstance(value, bool) or not isinstance(value, (int, float, str)):
            raise TypeError
        stamp = int(value)
        datetime.datetime.fromtimestamp(stamp, tz=datetime.timezone.utc)
    except (TypeError, ValueError, OverflowError, OSError):
        warn_malformed(account, "requirements.current_deadline", value)
        return None
    return stamp or None


def deadline(account: HasRequirements) -> datetime.datetime | None:
    """``current_deadline`` as an aware datetime, or None."""
    stamp = deadline_stamp(account)
    if stamp is None:
        return None
    return datetime.datetime.fromtimestamp(stamp, tz=datetime.timezone.utc)
