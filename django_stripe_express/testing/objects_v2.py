"""Build Accounts v2 objects in the shapes Stripe's ``/v2`` API returns.

An account is kept whole in the fake's state (every part present); answers
leave out what the request did not ``include``, as Stripe does (the part is
``null``). Shapes follow Stripe's v2 reference and stripe-python 16's typed
objects (`stripe.v2.core.Account`), which the fidelity tests hold them to.
`v1_view` is the same account as ``/v1/accounts/{id}`` shows it: Stripe's v1
endpoints accept v2 account ids.
"""

from __future__ import annotations

import copy
import datetime
import time
from typing import Any

from . import objects

V2_OBJECT = "v2.core.account"
INCLUDABLE = (
    "configuration.customer",
    "configuration.merchant",
    "configuration.recipient",
    "defaults",
    "future_requirements",
    "identity",
    "requirements",
)
_ENTITY_TYPES = ("company", "government_entity", "individual", "non_profit")
FEES_COLLECTORS = ("application", "application_custom", "application_express", "stripe")
LOSSES_COLLECTORS = ("application", "stripe")
#: Countries the fake refuses, so tests can reach Stripe's "not available" answer.
_UNSUPPORTED_COUNTRIES = ("AQ", "CU", "IR", "KP", "SY")

TRANSFERS = ("recipient", "stripe_balance.stripe_transfers")
CARD_PAYMENTS = ("merchant", "card_payments")
PAST_DUE = {"code": "requirements_past_due", "resolution": "provide_info"}

# What a new Express-like v2 account must provide, and the v1 name of each
# (the fake's own choice of paths; `v1_view` shows the v1 names).
_NEW_REQUIREMENTS = (
    ("identity.entity_type", "business_type"),
    ("identity.individual.given_name", "individual.first_name"),
    ("identity.individual.surname", "individual.last_name"),
    ("identity.individual.date_of_birth.day", "individual.dob.day"),
    ("defaults.profile.business_url", "business_profile.url"),
    ("configuration.recipient.default_outbound_destination", "external_account"),
    ("identity.attestations.terms_of_service.account", "tos_acceptance.date"),
)
_V1_NAMES = dict(_NEW_REQUIREMENTS) | {
    "identity.individual.verification.document": "individual.verification.document",
    "identity.individual.documents.primary_verification": "individual.verification.document",
    "identity.individual.id_numbers": "individual.id_number",
}


def _rfc3339(timestamp: float | None = None) -> str:
    """Stripe's v2 time format: ``2026-11-28T23:08:00.000Z``."""
    moment = datetime.datetime.fromtimestamp(
        time.time() if timestamp is None else timestamp, tz=datetime.timezone.utc
    )
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def _to_timestamp(value: str) -> int:
    return int(datetime.datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp())


def capability(
    status: str = "restricted", details: list[dict[str, str]] | None = None
) -> dict[str, Any]:
    """A capability as v2 reports it (``status`` and ``status_details``, no more:
    stripe 16's type); ``status_details`` is empty when active."""
    if status == "active":
        details = []
    return {"status": status, "status_details": list(details or [])}


def entry(
    description: str,
    *,
    deadline: str = "past_due",
    who: str = "user",
    reason: str = "routine_onboarding",
    restricts: list[tuple[str, str]] | None = None,
    errors: list[dict[str, str]] | None = None,
) -> dict[str, Any]:
    """A requirement entry; ``restricts`` is ``[(configuration, capability)]``."""
    return {
        "awaiting_action_from": who,
        "description": description,
        "errors": list(errors or []),
        "impact": {
            "restricts_capabilities": [
                {"capability": name, "configuration": config, "deadline": {"status": deadline}}
                for config, name in restricts or []
            ]
        },
        "minimum_deadline": {"status": deadline},
        "reference": None,
        "requested_reasons": [{"code": reason}],
    }


def requirements(entries: list[dict[str, Any]], deadline_time: str | None = None) -> dict[str, Any]:
    order = ("eventually_due", "currently_due", "past_due")
    statuses = [e["minimum_deadline"]["status"] for e in entries]
    summary = None
    if statuses:
        worst = max(statuses, key=order.index)
        summary = {"minimum_deadline": {"status": worst, "time": deadline_time}}
    return {"alternatives": [], "entries": entries, "summary": summary}


def future_requirements(
    entries: list[dict[str, Any]], transition: str | None = None
) -> dict[str, Any]:
    """``future_requirements``: rules that take effect at ``transition`` (RFC 3339),
    apart from ``requirements``, as Stripe reports them."""
    return {
        **requirements(entries, transition if entries else None),
        "minimum_transition_date": transition if entries else None,
    }


def requested(account: dict[str, Any]) -> list[tuple[str, str]]:
    """``[(configuration, capability)]`` for each capability the account requested."""
    found = []
    for config_name in ("merchant", "recipient"):
        config = account["configuration"].get(config_name) or {}
        for name, _cap in walk(config.get("capabilities") or {}):
            found.append((config_name, name))
    return found


def walk(
    capabilities: dict[str, Any], prefix: str = "", leaf: str = "status"
) -> list[tuple[str, dict[str, Any]]]:
    """Capabilities flattened to dotted names (``stripe_balance.stripe_transfers``).

    A capability is a dict with a `leaf` key: ``status`` in an account,
    ``requested`` in a request's ``configuration``.
    """
    found: list[tuple[str, dict[str, Any]]] = []
    for key, value in capabilities.items():
        if isinstance(value, dict) and leaf in value:
            found.append((prefix + key, value))
        elif isinstance(value, dict):
            found.extend(walk(value, f"{prefix}{key}.", leaf))
    return found


def set_capability(
    account: dict[str, Any], config_name: str, name: str, value: dict[str, Any]
) -> None:
    config = account["configuration"].get(config_name)
    if config is None:
        config = account["configuration"][config_name] = _configuration(config_name)
        if config_name not in account["applied_configurations"]:
            account["applied_configurations"].append(config_name)
    node = config["capabilities"]
    *groups, last = name.split(".")
    for group in groups:
        node = node.setdefault(group, {})
    node[last] = value


def _capability_of(account: dict[str, Any], config_name: str, name: str) -> dict[str, Any] | None:
    config = account["configuration"].get(config_name) or {}
    return dict(walk(config.get("capabilities") or {})).get(name)


def _configuration(name: str) -> dict[str, Any]:
    if name == "merchant":
        return {
            "applied": True,
            "bacs_debit_payments": None,
            "branding": None,
            "capabilities": {},
            "card_payments": None,
            "konbini_payments": None,
            "mcc": None,
            "script_statement_descriptor": None,
            "sepa_debit_payments": None,
            "statement_descriptor": None,
            "support": None,
        }
    return {"applied": True, "capabilities": {}}


def build_account(
    *,
    account_id: str | None = None,
    contact_email: str | None = None,
    display_name: str | None = None,
    country: str = "US",
    entity_type: str | None = None,
    responsibilities: dict[str, str] | None = None,
    dashboard: str = "express",
    recipient: bool = True,
    merchant: bool = False,
    metadata: dict[str, str] | None = None,
    currency: str | None = None,
    created: float | None = None,
) -> dict[str, Any]:
    """A new v2 account, not yet onboarded: its onboarding requirements are currently
    due (``routine_onboarding``), its capabilities restricted until they are provided."""
    account: dict[str, Any] = {
        "id": account_id or objects._random_id("acct_"),
        "object": V2_OBJECT,
        "applied_configurations": [],
        "closed": False,
        "configuration": {"customer": None, "merchant": None, "recipient": None},
        "contact_email": contact_email,
        "contact_phone": None,
        "created": _rfc3339(created),
        "dashboard": dashboard,
        "defaults": {
            "currency": currency or objects._currency_for(country),
            "locales": [],
            "payout_methods": None,
            "profile": {
                "business_url": None,
                "doing_business_as": None,
                "product_description": None,
            },
            "responsibilities": {
                **(
                    responsibilities
                    or {"fees_collector": "application", "losses_collector": "application"}
                ),
                "requirements_collector": "stripe",
            },
        },
        "display_name": display_name,
        "future_requirements": future_requirements([]),
        "identity": {
            "attestations": None,
            "business_details": None,
            "country": country.upper(),
            "entity_type": entity_type,
            "individual": None,
        },
        "livemode": False,
        "metadata": dict(metadata or {}),
        "requirements": None,
    }
    if recipient:
        set_capability(account, *TRANSFERS, capability("restricted", [PAST_DUE]))
    if merchant:
        set_capability(account, *CARD_PAYMENTS, capability("restricted", [PAST_DUE]))
    due = [
        name
        for name, _v1 in _NEW_REQUIREMENTS
        if not (entity_type and name == "identity.entity_type")
    ]
    account["requirements"] = requirements(
        [entry(name, deadline="currently_due", restricts=requested(account)) for name in due]
    )
    return account


def complete_onboarding(account: dict[str, Any]) -> None:
    """Every requirement met, every requested capability active."""
    account["requirements"] = requirements([])
    _attested(account)
    for config_name, name in requested(account):
        set_capability(account, config_name, name, capability("active"))


def require_verification(
    account: dict[str, Any], fields: list[str] | None, code: str = "requirements_past_due"
) -> None:
    """Stripe needs ``fields`` from the user, past due; the capabilities are restricted."""
    due = list(fields or ["identity.individual.verification.document"])
    restricts = requested(account)
    account["requirements"] = requirements(
        [entry(name, reason="routine_verification", restricts=restricts) for name in due]
    )
    for config_name, name in restricts:
        set_capability(
            account,
            config_name,
            name,
            capability("restricted", [{"code": code, "resolution": "provide_info"}]),
        )


def _attested(account: dict[str, Any]) -> None:
    """What submitting the hosted onboarding form always does to a v2 account."""
    identity = account["identity"]
    identity["entity_type"] = identity["entity_type"] or "individual"
    identity["attestations"] = {
        "terms_of_service": {"account": {"date": _rfc3339(), "ip": "127.0.0.1", "user_agent": None}}
    }


def submit_for_verification(account: dict[str, Any], fields: list[str] | None) -> None:
    """Onboarding submitted; Stripe is verifying ``fields``: capabilities ``pending``."""
    checking = list(fields or ["identity.individual.verification.document"])
    _attested(account)
    account["requirements"] = requirements(
        [entry(name, who="stripe", deadline="currently_due", reason="routine_verification")
         for name in checking]
    )
    pending = {"code": "requirements_pending_verification", "resolution": "provide_info"}
    for config_name, name in requested(account):
        set_capability(account, config_name, name, capability("pending", [pending]))


def start_review(account: dict[str, Any], fields: list[str] | None) -> None:
    """Onboarding submitted; Stripe reviews the account and asks the user for ``fields``."""
    _attested(account)
    asked = list(fields or ["defaults.profile.product_description"])
    require_verification(account, asked, code="restricted_other")


def require_by(account: dict[str, Any], fields: list[str], deadline: int, *, future: bool) -> None:
    """Stripe asks the user for ``fields`` by ``deadline``; the capabilities stay active.

    v2 says it with entries ``currently_due`` and the soonest time in
    ``summary``; a rule that takes effect later (``future``) goes to
    ``future_requirements``, due at its ``minimum_transition_date``.
    """
    key = "future_requirements" if future else "requirements"
    current = (account[key] or {}).get("entries") or []
    added = [
        entry(name, deadline="currently_due", reason="routine_verification") for name in fields
    ]
    summary = (account[key] or {}).get("summary") or {}
    known = (summary.get("minimum_deadline") or {}).get("time")
    # RFC 3339 times in one format sort as text.
    soonest = min([t for t in (known, _rfc3339(deadline)) if t])
    if future:
        account[key] = future_requirements([*current, *added], soonest)
    else:
        account[key] = requirements([*current, *added], soonest)


def answer(account: dict[str, Any], include: list[str]) -> dict[str, Any]:
    """The account as an answer: parts not ``include``-d are ``null``."""
    shown = copy.deepcopy(account)
    for name in ("customer", "merchant", "recipient"):
        if f"configuration.{name}" not in include:
            shown["configuration"][name] = None
    if not any(name.startswith("configuration.") for name in include):
        shown["configuration"] = None
    for part in ("defaults", "future_requirements", "identity", "requirements"):
        if part not in include:
            shown[part] = None
    return shown


def account_link(
    account_id: str,
    url: str,
    use_case: str,
    refresh_url: str,
    return_url: str | None,
    created: float,
    expires_at: float,
) -> dict[str, Any]:
    hashes: dict[str, Any] = {"account_onboarding": None, "account_update": None}
    hashes[use_case] = {
        "collection_options": None,
        "refresh_url": refresh_url,
        "return_url": return_url,
    }
    return {
        "object": "v2.core.account_link",
        "account": account_id,
        "created": _rfc3339(created),
        "expires_at": _rfc3339(expires_at),
        "livemode": False,
        "url": url,
        "use_case": {"type": use_case, **hashes},
    }


def _list_page(
    data: list[dict[str, Any]], next_url: str | None, previous_url: str | None
) -> dict[str, Any]:
    """A v2 list: no ``object``, and page URLs instead of ``has_more``."""
    return {"data": data, "next_page_url": next_url, "previous_page_url": previous_url}


def error(
    message: str, *, type_: str = "invalid_request_error", code: str | None = None
) -> dict[str, Any]:
    """The body of a ``/v2`` error."""
    body: dict[str, Any] = {"type": type_, "message": message}
    if code:
        body["code"] = code
    return {"error": body}


def _thin_event(
    event_type: str,
    *,
    account: str | None,
    created: float | None = None,
    event_id: str | None = None,
    livemode: bool = False,
    context: str | None = None,
) -> dict[str, Any]:
    """A thin event notification, as an event destination delivers it
    (``context``: the account the event happened in, when not the platform)."""
    notification: dict[str, Any] = {
        "id": event_id or objects._random_id("evt_test_", 46),
        "object": "v2.core.event",
        "type": event_type,
        "livemode": livemode,
        "created": _rfc3339(created),
        "context": context,
    }
    if account is not None and not event_type.startswith("v2.core.account_link."):
        notification["related_object"] = {
            "id": account,
            "type": V2_OBJECT,
            "url": f"/v2/core/accounts/{account}",
        }
    return notification


def _full_event(notification: dict[str, Any], data: dict[str, Any] | None) -> dict[str, Any]:
    """The event ``/v2/core/events/{id}`` answers for a notification."""
    full = {
        **copy.deepcopy(notification),
        "changes": None,
        "reason": None,
        "snapshot_event": None,
    }
    # Only the types whose class declares `data` carry it (stripe 16:
    # `v2.core.account.updated` has none).
    if data is not None:
        full["data"] = data
    return full


def _v1_status(status: str | None) -> str:
    return status if status in ("active", "pending") else "inactive"


def _v1_view(account: dict[str, Any]) -> dict[str, Any]:
    """The v2 account as ``/v1/accounts/{id}`` shows it."""
    transfers = _capability_of(account, *TRANSFERS)
    cards = _capability_of(account, *CARD_PAYMENTS)
    capabilities = {}
    if transfers is not None:
        capabilities["transfers"] = _v1_status(transfers["status"])
    if cards is not None:
        capabilities["card_payments"] = _v1_status(cards["status"])
    currently, past, eventually, pending, onboarding = [], [], [], [], False
    for item in (account["requirements"] or {}).get("entries") or []:
        name = _V1_NAMES.get(item["description"], item["description"])
        deadline = item["minimum_deadline"]["status"]
        if item["awaiting_action_from"] == "stripe":
            pending.append(name)
            continue
        eventually.append(name)
        if deadline in ("currently_due", "past_due"):
            currently.append(name)
            onboarding = onboarding or item["requested_reasons"] == [{"code": "routine_onboarding"}]
        if deadline == "past_due":
            past.append(name)
    identity = account["identity"]
    view = objects.build_account(
        account_id=account["id"],
        account_type="express" if account["dashboard"] == "express" else "custom",
        country=identity["country"] or "US",
        email=account["contact_email"],
        business_type=identity["entity_type"],
        capabilities=capabilities,
        metadata=account["metadata"],
        created=_to_timestamp(account["created"]),
    )
    all_active = bool(capabilities) and set(capabilities.values()) == {"active"}
    # v1 reports what an account owes to be enabled as past due.
    reason = None if all_active else ("requirements.past_due" if currently else None)
    view["requirements"] = objects.requirements(
        currently, eventually_due=eventually, past_due=past, disabled_reason=reason
    )
    view["requirements"]["pending_verification"] = pending
    attested = ((identity["attestations"] or {}).get("terms_of_service") or {}).get("account")
    view["details_submitted"] = bool(attested) or not onboarding
    view["charges_enabled"] = all_active
    view["payouts_enabled"] = transfers is not None and transfers["status"] == "active"
    view["default_currency"] = account["defaults"]["currency"]
    fees = account["defaults"]["responsibilities"]["fees_collector"]
    view["controller"]["fees"] = {"payer": _FEE_PAYERS[fees]}
    view["controller"]["losses"] = {
        "payments": account["defaults"]["responsibilities"]["losses_collector"]
    }
    return view


#: ``fees_collector`` -> v1 ``controller.fees.payer`` (Stripe's v1 view of the account).
_FEE_PAYERS = {
    "stripe": "account",
    "application": "application",
    "application_custom": "application_custom",
    "application_express": "application_express",
}


def as_v1(account: dict[str, Any]) -> dict[str, Any]:
    """Any stored account, as v1 shows it."""
    return _v1_view(account) if account.get("object") == V2_OBJECT else account
