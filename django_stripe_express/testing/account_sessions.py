"""``POST /v1/account_sessions``: Account Sessions for Connect's embedded components.

Parameters are checked against stripe 16's ``AccountSessionCreateParams``
(`schema`: unknown components and features, ``enabled`` required, booleans),
then as Stripe checks them beyond their types: an account that exists, and
``disable_stripe_user_authentication`` only where the platform collects
requirements. The answer has every component stripe knows, as Stripe's does,
and a ``client_secret`` bound to the account that expires unclaimed after
``session_ttl`` seconds and serves one Connect.js instance.
"""

from __future__ import annotations

import functools
import re
import time
from typing import Any

import stripe.params as P

from . import objects, schema
from .api import error, no_such_account
from .embedded_state import SessionGrant
from .objects_v2 import as_v1
from .state import FakeState
from .wire import Request, Response, Route

# Stripe's documented defaults: these features are on unless turned off...
_TRUE_BY_DEFAULT = {
    "external_account_collection", "capture_payments", "dispute_management",
    "refund_management",
}
# ... and these only where Stripe covers the account's negative balances.
_WHEN_STRIPE_COVERS_LOSSES = {"edit_payout_schedule", "instant_payouts", "standard_payouts"}


@functools.cache
def components() -> dict[str, tuple[str, ...]]:
    """Every component of stripe's ``AccountSessionCreateParams``, with its features."""
    fields, _ = schema.fields(P.AccountSessionCreateParams)
    table = {}
    for name, component in schema.fields(fields["components"])[0].items():
        features = schema.fields(component)[0].get("features")
        table[name] = tuple(schema.fields(features)[0]) if features is not None else ()
    return table


def _stripe_covers_losses(account: dict[str, Any]) -> bool:
    controller = account.get("controller") or {}
    return bool((controller.get("losses") or {}).get("payments") == "stripe")


def _requirements_by_stripe(account: dict[str, Any]) -> bool:
    """Stripe collects the requirements (Express, Standard): it must authenticate users."""
    controller = account.get("controller") or {}
    return bool(controller.get("requirement_collection", "stripe") != "application")


def defaults(account: dict[str, Any], name: str) -> dict[str, bool]:
    """A component's features when the request leaves them out, as Stripe documents them."""
    features = {
        feature: (
            _stripe_covers_losses(account)
            if feature in _WHEN_STRIPE_COVERS_LOSSES
            else feature in _TRUE_BY_DEFAULT
        )
        for feature in components()[name]
    }
    if "disable_stripe_user_authentication" in features:
        features["disable_stripe_user_authentication"] = not features.get(
            "external_account_collection", True
        )
    if "smart_disputes_management" in features:
        features["smart_disputes_management"] = features.get("dispute_management", False)
    return features


def _component(account: dict[str, Any], name: str, spec: dict[str, Any]) -> dict[str, Any]:
    """One requested component (its types already checked), features filled in."""
    given = spec.get("features") or {}
    features = {**defaults(account, name), **{k: v == "true" for k, v in given.items()}}
    return {"enabled": spec["enabled"] == "true", "features": features}


@schema.validated(P.AccountSessionCreateParams)
def create_account_session(state: FakeState, request: Request) -> Response:
    params = request.form
    acct = str(params["account"])
    account = state.accounts.get(acct)
    if account is None:
        return no_such_account(acct, 400)
    account = as_v1(account)  # a v2 account, as v1 endpoints see it
    answer: dict[str, dict[str, Any]] = {
        name: {"enabled": False, "features": defaults(account, name)} for name in components()
    }
    for name, spec in params["components"].items():
        answer[name] = _component(account, name, spec)
        if answer[name]["features"].get("disable_stripe_user_authentication") and (
            _requirements_by_stripe(account)
        ):
            return error(
                400,
                "`disable_stripe_user_authentication` can only be true for accounts where "
                "`controller.requirement_collection` is `application`.",
                param=f"components[{name}][features][disable_stripe_user_authentication]",
            )
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
