"""Accounts v2 on the Account Links flow: the account's parameters and its links.

``ACCOUNTS_API = "v2"`` (the default) creates an Express-like v2 account:

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

Its Account Links are v2 ones (``/v2/core/account_links``): ``account_onboarding``
until the user submitted their details, ``account_update`` afterwards.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from ..accounts_v2 import CARD_PAYMENTS, INCLUDE
from ..client import get_client
from ..conf import app_settings
from ..models import ExpressAccount
from ..prefill import prefill_for


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


def link_use_case(account: ExpressAccount) -> str:
    """``account_onboarding`` until the user submitted their details, then ``account_update``."""
    return "account_update" if account.details_submitted else "account_onboarding"


def needs_update_link(account: ExpressAccount) -> bool:
    """A v2 user who finished onboarding but must update details gets a link, not the dashboard.

    (v1 Express accounts cannot have ``account_update`` links: their dashboard
    is where they update details.)
    """
    return account.is_v2 and bool(account.currently_due or account.past_due)


def create_v2_link(account: ExpressAccount, refresh_url: str, return_url: str) -> str:
    """A fresh v2 Account Link's URL; raises `stripe.StripeError`."""
    use_case = link_use_case(account)
    link = get_client().v2.core.account_links.create(
        {
            "account": account.stripe_id,
            "use_case": {
                "type": use_case,
                use_case: {"refresh_url": refresh_url, "return_url": return_url},  # type: ignore[misc]
            },
        }
    )
    return str(link.url)
