"""Reading an account's stored ``requirements`` without trusting its shape.

(``future_requirements`` has the same shape and the same readers: ``field=``.)

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
    future_requirements: Any


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


def requirements_of(
    account: HasRequirements, field: str = "requirements"
) -> Mapping[str, Any]:
    """The ``requirements`` (or ``future_requirements``) dict; an empty one if not a dict."""
    value = getattr(account, field)
    if value in (None, "", [], {}):
        return {}
    if not isinstance(value, Mapping):
        warn_malformed(account, field, value)
        return {}
    return value


def _list_of(account: HasRequirements, key: str, kind: type[Any], field: str) -> list[Any]:
    value = requirements_of(account, field).get(key)
    if value is None:
        return []
    if not isinstance(value, (list, tuple)):
        warn_malformed(account, f"{field}.{key}", value)
        return []
    kept = [item for item in value if isinstance(item, kind)]
    if len(kept) != len(value):
        odd = next(item for item in value if not isinstance(item, kind))
        warn_malformed(account, f"{field}.{key}[]", odd)
    return kept


def names(account: HasRequirements, key: str, *, field: str = "requirements") -> list[str]:
    """The requirement names under ``key`` (e.g. ``currently_due``): strings only."""
    return _list_of(account, key, str, field)


def entries(
    account: HasRequirements, key: str, *, field: str = "requirements"
) -> list[Mapping[str, Any]]:
    """The objects under ``key`` (e.g. ``errors``): dicts only."""
    return _list_of(account, key, Mapping, field)


def deadline_stamp(account: HasRequirements, *, field: str = "requirements") -> int | None:
    """``current_deadline`` as a Unix timestamp Python can turn into a date, or None."""
    value = requirements_of(account, field).get("current_deadline")
    if value is None or value == "":
        return None
    try:
        if isinstance(value, bool) or not isinstance(value, (int, float, str)):
            raise TypeError
        stamp = int(value)
        datetime.datetime.fromtimestamp(stamp, tz=datetime.timezone.utc)
    except (TypeError, ValueError, OverflowError, OSError):
        warn_malformed(account, f"{field}.current_deadline", value)
        return None
    return stamp or None


def deadline(
    account: HasRequirements, *, field: str = "requirements"
) -> datetime.datetime | None:
    """``current_deadline`` as an aware datetime, or None."""
    stamp = deadline_stamp(account, field=field)
    if stamp is None:
        return None
    return datetime.datetime.fromtimestamp(stamp, tz=datetime.timezone.utc)
