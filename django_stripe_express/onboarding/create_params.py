"""What the platform asks Stripe for when it creates a user's account (Account
Links and embedded onboarding), with either Accounts API.

``ACCOUNTS_API = "v1"``: an Express account, through ``controller`` properties
(Stripe deprecated ``type=express``; these make the same account).

``ACCOUNTS_API = "v2"`` (the default): an Express-like v2 account:

* ``dashboard: "express"``: the user gets the Express dashboard (login links);
* ``defaults.responsibilities`` from ``RESPONSIBILITIES`` (the classic Express
  split by default: the platform collects fees and covers losses);
* ``configuration.recipient`` with ``stripe_balance.stripe_transfers``
  requested: the user can be paid; ``configuration.merchant`` with
  ``card_payments`` when ``SUGGESTED_CAPABILITIES`` lists ``card_payments``;
* ``identity.country`` / ``identity.entity_type`` from ``COUNTRY`` /
  ``BUSINESS_TYPE``, ``contact_email`` and ``display_name`` from the prefill
  (``PREFILL``), ``metadata.platform_user_id``, and ``include`` for every
  part the app reads (`accounts_v2.INCLUDE`).

Either way the host's ``ACCOUNT_CREATE_PARAMS`` hook has the last word.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.utils.module_loading import import_string

from ..accounts_v2 import CARD_PAYMENTS, INCLUDE
from ..conf import ACCOUNTS_V1, ACCOUNTS_V2, app_settings
from ..prefill import prefill_for


def express_controller() -> dict[str, Any]:
    """v1 ``controller`` properties of an Express account, from ``RESPONSIBILITIES``.

    Stripe deprecated ``type=express``; these make the same account.
    """
    responsibilities = app_settings.RESPONSIBILITIES
    fees = responsibilities.get("fees_collector", "application")
    losses = responsibilities.get("losses_collector", "application")
    return {
        "stripe_dashboard": {"type": "express"},
        "fees": {"payer": "account" if fees == "stripe" else "application"},
        "losses": {"payments": losses},
        "requirement_collection": "stripe",
    }


def create_params(request: HttpRequest, api: str = ACCOUNTS_V1) -> dict[str, Any]:
    """``accounts.create`` parameters, after the host's ``ACCOUNT_CREATE_PARAMS`` hook."""
    params = v2_create_params(request) if api == ACCOUNTS_V2 else v1_create_params(request)
    hook = app_settings.ACCOUNT_CREATE_PARAMS
    if hook:
        params = import_string(hook)(request, params)
    return params


def v1_create_params(request: HttpRequest) -> dict[str, Any]:
    """``v1.accounts.create`` parameters of an Express account."""
    user = request.user
    params: dict[str, Any] = {
        "controller": express_controller(),
        "metadata": {"platform_user_id": str(user.pk)},
    }
    capabilities = app_settings.SUGGESTED_CAPABILITIES
    if capabilities:
        params["capabilities"] = {name: {"requested": True} for name in capabilities}
    if app_settings.COUNTRY:
        params["country"] = app_settings.COUNTRY
    email = getattr(user, "email", "")
    if email:
        params["email"] = email
    if app_settings.BUSINESS_TYPE:
        params["business_type"] = app_settings.BUSINESS_TYPE
    return params


def display_name(prefill: dict[str, str]) -> str:
    """The business name from the prefill, else the person's name."""
    if prefill.get("business_name"):
        return prefill["business_name"]
    names = [prefill.get("first_name", ""), prefill.get("last_name", "")]
    return " ".join(name for name in names if name)


def v2_create_params(request: HttpRequest) -> dict[str, Any]:
    """``v2.core.accounts.create`` parameters, before the host's hook."""
    user = request.user
    prefill = prefill_for(request)
    configuration: dict[str, Any] = {
        "recipient": {"capabilities": {"stripe_balance": {"stripe_transfers": {"requested": True}}}}
    }
    if CARD_PAYMENTS in app_settings.SUGGESTED_CAPABILITIES:
        configuration["merchant"] = {"capabilities": {CARD_PAYMENTS: {"requested": True}}}
    params: dict[str, Any] = {
        "dashboard": "express",
        "defaults": {"responsibilities": app_settings.RESPONSIBILITIES},
        "configuration": configuration,
        "include": list(INCLUDE),
        "metadata": {"platform_user_id": str(user.pk)},
    }
    identity: dict[str, Any] = {}
    country = app_settings.COUNTRY or prefill.get("country")
    if country:
        identity["country"] = country.lower()
    if app_settings.BUSINESS_TYPE:
        identity["entity_type"] = app_settings.BUSINESS_TYPE
    if identity:
        params["identity"] = identity
    email = prefill.get("email") or getattr(user, "email", "")
    if email:
        params["contact_email"] = email
    name = display_name(prefill)
    if name:
        params["display_name"] = name
    return params
