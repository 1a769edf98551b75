"""Build objects in the shapes Stripe's API returns.

Every builder returns plain dicts with the same top-level keys as Stripe's
published samples (``fixtures3.json``), so code tested against the fake reads
the same fields it will read in production.
"""

from __future__ import annotations

import copy
import secrets
import string
import time
from typing import Any

_ALNUM = string.ascii_letters + string.digits

#: Requirements of a freshly created Express account in the US, as Stripe lists them.
_NEW_EXPRESS_REQUIREMENTS = [
    "business_profile.mcc",
    "business_profile.url",
    "business_type",
    "external_account",
    "tos_acceptance.date",
    "tos_acceptance.ip",
]

_CURRENCIES = {
    "US": "usd",
    "CA": "cad",
    "GB": "gbp",
    "AU": "aud",
    "NZ": "nzd",
    "JP": "jpy",
    "CH": "chf",
    "SE": "sek",
    "NO": "nok",
    "DK": "dkk",
    "PL": "pln",
    "SG": "sgd",
    "HK": "hkd",
    "MX": "mxn",
    "BR": "brl",
    "IN": "inr",
}
_EURO = {
    "AT",
    "BE",
    "CY",
    "DE",
    "EE",
    "ES",
    "FI",
    "FR",
    "GR",
    "HR",
    "IE",
    "IT",
    "LT",
    "LU",
    "LV",
    "MT",
    "NL",
    "PT",
    "SI",
    "SK",
}


def _random_id(prefix: str, length: int = 16) -> str:
    """An id like Stripe's: a type prefix and random alphanumerics."""
    return prefix + "".join(secrets.choice(_ALNUM) for _ in range(length))


def now() -> int:
    return int(time.time())


def _currency_for(country: str) -> str:
    country = country.upper()
    return "eur" if country in _EURO else _CURRENCIES.get(country, "usd")


def requirements(
    currently_due: list[str] | None = None,
    *,
    eventually_due: list[str] | None = None,
    past_due: list[str] | None = None,
    pending_verification: list[str] | None = None,
    disabled_reason: str | None = None,
) -> dict[str, Any]:
    """A ``requirements`` hash; ``eventually_due`` always includes ``currently_due``."""
    due = list(currently_due or [])
    eventually = list(dict.fromkeys([*due, *(eventually_due or [])]))
    return {
        "alternatives": [],
        "current_deadline": None,
        "currently_due": due,
        "disabled_reason": disabled_reason,
        "errors": [],
        "eventually_due": eventually,
        "past_due": list(past_due or []),
        "pending_verification": list(pending_verification or []),
    }


def _controller_for(account_type: str) -> dict[str, Any]:
    """The ``controller`` hash Stripe reports for each legacy account type."""
    if account_type == "standard":
        return {"is_controller": True, "type": "account"}
    dashboard = "express" if account_type == "express" else "none"
    collection = "stripe" if account_type == "express" else "application"
    return {
        "fees": {"payer": "application"},
        "is_controller": True,
        "losses": {"payments": "application"},
        "requirement_collection": collection,
        "stripe_dashboard": {"type": dashboard},
        "type": "application",
    }


def _settings(country: str) -> dict[str, Any]:
    return {
        "bacs_debit_payments": {"display_name": None, "service_user_number": None},
        "branding": {"icon": None, "logo": None, "primary_color": None, "secondary_color": None},
        "card_issuing": {"tos_acceptance": {"date": None, "ip": None}},
        "card_payments": {
            "decline_on": {"avs_failure": False, "cvc_failure": False},
            "statement_descriptor_prefix": None,
            "statement_descriptor_prefix_kana": None,
            "statement_descriptor_prefix_kanji": None,
        },
        "dashboard": {"display_name": None, "timezone": "Etc/UTC"},
        "invoices": {"default_account_tax_ids": None, "hosted_payment_method_save": "offer"},
        "payments": {
            "statement_descriptor": None,
            "statement_descriptor_kana": None,
            "statement_descriptor_kanji": None,
            "statement_descriptor_prefix_kana": None,
            "statement_descriptor_prefix_kanji": None,
        },
        "payouts": {
            "debit_negative_balances": True,
            "schedule": {"delay_days": 2, "interval": "daily"},
            "statement_descriptor": None,
        },
        "sepa_debit_payments": {},
    }


def _empty_list(url: str) -> dict[str, Any]:
    return {"object": "list", "data": [], "has_more": False, "total_count": 0, "url": url}


def build_account(
    *,
    account_id: str | None = None,
    account_type: str = "express",
    country: str = "US",
    email: str | None = None,
    business_type: str | None = None,
    capabilities: dict[str, str] | None = None,
    metadata: dict[str, str] | None = None,
    created: int | None = None,
) -> dict[str, Any]:
    """A new, not yet onboarded account, as ``POST /v1/accounts`` returns it."""
    account_id = account_id or _random_id("acct_")
    due = list(_NEW_EXPRESS_REQUIREMENTS)
    if business_type:
        due.remove("business_type")
    return {
        "business_profile": {
            "annual_revenue": None,
            "estimated_worker_count": None,
            "mcc": None,
            "minority_owned_business_designation": None,
            "name": None,
            "product_description": None,
            "support_address": None,
            "support_email": None,
            "support_phone": None,
            "support_url": None,
            "url": None,
        },
        "business_type": business_type,
        "capabilities": dict(capabilities or {}),
        "charges_enabled": False,
        "controller": _controller_for(account_type),
        "country": country.upper(),
        "created": created if created is not None else now(),
        "default_currency": _currency_for(country),
        "details_submitted": False,
        "email": email,
        "external_accounts": _empty_list(f"/v1/accounts/{account_id}/external_accounts"),
        "future_requirements": requirements(),
        "id": account_id,
        "metadata": dict(metadata or {}),
        "object": "account",
        "payouts_enabled": False,
        "requirements": requirements(due, disabled_reason="requirements.past_due"),
        "settings": _settings(country),
        "tos_acceptance": {"date": None, "ip": None, "user_agent": None},
        "type": account_type,
    }


def _normalize_capabilities(value: Any) -> dict[str, str]:
    """Accept ``{"transfers": "active"}`` or the API's ``{"transfers": {"requested": True}}``."""
    result: dict[str, str] = {}
    for name, spec in (value or {}).items():
        if isinstance(spec, dict):
            if str(spec.get("requested", "true")).lower() in {"true", "1"}:
                result[name] = "inactive"
        elif isinstance(spec, bool):
            if spec:
                result[name] = "inactive"
        else:
            result[name] = str(spec)
    return result


def _deep_merge(target: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
    """Merge ``changes`` into ``target`` in place: dicts recursively, the rest replaced."""
    for key, value in changes.items():
        if isinstance(value, dict) and isinstance(target.get(key), dict):
            _deep_merge(target[key], value)
        else:
            target[key] = copy.deepcopy(value)
    return target


#: What ``account["capabilities"]`` may say of a requested capability.
_CAPABILITY_STATUSES = ("active", "inactive", "pending")

# A capability's `requirements.disabled_reason` has values of its own
# (stripe 16's `Capability.Requirements`), not the account's.
_CAPABILITY_REASONS = {
    "requirements.past_due": "requirements.fields_needed",
    "requirements.pending_verification": "pending.review",
    "under_review": "pending.review",
    "listed": "pending.review",
    "platform_paused": "platform_paused",
    "action_required.requested_capabilities": "other",
    "other": "other",
}


def _capability_disabled_reason(account_reason: str | None) -> str | None:
    """The capability's ``disabled_reason`` while the account has ``account_reason``."""
    if not account_reason:
        return None
    if account_reason.startswith("rejected.platform_"):
        return "platform_disabled"
    if account_reason.startswith("rejected."):
        return "rejected.other"
    return _CAPABILITY_REASONS.get(account_reason, "other")


def capability(account: dict[str, Any], name: str) -> dict[str, Any]:
    """The ``capability`` object for ``name`` on ``account`` (``unrequested`` if not asked for)."""
    if name not in account["capabilities"]:
        return {
            "account": account["id"],
            "future_requirements": requirements(),
            "id": name,
            "object": "capability",
            "requested": False,
            "requested_at": None,
            "requirements": requirements(),
            "status": "unrequested",
        }
    status = account["capabilities"][name]
    reqs = account["requirements"]
    due = [] if status == "active" else list(reqs["currently_due"])
    reason = None if status == "active" else _capability_disabled_reason(reqs["disabled_reason"])
    return {
        "account": account["id"],
        "future_requirements": requirements(),
        "id": name,
        "object": "capability",
        "requested": True,
        "requested_at": account["created"],
        "requirements": {
            **requirements(due, past_due=reqs["past_due"] if due else []),
            "current_deadline": reqs["current_deadline"] if due else None,
            "disabled_reason": reason,
        },
        "status": status,
    }


def account_link(url: str, created: int, expires_at: int) -> dict[str, Any]:
    return {"created": created, "expires_at": expires_at, "object": "account_link", "url": url}


def login_link(url: str, created: int) -> dict[str, Any]:
    return {"created": created, "object": "login_link", "url": url}


def application(client_id: str, name: str | None = None) -> dict[str, Any]:
    return {"id": client_id, "name": name, "object": "application"}


def _list_object(data: list[dict[str, Any]], url: str, has_more: bool) -> dict[str, Any]:
    return {"data": data, "has_more": has_more, "object": "list", "url": url}


def api_error(
    message: str,
    *,
    type_: str = "invalid_request_error",
    code: str | None = None,
    param: str | None = None,
) -> dict[str, Any]:
    """The body of a ``/v1`` error: ``{"error": {...}}`` with a ``doc_url`` when coded."""
    error: dict[str, Any] = {"message": message, "type": type_}
    if code:
        error["code"] = code
        error["doc_url"] = f"https://stripe.com/docs/error-codes/{code.replace('_', '-')}"
    if param:
        error["param"] = param
    return {"error": error}


def oauth_error(error: str, description: str) -> dict[str, Any]:
    """The body of a Connect OAuth error: ``error`` is a string, not a hash."""
    return {"error": error, "error_description": description}


def _mask_key(key: str) -> str:
    """Hide a key the way Stripe's messages do: prefix and last four characters."""
    prefix = ""
    for candidate in ("sk_test_", "sk_live_", "rk_test_", "rk_live_", "pk_test_", "pk_live_"):
        if key.startswith(candidate):
            prefix = candidate
    visible = key[-4:] if len(key) - len(prefix) > 4 else ""
    return prefix + "*" * (len(key) - len(prefix) - len(visible)) + visible


#: The API version stamped on built events; the webhook code must not depend on it.
API_VERSION = "2024-06-20"


def build_event(
    event_type: str,
    data_object: dict[str, Any],
    *,
    account: str | None = None,
    previous_attributes: dict[str, Any] | None = None,
    created: int | None = None,
    livemode: bool = False,
    event_id: str | None = None,
) -> dict[str, Any]:
    """An ``event`` with the top-level keys of a real Connect event."""
    data: dict[str, Any] = {"object": copy.deepcopy(data_object)}
    if previous_attributes is not None:
        data["previous_attributes"] = copy.deepcopy(previous_attributes)
    event: dict[str, Any] = {
        "id": event_id or _random_id("evt_", 24),
        "object": "event",
        "account": account,
        "api_version": API_VERSION,
        "created": created if created is not None else now(),
        "data": data,
        "livemode": livemode,
        "pending_webhooks": 1,
        "request": {"id": None, "idempotency_key": None},
        "type": event_type,
    }
    if account is None:
        del event["account"]  # platform events carry no ``account`` key at all
    return event
