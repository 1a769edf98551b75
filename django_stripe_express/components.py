"""Stripe's embedded components the app can show, and which ones the settings enable.

One table says what each component is called at Stripe and which features its
Account Session accepts (stripe 16's ``AccountSessionCreateParams``); the
account session, the template tag and check E030 all read it from here.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from .conf import app_settings

# Features Stripe accepts for these components (all booleans).
_AUTHENTICATION = ("disable_stripe_user_authentication", "external_account_collection")
_PAYOUTS = (*_AUTHENTICATION, "edit_payout_schedule", "instant_payouts", "standard_payouts")

#: Component name (as the Account Sessions API spells it) -> its features.
COMPONENTS: dict[str, tuple[str, ...]] = {
    "account_onboarding": _AUTHENTICATION,
    "account_management": _AUTHENTICATION,
    "notification_banner": _AUTHENTICATION,
    "balances": _PAYOUTS,
    "payouts": _PAYOUTS,
    "payouts_list": (),
    "documents": (),
}
#: The onboarding page hosts it, whatever `EMBEDDED_COMPONENTS` says: a user
#: may always finish onboarding their own account.
ONBOARDING = "account_onboarding"


def enabled() -> dict[str, dict[str, bool]]:
    """Enabled component -> its features, from ``EMBEDDED_COMPONENTS``.

    A list enables each name with Stripe's default features; a dict gives
    each name its features. Names and features the app does not know are
    left out here (check E030 reports them), so a typo never reaches Stripe.
    """
    configured = app_settings.EMBEDDED_COMPONENTS
    items: Iterable[tuple[Any, Any]] = (
        configured.items() if isinstance(configured, dict) else ((n, {}) for n in configured)
    )
    result: dict[str, dict[str, bool]] = {ONBOARDING: {}}
    for name, features in items:
        if name not in COMPONENTS:
            continue
        known = COMPONENTS[name]
        given = features if isinstance(features, dict) else {}
        result[name] = {k: v for k, v in given.items() if k in known and isinstance(v, bool)}
    return result


def is_enabled(name: str) -> bool:
    return name in enabled()


def session_params(names: Iterable[str]) -> dict[str, Any]:
    """The Account Session's ``components`` for ``names`` (enabled ones only)."""
    available = enabled()
    params: dict[str, Any] = {}
    for name in names:
        if name not in available:
            continue
        params[name] = {"enabled": True}
        if available[name]:
            params[name]["features"] = dict(available[name])
    return params


def element_name(name: str) -> str:
    """Connect.js's name for a component: ``account_management`` -> ``account-management``."""
    return name.replace("_", "-")
