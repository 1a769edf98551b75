"""``POST /v1/account_sessions``: Account Sessions for Connect's embedded components.

Parameters are checked as Stripe checks them (unknown components and
features, ``enabled`` required, booleans as ``true``/``false``, an account
that exists, ``disable_stripe_user_authentication`` only where the platform
collects requirements). The answer has every component stripe 16 knows, as
Stripe's does, and a ``client_secret`` bound to the account that expires
unclaimed after ``session_ttl`` seconds and serves one Connect.js instance.
"""

from __future__ import annotations

import re
import time
from typing import Any

from . import objects
from .api import error, missing, no_such_account
from .embedded_state import SessionGrant
from .state import FakeState
from .wire import Request, Response, Route

_AUTH = ("disable_stripe_user_authentication", "external_account_collection")
_PAYOUTS = (*_AUTH, "edit_payout_schedule", "instant_payouts", "standard_payouts")
_PAYMENTS = (
    "capture_payments", "destination_on_behalf_of_charge_management", "dispute_management",
    "refund_management", "smart_disputes_management",
)
_ISSUING = (
    "card_management", "card_spend_dispute_management", "cardholder_management",
    "spend_control_management",
)

#: Every component of stripe 16's ``AccountSession.Components``, with its features.
COMPONENTS: dict[str, tuple[str, ...]] = {
    "account_management": _AUTH,
    "account_onboarding": _AUTH,
    "balance_report": (),
    "balances": _PAYOUTS,
    "disputes_list": _PAYMENTS,
    "documents": (),
    "financial_account": (*_AUTH, "send_money", "transfer_balance"),
    "financial_account_transactions": ("card_spend_dispute_management",),
    "instant_payouts_promotion": (*_AUTH, "instant_payouts"),
    "issuing_card": _ISSUING,
    "issuing_cards_list": (*_ISSUING, "disable_stripe_user_authentication"),
    "notification_banner": _AUTH,
    "payment_details": _PAYMENTS,
    "payment_disputes": _PAYMENTS[1:],
    "payment_method_settings": ("disable_stripe_user_authentication",),
    "payments": _PAYMENTS,
    "payout_details": (),
    "payout_reconciliation_report": (),
    "payouts": _PAYOUTS,
    "payouts_list": (),
    "reporting_chart": (),
    "tax_registrations": (),
    "tax_settings": (),
    "terminal_hardware_orders": (),
    "terminal_hardware_shop": (),
}
_TRUE_BY_DEFAULT = {"external_account_collection", *_PAYMENTS[:1], *_PAYMENTS[2:]}
_WHEN_STRIPE_COVERS_LOSSES = {"edit_payout_schedule", "instant_payouts", "standard_payouts"}


def _boolean(value: Any, param: str) -> bool | Response:
    if value in ("true", "false"):
        return bool(value == "true")
    return error(400, f"Invalid boolean: {value}", param=param)


def _stripe_covers_losses(account: dict[str, Any]) -> bool:
    controller = account.get("controller") or {}
    return bool((controller.get("losses") or {}).get("payments") == "stripe")


def _requirements_by_stripe(account: dict[str, Any]) -> bool:
    """Stripe collects the requirements (Express, Standard): it must authenticate users."""
    controller = account.get("controller") or {}
    return bool(controller.get("requirement_collection", "stripe") != "application")


def defaults(account: dict[str, Any], name: str) -> dict[str, bool]:
    """A component's features when the request leaves them out, as Stripe documents them."""
    features = {}
    for feature in COMPONENTS[name]:
        if feature in _WHEN_STRIPE_COVERS_LOSSES:
            features[feature] = _stripe_covers_losses(account)
        else:
            features[feature] = feature in _TRUE_BY_DEFAULT
    if "disable_stripe_user_authentication" in features:
        features["disable_stripe_user_authentication"] = not features.get(
            "external_account_collection", True
        )
    if "smart_disputes_management" in features:
        features["smart_disputes_management"] = features.get("dispute_management", False)
    return features


def _component(
    account: dict[str, Any], name: str, spec: Any
) -> dict[str, Any] | Response:
    """One requested component, validated, with its features filled in."""
    prefix = f"components[{name}]"
    if not isinstance(spec, dict):
        return error(400, f"Invalid object: {prefix} must be a hash.", param=prefix)
    for key in spec:
        if key not in ("enabled", "features"):
            return error(400, f"Received unknown parameter: {prefix}[{key}]",
                         code="parameter_unknown", param=f"{prefix}[{key}]")
    if "enabled" not in spec:
        return missing(f"{prefix}[enabled]")
    enabled = _boolean(spec["enabled"], f"{prefix}[enabled]")
    if isinstance(enabled, Response):
        return enabled
    features = defaults(account, name)
    given = spec.get("features", {})
    if given == "":
        given = {}
    if not isinstance(given, dict):
        return error(400, f"Invalid object: {prefix}[features] must be a hash.",
                     param=f"{prefix}[features]")
    for feature, value in given.items():
        param = f"{prefix}[features][{feature}]"
        if feature not in features:
            return error(400, f"Received unknown parameter: {param}",
                         code="parameter_unknown", param=param)
        on = _boolean(value, param)
        if isinstance(on, Response):
            return on
        features[feature] = on
    if (
        features.get("disable_stripe_user_authentication")
        and "disable_stripe_user_authentication" in given
        and _requirements_by_stripe(account)
    ):
        return error(
            400,
            "`disable_stripe_user_authentication` can only be true for accounts where "
            "`controller.requirement_collection` is `application`.",
            param=f"{prefix}[features][disable_stripe_user_authentication]",
        )
    return {"enabled": enabled, "features": features}


def create_account_session(state: FakeState, request: Request) -> Response:
    params = request.form
    for name in params:
        if name not in ("account", "components", "expand"):
            return error(400, f"Received unknown parameter: {name}",
                         code="parameter_unknown", param=name)
    if not params.get("account"):
        return missing("account")
    if not params.get("components"):
        return missing("components")
    acct = str(params["account"])
    account = state.accounts.get(acct)
    if account is None:
        return no_such_account(acct, 400)
    requested = params["components"]
    if not isinstance(requested, dict):
        return error(400, "Invalid object: components must be a hash.", param="components")
    answer: dict[str, dict[str, Any]] = {
        name: {"enabled": False, "features": defaults(account, name)} for name in COMPONENTS
    }
    for name, spec in requested.items():
        if name not in COMPONENTS:
            return error(400, f"Received unknown parameter: components[{name}]",
                         code="parameter_unknown", param=f"components[{name}]")
        component = _component(account, name, spec)
        if isinstance(component, Response):
            return component
        answer[name] = component
    now = time.time()
    grant = SessionGrant(
        account_id=acct,
        client_secret="accs_secret__" + objects.random_id("", 48),
        components=answer,
        created=now,
        expires_at=now + state.embedded.session_ttl,
    )
    state.embedded.sessions[grant.client_secret] = grant
    return Response.json(
        200,
        {
            "object": "account_session",
            "account": acct,
            "client_secret": grant.client_secret,
            "components": answer,
            "expires_at": int(grant.expires_at),
            "livemode": False,
        },
    )


ROUTES: list[tuple[str, re.Pattern[str], Route]] = [
    ("POST", re.compile(r"/v1/account_sessions"), create_account_session),
]
