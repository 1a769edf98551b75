"""Stripe's Express accounts, whichever Accounts API made them: what v1 and v2
share, with one module per API beside it (`v1`, `v2`, each with the same
functions: `AccountsApi`; ``models.accounts_api`` picks one).

Shared here: the status vocabulary (`AccountStatus`), who can lift a limit,
the `Reason` each API's table is made of, and safe readers of Stripe's JSON.
A stored ``requirements`` value of an unexpected type (a string deadline, a
number in ``currently_due``, a list where a dict belongs) must not make a
page a 500: the readers keep what is usable and log a warning naming the
account and the key, never the value. And values every database can store:
a JSON body can carry what no column takes (``\\u0000``, a lone
``\\ud800``, ``1e999``); those become U+FFFD or ``None``.
"""

from __future__ import annotations

import datetime
import logging
import math
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

import stripe
from django.db import models
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from ..conf import app_settings

_REPLACEMENT = "\ufffd"

_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")

# What, in a raw JSON body, can decode to one of those: the escapes, and the
# literals and exponents Python's json reads as non-finite floats. A hint
# (a match may be harmless), so that most bodies need no walk at all.
_HINT = re.compile(rb"\\u(?:0000|[dD][89a-fA-F])|NaN|Infinity|[0-9][eE][+]?[0-9]{3}")


def may_need_repair(body: bytes) -> bool:
    """Whether the decoded `body` may hold something `storable_json` replaces."""
    return _HINT.search(body) is not None


def storable_text(value: str) -> tuple[str, int]:
    """`value` with NUL and lone surrogates replaced, and how many were."""
    return _UNSTORABLE.subn(_REPLACEMENT, value)


def storable_json(value: Any) -> tuple[Any, int]:
    """A decoded JSON value every database stores, and how many parts were replaced."""
    if isinstance(value, str):
        return storable_text(value)
    if isinstance(value, float) and not math.isfinite(value):
        return None, 1
    if isinstance(value, list):
        items = [storable_json(item) for item in value]
        return [item for item, _ in items], sum(count for _, count in items)
    if isinstance(value, dict):
        repaired: dict[str, Any] = {}
        total = 0
        for key, item in value.items():
            key, in_key = storable_text(key)
            repaired[key], in_item = storable_json(item)
            total += in_key + in_item
        return repaired, total
    return value, 0


logger = logging.getLogger(__name__)

_WARNED_ATTR = "_stripe_express_malformed_warned"


class _HasRequirements(Protocol):
    stripe_id: str
    requirements: Any
    future_requirements: Any


def _warn_malformed(account: _HasRequirements, key: str, value: Any) -> None:
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
    account: _HasRequirements, field: str = "requirements"
) -> Mapping[str, Any]:
    """The ``requirements`` (or ``future_requirements``) dict; an empty one if not a dict."""
    value = getattr(account, field)
    if value in (None, "", [], {}):
        return {}
    if not isinstance(value, Mapping):
        _warn_malformed(account, field, value)
        return {}
    return value


def _list_of(account: _HasRequirements, key: str, kind: type[Any], field: str) -> list[Any]:
    value = requirements_of(account, field).get(key)
    if value is None:
        return []
    if not isinstance(value, (list, tuple)):
        _warn_malformed(account, f"{field}.{key}", value)
        return []
    kept = [item for item in value if isinstance(item, kind)]
    if len(kept) != len(value):
        odd = next(item for item in value if not isinstance(item, kind))
        _warn_malformed(account, f"{field}.{key}[]", odd)
    return kept


def names(account: _HasRequirements, key: str, *, field: str = "requirements") -> list[str]:
    """The requirement names under ``key`` (e.g. ``currently_due``): strings only."""
    return _list_of(account, key, str, field)


def entries(
    account: _HasRequirements, key: str, *, field: str = "requirements"
) -> list[Mapping[str, Any]]:
    """The objects under ``key`` (e.g. ``errors``): dicts only."""
    return _list_of(account, key, Mapping, field)


def deadline_stamp(account: _HasRequirements, *, field: str = "requirements") -> int | None:
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
        _warn_malformed(account, f"{field}.current_deadline", value)
        return None
    return stamp or None


def deadline(
    account: _HasRequirements, *, field: str = "requirements"
) -> datetime.datetime | None:
    """``current_deadline`` as an aware datetime, or None."""
    stamp = deadline_stamp(account, field=field)
    if stamp is None:
        return None
    return datetime.datetime.fromtimestamp(stamp, tz=datetime.timezone.utc)


class AccountStatus(models.TextChoices):
    ONBOARDING = "onboarding", _("Onboarding not finished")
    PENDING_VERIFICATION = "pending_verification", _("Pending verification")
    RESTRICTED = "restricted", _("Restricted")
    ENABLED = "enabled", _("Enabled")
    DISABLED = "disabled", _("Disabled")
    DISCONNECTED = "disconnected", _("Disconnected")

# Who can lift a restriction.
USER = "user"  # by giving Stripe what it asks for

PLATFORM = "platform"  # this site (its Stripe settings, or a call to Stripe)

STRIPE = "stripe"  # Stripe, after a review or never (rejections)


@dataclass(frozen=True)
class Reason:
    """Why an account is limited, one row of its API's table: a v1
    ``requirements.disabled_reason`` (`v1.REASONS`) or a v2 status detail
    ``code`` (`v2.CODES`). What it means, who lifts it, and its words."""

    status: AccountStatus
    lifted_by: str  # USER, PLATFORM or STRIPE
    #: For the user, on the button: plain words, never blaming.
    user: Promise
    #: For support staff in the admin: who acted and what lifts it.
    staff: Promise
    #: A review the user resolves by providing the items past due (v1's
    #: ``other``, v2's ``restricted_other``): then the user can act, and it
    #: reads (and, for v1, counts) like any account with items past due.
    user_can_resolve_past_due: bool = False

    def is_review(self, requirements: Mapping[str, Any]) -> bool:
        return self.user_can_resolve_past_due and bool(requirements.get("past_due"))

    def applies(self, requirements: Mapping[str, Any]) -> bool:
        """Whether this reason decides the status, before onboarding and past-due items.

        Only for decisions the user cannot change: rejections, pauses and
        what the platform must fix. The others (past due, pending
        verification, reviews) leave the decision to the user's progress.
        """
        if self.is_review(requirements):
            return False
        return self.status == AccountStatus.DISABLED or self.lifted_by == PLATFORM

    def user_text(self, requirements: Mapping[str, Any]) -> str:
        """Why the account is limited, for its user."""
        return str(_USER_REVIEW if self.is_review(requirements) else self.user)

    def staff_text(self, requirements: Mapping[str, Any]) -> str:
        """Why the account is limited and what lifts it, for support staff."""
        return str(_STAFF_REVIEW if self.is_review(requirements) else self.staff)


_USER_REVIEW = _("Stripe is reviewing this account and needs more information from you.")
_STAFF_REVIEW = _(
    "Under review by Stripe, which asked for the items past due: the user can resolve it."
)
#: The words of a reason this version of the app does not know.
UNKNOWN_USER_TEXT = _("Stripe has disabled this account.")
UNKNOWN_STAFF_TEXT = _("A reason this version of the app does not know; see Stripe's dashboard.")


class AccountsApi(Protocol):
    """What each Accounts API module (`v1`, `v2`) gives: the app reads an account
    through its API's module (``models.accounts_api``), never by testing the API."""

    def values(self, data: dict[str, Any], /) -> dict[str, Any]: ...
    def derive_status(self, account: Any, /) -> str: ...
    def can_receive_transfers(self, account: Any, /) -> bool: ...
    def can_accept_card_payments(self, account: Any, /) -> bool: ...
    def reason_for(self, code: str, /) -> Reason | None: ...
    def humanize_requirement(self, name: str, /) -> str: ...
    def retrieve(
        self, client: stripe.StripeClient, stripe_id: str, /, context: str = ""
    ) -> Any: ...
    def create_params(self, user: Any, prefill: Mapping[str, str], /) -> dict[str, Any]: ...
    def create_link(
        self, client: stripe.StripeClient, account: Any, /, *, refresh_url: str, return_url: str
    ) -> str: ...


def humanize_requirements(names: Iterable[str], words: Callable[[str], str]) -> list[str]:
    """Plain words (`words` of one name) for each requirement, once each, in
    Stripe's order: ``tos_acceptance.date`` and ``tos_acceptance.ip`` are one
    thing to the user."""
    return list(dict.fromkeys(words(name) for name in names))


def dict_or_empty(value: Any) -> dict[str, Any]:
    """`value` if it is a dict, else an empty one: Stripe's JSON read without trusting it."""
    return value if isinstance(value, dict) else {}


#: Where Stripe's account JSON (v1 or v2) has an object: any other type there is
#: read as empty (`dict_or_empty`) and named by `not_objects`.
_OBJECT_KEYS = (
    "requirements", "future_requirements", "capabilities", "identity", "defaults",
    "configuration",
)


def not_objects(data: Mapping[str, Any]) -> list[str]:
    """The keys of account `data` that hold a list, string or number where Stripe
    writes an object (``None`` is Stripe's "nothing" and not counted)."""
    return [
        key for key in _OBJECT_KEYS
        if data.get(key) is not None and not isinstance(data.get(key), Mapping)
    ]


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


_RFC3339 = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?(Z|[+-]\d{2}:\d{2})")


def rfc3339(value: Any) -> datetime.datetime | None:
    """An RFC 3339 time as Stripe's v2 API writes them (``2026-12-01T00:00:00.000Z``),
    aware; None for anything else."""
    if not isinstance(value, str) or not _RFC3339.fullmatch(value):
        return None
    try:
        return datetime.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None


def _timestamp(value: Any) -> int | None:
    """An RFC 3339 time as a Unix timestamp, or None."""
    moment = rfc3339(value)
    return None if moment is None else int(moment.timestamp())


def as_dict(value: Any) -> dict[str, Any]:
    """A plain, JSON-ready dict from a dict or a StripeObject (which, in stripe
    16, is no longer a dict and has no ``.get``)."""
    if value is None:
        return {}
    if isinstance(value, stripe.StripeObject):
        return value.to_dict(recursive=True, for_json=True)
    return dict(value)


# -- payout schedules (``PAYOUT_SCHEDULE``, `payments.set_payout_schedule`) -----------
#: Stripe's payout intervals.
PAYOUT_INTERVALS = ("daily", "weekly", "monthly", "manual")

#: Days of a weekly payout. Balance Settings (Accounts v2) pays out on weekdays only.
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday")

_WEEKEND = ("saturday", "sunday")

#: ``delay_days``: Stripe's ``"minimum"`` (the country's lowest) or days up to 31
#: (v1 ``settings.payouts.schedule.delay_days``, v2 ``delay_days_override``).
MAX_DELAY_DAYS = 31


@dataclass(frozen=True)
class PayoutSchedule:
    """A payout schedule as the app sends it: ``anchor`` is a weekday for a
    weekly schedule, a day of the month (1-31) for a monthly one, else None."""

    interval: str
    delay_days: int | str | None = None
    anchor: str | int | None = None


def schedule_problems(
    interval: Any, delay_days: Any = None, anchor: Any = None, *, api: str = "v1"
) -> list[str]:
    """What Stripe would refuse in this schedule, in words ([] when none): the one
    rule for the setting's checks and `payments.set_payout_schedule`."""
    if interval not in PAYOUT_INTERVALS:
        return [f"interval {interval!r} is not one of {', '.join(PAYOUT_INTERVALS)}"]
    problems = []
    days = (*WEEKDAYS, *_WEEKEND) if api == "v1" else WEEKDAYS
    if interval == "weekly" and anchor not in days:
        problems.append(f"a weekly schedule needs its anchor, one of {', '.join(days)} "
                        f"(not {anchor!r})")
    elif interval == "monthly" and not (
        isinstance(anchor, int) and not isinstance(anchor, bool) and 1 <= anchor <= 31
    ):
        problems.append(f"a monthly schedule needs its anchor, a day from 1 to 31 "
                        f"(not {anchor!r})")
    elif interval in ("daily", "manual") and anchor is not None:
        problems.append(f"a {interval} schedule takes no anchor (got {anchor!r})")
    if delay_days not in (None, "minimum") and not (
        isinstance(delay_days, int) and not isinstance(delay_days, bool)
        and 1 <= delay_days <= MAX_DELAY_DAYS
    ):
        problems.append(f"delay_days must be 'minimum' or 1 to {MAX_DELAY_DAYS} days "
                        f"(not {delay_days!r})")
    return problems


def configured_schedule() -> PayoutSchedule | None:
    """``PAYOUT_SCHEDULE`` as a `PayoutSchedule`; None when not set."""
    value = app_settings.PAYOUT_SCHEDULE
    return schedule_from_setting(value) if value is not None else None


def schedule_from_setting(value: Mapping[str, Any]) -> PayoutSchedule:
    """``PAYOUT_SCHEDULE`` (``interval``, ``delay_days``, ``weekly_anchor`` or
    ``monthly_anchor``) as a `PayoutSchedule` (checked by the system checks)."""
    interval = value.get("interval")
    anchor = value.get("weekly_anchor") if interval == "weekly" else (
        value.get("monthly_anchor") if interval == "monthly"
        else value.get("weekly_anchor", value.get("monthly_anchor")))
    return PayoutSchedule(str(interval), value.get("delay_days"), anchor)
