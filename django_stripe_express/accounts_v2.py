"""Copying an Accounts v2 object (``v2.core.account``) onto an `ExpressAccount`.

A v2 account has no ``charges_enabled`` or ``requirements.currently_due``: it
reports requirement *entries* (who must act, by when) and, per capability, a
``status`` with ``status_details``. `v2_values` turns those into the model's
values, the same keys `accounts.stripe_values` gives for a v1 Account, so the
tag, the admin, the sync command and the signals work on both alike:

* ``requirements``: Stripe's ``entries`` and ``summary`` as sent (the admin
  shows them), plus the lists the tag reads, derived from the entries:
  ``currently_due`` / ``past_due`` / ``eventually_due`` (the user must act,
  by ``minimum_deadline.status``), ``pending_verification`` (Stripe must
  act), ``errors`` and ``current_deadline``;
* ``capabilities``: ``{name: status}``, e.g. ``{"stripe_balance.stripe_transfers":
  "active"}``, and ``capability_details``: ``{name: [{"code", "resolution"}]}``;
* ``disabled_reason``: the most serious ``status_details.code`` of a capability
  that is not active;
* ``details_submitted``: no onboarding entry (``requested_reasons`` of
  ``routine_onboarding``) waits for the user now.

`status_v2.derive_status_v2` decides the status from these values.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterator, Mapping
from typing import Any

#: ``object`` of an Accounts v2 account.
V2_OBJECT = "v2.core.account"
#: Every part of the account the app reads, for ``include`` on create and retrieve:
#: Stripe leaves out of a v2 answer what is not asked for.
INCLUDE = [
    "configuration.merchant",
    "configuration.recipient",
    "defaults",
    "identity",
    "requirements",
]
#: The configurations whose capabilities the app requests and reads.
CONFIGURATIONS = ("recipient", "merchant")
#: The capability that lets the user be paid (``configuration.recipient``).
TRANSFERS = "stripe_balance.stripe_transfers"
PAYOUTS = "stripe_balance.payouts"
CARD_PAYMENTS = "card_payments"

# Worst last: when two configurations report one capability, the worse wins.
_STATUS_ORDER = ("active", "pending", "restricted", "unsupported", "rejected")
# Status detail codes, least serious first: the most serious one becomes the
# account's `disabled_reason`.
_CODE_ORDER = (
    "determining_status",
    "requirements_pending_verification",
    "requirements_past_due",
    "restricted_other",
    "unsupported_business",
    "unsupported_country",
    "unsupported_entity_type",
    "rejected_incomplete_verification",
    "rejected_other",
    "rejected_platform_other",
    "rejected_platform_terms_of_service",
    "rejected_terms_of_service",
    "rejected_listed",
    "rejected_platform_fraud",
    "rejected_fraud",
)
_ONBOARDING_REASON = "routine_onboarding"
_DUE_NOW = ("currently_due", "past_due")


def is_v2(data: Mapping[str, Any]) -> bool:
    """Whether `data` (a plain dict) is an Accounts v2 object."""
    return data.get("object") == V2_OBJECT


def is_closed(data: Mapping[str, Any]) -> bool:
    """Stripe closed the account (or the platform did, through ``/close``)."""
    return bool(data.get("closed"))


def dict_or_empty(value: Any) -> dict[str, Any]:
    """`value` if it is a dict, else an empty one: Stripe's JSON read without trusting it."""
    return value if isinstance(value, dict) else {}


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _walk(capabilities: dict[str, Any], prefix: str = "") -> Iterator[tuple[str, dict[str, Any]]]:
    """``(name, capability)`` for each capability, groups flattened with dots
    (``stripe_balance.stripe_transfers``), as Stripe names them in requirements."""
    for key, value in capabilities.items():
        if not isinstance(value, dict):
            continue
        if "status" in value:
            yield prefix + key, value
        else:
            yield from _walk(value, f"{prefix}{key}.")


def _rank(order: tuple[str, ...], value: str) -> int:
    # Values Stripe adds later rank as serious as the worst known one: better
    # a loud status than a wrong "enabled".
    return order.index(value) if value in order else len(order)


def capability_states(data: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """``{name: {"status", "status_details"}}`` over the app's configurations."""
    states: dict[str, dict[str, Any]] = {}
    configuration = dict_or_empty(data.get("configuration"))
    for name in CONFIGURATIONS:
        config = dict_or_empty(configuration.get(name))
        for capability, value in _walk(dict_or_empty(config.get("capabilities"))):
            status = str(value.get("status") or "")
            details = [
                {"code": str(d.get("code") or ""), "resolution": str(d.get("resolution") or "")}
                for d in _list(value.get("status_details"))
                if isinstance(d, dict)
            ]
            known = states.get(capability)
            if known is None or _rank(_STATUS_ORDER, status) > _rank(
                _STATUS_ORDER, known["status"]
            ):
                states[capability] = {"status": status, "status_details": details}
    return states


def worst_code(states: Mapping[str, Mapping[str, Any]]) -> str:
    """The most serious status detail code among capabilities that are not active."""
    codes = [
        detail["code"]
        for state in states.values()
        if state["status"] != "active"
        for detail in state["status_details"]
        if detail["code"]
    ]
    return max(codes, key=lambda code: _rank(_CODE_ORDER, code), default="")


def _timestamp(value: Any) -> int | None:
    """An RFC 3339 time (``2026-12-01T00:00:00.000Z``) as a Unix timestamp."""
    if not isinstance(value, str) or not value:
        return None
    try:
        moment = datetime.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=datetime.timezone.utc)
    return int(moment.timestamp())


def deadline_status(entry: Mapping[str, Any]) -> str:
    """How urgent a requirement entry is: ``past_due``, ``currently_due``... or ""."""
    return str(dict_or_empty(entry.get("minimum_deadline")).get("status") or "")


def is_onboarding_entry(entry: Mapping[str, Any]) -> bool:
    """Stripe asks this of the user to finish onboarding, not for a later check."""
    reasons = {str(dict_or_empty(r).get("code")) for r in _list(entry.get("requested_reasons"))}
    return _ONBOARDING_REASON in reasons


def requirement_lists(requirements: Mapping[str, Any]) -> dict[str, Any]:
    """The v1-style lists the tag and status read, from the v2 entries."""
    currently_due: list[str] = []
    past_due: list[str] = []
    eventually_due: list[str] = []
    pending: list[str] = []
    errors: list[dict[str, str]] = []
    for entry in _list(requirements.get("entries")):
        if not isinstance(entry, dict):
            continue
        name = str(entry.get("description") or "")
        if entry.get("awaiting_action_from") == "stripe":
            pending.append(name)
        else:
            deadline = deadline_status(entry)
            if deadline in _DUE_NOW:
                currently_due.append(name)
            if deadline == "past_due":
                past_due.append(name)
            eventually_due.append(name)
        for error in _list(entry.get("errors")):
            error = dict_or_empty(error)
            errors.append(
                {
                    "requirement": name,
                    "code": str(error.get("code") or ""),
                    "reason": str(error.get("description") or ""),
                }
            )
    summary = dict_or_empty(requirements.get("summary"))
    return {
        "currently_due": currently_due,
        "past_due": past_due,
        "eventually_due": eventually_due,
        "pending_verification": pending,
        "errors": errors,
        "current_deadline": _timestamp(dict_or_empty(summary.get("minimum_deadline")).get("time")),
    }


def onboarding_due(requirements: Mapping[str, Any]) -> bool:
    """An onboarding entry waits for the user now (currently or past due)."""
    return any(
        isinstance(entry, dict)
        and entry.get("awaiting_action_from") != "stripe"
        and deadline_status(entry) in _DUE_NOW
        and is_onboarding_entry(entry)
        for entry in _list(requirements.get("entries"))
    )


def v2_values(data: Mapping[str, Any]) -> dict[str, Any]:
    """The model's values for a v2 account (a plain dict, as `accounts.as_dict` gives)."""
    requirements = dict_or_empty(data.get("requirements"))
    states = capability_states(data)
    statuses = {name: state["status"] for name, state in states.items()}
    payouts = [statuses.get(TRANSFERS)]
    if PAYOUTS in statuses:
        payouts.append(statuses[PAYOUTS])
    identity = dict_or_empty(data.get("identity"))
    defaults = dict_or_empty(data.get("defaults"))
    stored_requirements = {
        "entries": _list(requirements.get("entries")),
        "summary": dict_or_empty(requirements.get("summary")),
        **requirement_lists(requirements),
    }
    return {
        "charges_enabled": statuses.get(CARD_PAYMENTS) == "active",
        "payouts_enabled": all(status == "active" for status in payouts),
        "details_submitted": not onboarding_due(requirements),
        "requirements": stored_requirements,
        # v2 has no separate future requirements: entries eventually due are in
        # `requirements` with their own deadline.
        "future_requirements": {},
        "capabilities": statuses,
        "capability_details": {
            name: state["status_details"]
            for name, state in states.items()
            if state["status_details"]
        },
        "country": str(identity.get("country") or "").upper(),
        "email": data.get("contact_email") or "",
        "business_type": identity.get("entity_type") or "",
        "default_currency": str(defaults.get("currency") or "").lower(),
        "disabled_reason": worst_code(states),
    }
