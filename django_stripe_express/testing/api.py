"""The ``/v1`` endpoints the app uses: accounts, account links, login links,
Account Sessions, events.

Validation follows Stripe's answers closely enough that the app's error handling
is exercised for real: unknown parameters, missing required ones, accounts the
platform cannot reach (403 ``account_invalid``).
"""

from __future__ import annotations

import copy
import functools
import re
import time
from typing import Any

import stripe.params as P

from . import objects, schema
from .objects_v2 import as_v1
from .schema import _validated
from .server import Response, _bearer_key, _is_url, _Routes, api_error
from .state import RecordedRequest, _SessionGrant, _State

_BUSINESS_TYPES = {"individual", "company", "non_profit", "government_entity"}


def missing(param: str) -> Response:
    return api_error(
        400, f"Missing required param: {param}.", code="parameter_missing", param=param
    )


def _no_such_account(acct_id: str, status: int = 404, param: str = "account") -> Response:
    return api_error(status, f"No such account: '{acct_id}'", code="resource_missing", param=param)


def _no_access(state: _State, request: RecordedRequest, acct_id: str) -> Response:
    """Stripe's answer for an account the platform cannot reach: revoked, deleted, unknown.

    403 ``account_invalid`` (`stripe.PermissionError`), the same for all three
    so that account ids cannot be probed.
    """
    key = objects._mask_key(_bearer_key(request) or "")
    return api_error(
        403,
        f"The provided key '{key}' does not have access to account '{acct_id}' (or that "
        "account does not exist). Application access may have been revoked.",
        code="account_invalid",
    )


def reachable(state: _State, request: RecordedRequest, acct_id: str) -> dict[str, Any] | Response:
    """The stored account, or `no_access` when the platform cannot reach it."""
    account = state.accounts.get(acct_id)
    if account is None or acct_id in state.deauthorized:
        return _no_access(state, request, acct_id)
    return account


def _type_from(params: dict[str, Any]) -> str | None:
    if "type" in params:
        return str(params["type"])
    dashboard = (params.get("controller") or {}).get("stripe_dashboard") or {}
    return {"express": "express", "full": "standard", "none": "custom"}.get(
        str(dashboard.get("type")), "standard"
    )


_FEE_PAYERS = ("account", "application", "application_custom", "application_express")


def _controller(params: dict[str, Any]) -> dict[str, Any] | Response | None:
    """The ``controller`` Stripe reports for the requested ``controller`` (None:
    none requested), or Stripe's refusal of a combination it does not take."""
    requested = params.get("controller")
    if not isinstance(requested, dict):
        return None
    dashboard = str((requested.get("stripe_dashboard") or {}).get("type") or "full")
    payer = str((requested.get("fees") or {}).get("payer") or "application")
    losses = str((requested.get("losses") or {}).get("payments") or "application")
    collection = str(requested.get("requirement_collection") or "stripe")

    def refuse(param: str, message: str) -> Response:
        return api_error(400, message, param=f"controller[{param}]")

    if dashboard not in ("express", "full", "none"):
        return refuse("stripe_dashboard][type", f"Invalid stripe_dashboard type: {dashboard}")
    if payer not in _FEE_PAYERS:
        return refuse("fees][payer", f"Invalid fees payer: {payer}")
    if losses not in ("application", "stripe"):
        return refuse("losses][payments", f"Invalid losses payments: {losses}")
    if collection not in ("application", "stripe"):
        return refuse("requirement_collection", f"Invalid requirement_collection: {collection}")
    if collection == "application" and dashboard != "none":
        return refuse(
            "requirement_collection",
            "`requirement_collection` can be `application` only when "
            "`stripe_dashboard[type]` is `none`.",
        )
    if payer == "account" and losses != "stripe":
        return refuse("losses][payments", "When `fees[payer]` is `account`, "
                      "`losses[payments]` must be `stripe`.")
    if payer == "application_express" and dashboard != "express":
        return refuse("fees][payer", "`application_express` requires the Express dashboard.")
    if payer == "application_custom" and dashboard != "none":
        return refuse("fees][payer", "`application_custom` requires `stripe_dashboard[type]` "
                      "`none`.")
    return {
        "fees": {"payer": payer},
        "is_controller": True,
        "losses": {"payments": losses},
        "requirement_collection": collection,
        "stripe_dashboard": {"type": dashboard},
        "type": "application",
    }


_INTERVALS = ("daily", "weekly", "monthly", "manual")
_V1_WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


def _schedule_error(message: str, param: str) -> Response:
    return api_error(400, message, code="parameter_invalid", param=param)


def _v1_schedule(account: dict[str, Any], given: Any) -> Response | None:
    """Apply ``settings.payouts.schedule`` as Stripe checks it (form values are strings)."""
    if not isinstance(given, dict):
        return None
    param = "settings[payouts][schedule]"
    schedule = account["settings"]["payouts"]["schedule"]
    interval = given.get("interval", schedule.get("interval"))
    if interval not in _INTERVALS:
        return _schedule_error(f"Invalid interval: must be one of {', '.join(_INTERVALS)}",
                               f"{param}[interval]")
    new: dict[str, Any] = {"interval": interval, "delay_days": schedule.get("delay_days", 2)}
    delay = given.get("delay_days")
    if delay is not None and delay != "minimum":
        if not str(delay).isdigit() or not 1 <= int(delay) <= 31:
            return _schedule_error("delay_days must be 'minimum' or 1 to 31.",
                                   f"{param}[delay_days]")
        new["delay_days"] = int(delay)
    elif delay == "minimum":
        new["delay_days"] = 2
    if interval == "weekly":
        if given.get("weekly_anchor") not in _V1_WEEKDAYS:
            return _schedule_error("weekly_anchor is required for a weekly schedule.",
                                   f"{param}[weekly_anchor]")
        new["weekly_anchor"] = given["weekly_anchor"]
    elif interval == "monthly":
        day = str(given.get("monthly_anchor", ""))
        if not day.isdigit() or not 1 <= int(day) <= 31:
            return _schedule_error("monthly_anchor is required for a monthly schedule.",
                                   f"{param}[monthly_anchor]")
        new["monthly_anchor"] = int(day)
    elif given.get("weekly_anchor") or given.get("monthly_anchor"):
        return _schedule_error(f"An anchor is not allowed for a {interval} schedule.", param)
    account["settings"]["payouts"]["schedule"] = new
    return None


def _apply(account: dict[str, Any], params: dict[str, Any]) -> Response | None:
    """Apply create/update params shared by both endpoints to ``account``."""

    if "business_type" in params:
        # An open enum in stripe's params types, a closed one at Stripe.
        if params["business_type"] not in _BUSINESS_TYPES:
            return api_error(
                400,
                "Invalid business_type: must be one of individual, company, "
                "non_profit, or government_entity",
                param="business_type",
            )
        account["business_type"] = params["business_type"]
        _satisfy(account, ["business_type"])
    if "email" in params:
        account["email"] = params["email"] or None
    metadata = params.get("metadata")
    if metadata == "":
        account["metadata"] = {}
    elif isinstance(metadata, dict):
        for key, value in metadata.items():
            if value == "":
                account["metadata"].pop(key, None)
            else:
                account["metadata"][key] = str(value)
    for name, spec in (params.get("capabilities") or {}).items():
        if objects._normalize_capabilities({name: spec}):
            account["capabilities"].setdefault(name, "inactive")
        else:
            account["capabilities"].pop(name, None)
    settings = params.get("settings")
    if isinstance(settings, dict) and isinstance(settings.get("payouts"), dict):
        # The schedule as Stripe checks and answers it (ints, the anchor its interval takes).
        settings = {**settings, "payouts": dict(settings["payouts"])}
        refused = _v1_schedule(account, settings["payouts"].pop("schedule", None))
        if refused is not None:
            return refused
        params = {**params, "settings": settings}
    for key in ("business_profile", "settings", "tos_acceptance"):
        if isinstance(params.get(key), dict):
            objects._deep_merge(account[key], params[key])
    if account["tos_acceptance"].get("date") and account["tos_acceptance"].get("ip"):
        _satisfy(account, ["tos_acceptance.date", "tos_acceptance.ip"])
    if "default_currency" in params:
        account["default_currency"] = str(params["default_currency"]).lower()
    return None


def _satisfy(account: dict[str, Any], fields: list[str]) -> None:
    for key in ("currently_due", "eventually_due", "past_due"):
        account["requirements"][key] = [f for f in account["requirements"][key] if f not in fields]


@_validated(P.AccountCreateParams)
def create_account(state: _State, request: RecordedRequest) -> Response:
    params = request.form
    account_type = _type_from(params)
    if account_type not in {"standard", "express", "custom"}:
        return api_error(
            400, "Invalid type: must be one of standard, express, or custom", param="type"
        )
    country = str(params.get("country") or "US")
    if not re.fullmatch(r"[A-Za-z]{2}", country):
        return api_error(
            400,
            f"Country '{country}' is unknown. Try using a 2-character "
            "alphanumeric country code instead, such as 'US', 'EG', or 'GB'.",
            param="country",
        )
    controller = _controller(params)
    if isinstance(controller, Response):
        return controller
    account = objects.build_account(account_type=account_type, country=country)
    if controller is not None:
        account["controller"] = controller
    failed = _apply(account, params)
    if failed:
        return failed
    if not account["capabilities"] and account_type == "express":
        account["capabilities"] = {"transfers": "inactive"}
    state.accounts[account["id"]] = account
    return Response.json(200, copy.deepcopy(account))


@_validated(P.AccountRetrieveParams)
def retrieve_account(state: _State, request: RecordedRequest, acct: str) -> Response:
    account = reachable(state, request, acct)
    if isinstance(account, Response):
        return account
    return Response.json(200, copy.deepcopy(as_v1(account)))  # a v2 account, in v1 shape


def _limit(value: Any) -> int | Response:
    if value is None:
        return 10
    try:
        limit = int(value)
    except ValueError:
        return api_error(400, f"Invalid integer: {value}", param="limit")
    if not 1 <= limit <= 100:
        bound = "greater than or equal to 1" if limit < 1 else "less than or equal to 100"
        return api_error(
            400, f"This value must be {bound} (it currently is '{limit}').", param="limit"
        )
    return limit


def page(items: list[dict[str, Any]], query: dict[str, Any], url: str,
         noun: str = "object") -> Response:
    """A v1 list page of ``items`` (already in Stripe's order, newest first) after
    ``starting_after``, up to ``limit``; an unknown cursor is Stripe's "No such
    {noun}"."""
    limit = _limit(query.get("limit"))
    if isinstance(limit, Response):
        return limit
    ids = [i["id"] for i in items]
    start = 0
    after = query.get("starting_after")
    if after:
        if after not in ids:
            return api_error(400, f"No such {noun}: '{after}'", code="resource_missing",
                             param="starting_after")
        start = ids.index(after) + 1
    return Response.json(200, objects._list_object(
        copy.deepcopy(items[start:start + limit]), url, start + limit < len(items)))


@_validated(P.AccountListParams)
def _list_accounts(state: _State, request: RecordedRequest) -> Response:
    limit = _limit(request.query.get("limit"))
    if isinstance(limit, Response):
        return limit
    # Newest first, as Stripe lists; ties keep creation order reversed. Accounts
    # that revoked the platform's access are no longer its connected accounts.
    # v2 accounts are listed too, in v1 shape.
    ordered = [as_v1(a) for a in state.accounts.values() if a["id"] not in state.deauthorized]
    ordered.reverse()
    ordered.sort(key=lambda a: a["created"], reverse=True)
    ids = [a["id"] for a in ordered]
    start = 0
    after, before = request.query.get("starting_after"), request.query.get("ending_before")
    if after:
        if after not in ids:
            return _no_such_account(str(after), 400, "starting_after")
        start = ids.index(after) + 1
        page = ordered[start : start + limit]
        has_more = start + limit < len(ordered)
    elif before:
        if before not in ids:
            return _no_such_account(str(before), 400, "ending_before")
        end = ids.index(before)
        page = ordered[max(0, end - limit) : end]
        has_more = end - limit > 0
    else:
        page, has_more = ordered[:limit], len(ordered) > limit
    return Response.json(200, objects._list_object(copy.deepcopy(page), "/v1/accounts", has_more))


@_validated(P.AccountLinkCreateParams)
def _create_account_link(state: _State, request: RecordedRequest) -> Response:
    params = request.form
    acct, link_type = str(params["account"]), str(params["type"])
    account = reachable(state, request, acct)
    if isinstance(account, Response):
        return account
    account = as_v1(account)
    if link_type not in {"account_onboarding", "account_update"}:
        return api_error(
            400, "Invalid type: must be one of account_onboarding or account_update", param="type"
        )
    if link_type == "account_update" and account["type"] != "custom":
        return api_error(
            400,
            "You cannot create `account_update` type Account Links for "
            f"accounts that use a Stripe-hosted dashboard ({acct}).",
            param="type",
        )
    for required in ("refresh_url", "return_url"):
        if not params.get(required):
            return missing(required)
        if not _is_url(params[required]):
            return api_error(400, "Not a valid URL", code="url_invalid", param=required)
    created = objects.now()
    url, _link = state.new_link(
        acct, link_type, str(params["refresh_url"]), str(params["return_url"])
    )
    return Response.json(200, objects.account_link(url, created, created + int(state.link_ttl)))


@_validated(P.AccountLoginLinkCreateParams)
def _create_login_link(state: _State, request: RecordedRequest, acct: str) -> Response:
    account = reachable(state, request, acct)
    if isinstance(account, Response):
        return account
    if account.get("closed"):  # a closed v2 account
        return api_error(400, f"The account {acct} is closed.", code="account_closed")
    account = as_v1(account)  # a v2 account with `dashboard: express` is an Express account
    if account["type"] != "express":
        return api_error(
            400,
            f"Cannot create a login link for the account {acct}, which is not an Express account.",
        )
    if state.login_links_require_onboarding and not account["details_submitted"]:
        return api_error(
            400, "Cannot create a login link for an account that has not completed onboarding."
        )
    url, _link = state.new_link(acct, "login")
    return Response.json(200, objects.login_link(url, objects.now()))


@_validated(P.EventRetrieveParams)
def _retrieve_event(state: _State, request: RecordedRequest, event_id: str) -> Response:
    event = state.events.get(event_id)
    if event is None:
        return api_error(404, f"No such event: '{event_id}'", code="resource_missing", param="id")
    return Response.json(200, copy.deepcopy(event))


# -- Account Sessions (embedded components) ---------------------------------------
#
# ``POST /v1/account_sessions``: Account Sessions for Connect's embedded components.
#
# Parameters are checked against stripe 16's ``AccountSessionCreateParams``
# (`schema`: unknown components and features, ``enabled`` required, booleans),
# then as Stripe checks them beyond their types: an account that exists, and
# ``disable_stripe_user_authentication`` only where the platform collects
# requirements. The answer has every component stripe knows, as Stripe's does,
# and a ``client_secret`` bound to the account that expires unclaimed after
# ``session_ttl`` seconds and serves one Connect.js instance.

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


@_validated(P.AccountSessionCreateParams)
def _create_account_session(state: _State, request: RecordedRequest) -> Response:
    params = request.form
    acct = str(params["account"])
    account = state.accounts.get(acct)
    if account is None:
        return _no_such_account(acct, 400)
    account = as_v1(account)  # a v2 account, as v1 endpoints see it
    answer: dict[str, dict[str, Any]] = {
        name: {"enabled": False, "features": defaults(account, name)} for name in components()
    }
    for name, spec in params["components"].items():
        answer[name] = _component(account, name, spec)
        if answer[name]["features"].get("disable_stripe_user_authentication") and (
            _requirements_by_stripe(account)
        ):
            return api_error(
                400,
                "`disable_stripe_user_authentication` can only be true for accounts where "
                "`controller.requirement_collection` is `application`.",
                param=f"components[{name}][features][disable_stripe_user_authentication]",
            )
    now = time.time()
    grant = _SessionGrant(
        account_id=acct,
        client_secret="accs_secret__" + objects._random_id("", 48),
        components=answer,
        created=now,
        expires_at=now + state.session_ttl,
    )
    state.sessions[grant.client_secret] = grant
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


_ACCT = r"(?P<acct>[^/]+)"  # ids unlike Stripe's get its "no access" answer too

ROUTES: _Routes = [
    ("POST", re.compile(r"/v1/accounts"), create_account),
    ("GET", re.compile(r"/v1/accounts"), _list_accounts),
    ("GET", re.compile(rf"/v1/accounts/{_ACCT}"), retrieve_account),
    ("POST", re.compile(rf"/v1/accounts/{_ACCT}/login_links"), _create_login_link),
    ("POST", re.compile(r"/v1/account_links"), _create_account_link),
    ("POST", re.compile(r"/v1/account_sessions"), _create_account_session),
    ("GET", re.compile(r"/v1/events/(?P<event_id>evt_\w+)"), _retrieve_event),
]
