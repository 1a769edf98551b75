"""The ``/v1`` endpoints the app uses: accounts, account links, login links, events.

Validation follows Stripe's answers closely enough that the app's error handling
is exercised for real: unknown parameters, missing required ones, accounts the
platform cannot reach (403 ``account_invalid``).
"""

from __future__ import annotations

import copy
import re
from typing import Any

import stripe.params as P

from ..accounts.v1 import NAMES as CAPABILITY_NAMES
from . import objects
from .oauth import bearer_key
from .objects_v2 import as_v1
from .params import as_bool, is_url
from .schema import validated
from .state import FakeState
from .wire import Request, Response, Route

_BUSINESS_TYPES = {"individual", "company", "non_profit", "government_entity"}


def error(
    status: int,
    message: str,
    *,
    code: str | None = None,
    param: str | None = None,
    type_: str = "invalid_request_error",
) -> Response:
    return Response.json(status, objects.api_error(message, type_=type_, code=code, param=param))


def missing(param: str) -> Response:
    return error(400, f"Missing required param: {param}.", code="parameter_missing", param=param)


def no_such_account(acct_id: str, status: int = 404, param: str = "account") -> Response:
    return error(status, f"No such account: '{acct_id}'", code="resource_missing", param=param)


def no_access(state: FakeState, request: Request, acct_id: str) -> Response:
    """Stripe's answer for an account the platform cannot reach: revoked, deleted, unknown.

    403 ``account_invalid`` (`stripe.PermissionError`), the same for all three
    so that account ids cannot be probed.
    """
    key = objects.mask_key(bearer_key(request) or "")
    return error(
        403,
        f"The provided key '{key}' does not have access to account '{acct_id}' (or that "
        "account does not exist). Application access may have been revoked.",
        code="account_invalid",
    )


def reachable(state: FakeState, request: Request, acct_id: str) -> dict[str, Any] | Response:
    """The stored account, or `no_access` when the platform cannot reach it."""
    account = state.accounts.get(acct_id)
    if account is None or acct_id in state.deauthorized:
        return no_access(state, request, acct_id)
    return account


def _type_from(params: dict[str, Any]) -> str | None:
    if "type" in params:
        return str(params["type"])
    dashboard = (params.get("controller") or {}).get("stripe_dashboard") or {}
    return {"express": "express", "full": "standard", "none": "custom"}.get(
        str(dashboard.get("type")), "standard"
    )


def _apply(account: dict[str, Any], params: dict[str, Any]) -> Response | None:
    """Apply create/update params shared by both endpoints to ``account``."""

    if "business_type" in params:
        # An open enum in stripe's params types, a closed one at Stripe.
        if params["business_type"] not in _BUSINESS_TYPES:
            return error(
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
        if objects.normalize_capabilities({name: spec}):
            account["capabilities"].setdefault(name, "inactive")
        else:
            account["capabilities"].pop(name, None)
    for key in ("business_profile", "settings", "tos_acceptance"):
        if isinstance(params.get(key), dict):
            objects.deep_merge(account[key], params[key])
    if account["tos_acceptance"].get("date") and account["tos_acceptance"].get("ip"):
        _satisfy(account, ["tos_acceptance.date", "tos_acceptance.ip"])
    if "default_currency" in params:
        account["default_currency"] = str(params["default_currency"]).lower()
    return None


def _satisfy(account: dict[str, Any], fields: list[str]) -> None:
    for key in ("currently_due", "eventually_due", "past_due"):
        account["requirements"][key] = [f for f in account["requirements"][key] if f not in fields]


@validated(P.AccountCreateParams)
def create_account(state: FakeState, request: Request) -> Response:
    params = request.form
    account_type = _type_from(params)
    if account_type not in {"standard", "express", "custom"}:
        return error(400, "Invalid type: must be one of standard, express, or custom", param="type")
    country = str(params.get("country") or "US")
    if not re.fullmatch(r"[A-Za-z]{2}", country):
        return error(
            400,
            f"Country '{country}' is unknown. Try using a 2-character "
            "alphanumeric country code instead, such as 'US', 'EG', or 'GB'.",
            param="country",
        )
    account = objects.build_account(account_type=account_type, country=country)
    failed = _apply(account, params)
    if failed:
        return failed
    if not account["capabilities"] and account_type == "express":
        account["capabilities"] = {"transfers": "inactive"}
    state.accounts[account["id"]] = account
    return Response.json(200, copy.deepcopy(account))


@validated(P.AccountRetrieveParams)
def retrieve_account(state: FakeState, request: Request, acct: str) -> Response:
    account = reachable(state, request, acct)
    if isinstance(account, Response):
        return account
    return Response.json(200, copy.deepcopy(as_v1(account)))  # a v2 account, in v1 shape


@validated(P.AccountUpdateParams)
def update_account(state: FakeState, request: Request, acct: str) -> Response:
    account = reachable(state, request, acct)
    if isinstance(account, Response):
        return account
    account = as_v1(account)  # a v2 account changes through /v2: a v1 update is not kept
    return _apply(account, request.form) or Response.json(200, copy.deepcopy(account))


@validated(P.AccountDeleteParams)
def delete_account(state: FakeState, request: Request, acct: str) -> Response:
    account = reachable(state, request, acct)
    if isinstance(account, Response):
        return account
    del state.accounts[acct]
    return Response.json(200, {"deleted": True, "id": acct, "object": "account"})


def _limit(value: Any) -> int | Response:
    if value is None:
        return 10
    try:
        limit = int(value)
    except ValueError:
        return error(400, f"Invalid integer: {value}", param="limit")
    if not 1 <= limit <= 100:
        bound = "greater than or equal to 1" if limit < 1 else "less than or equal to 100"
        return error(400, f"This value must be {bound} (it currently is '{limit}').", param="limit")
    return limit


@validated(P.AccountListParams)
def list_accounts(state: FakeState, request: Request) -> Response:
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
            return no_such_account(str(after), 400, "starting_after")
        start = ids.index(after) + 1
        page = ordered[start : start + limit]
        has_more = start + limit < len(ordered)
    elif before:
        if before not in ids:
            return no_such_account(str(before), 400, "ending_before")
        end = ids.index(before)
        page = ordered[max(0, end - limit) : end]
        has_more = end - limit > 0
    else:
        page, has_more = ordered[:limit], len(ordered) > limit
    return Response.json(200, objects.list_object(copy.deepcopy(page), "/v1/accounts", has_more))


@validated(P.AccountCapabilityListParams)
def list_capabilities(state: FakeState, request: Request, acct: str) -> Response:
    account = reachable(state, request, acct)
    if isinstance(account, Response):
        return account
    account = as_v1(account)
    data = [objects.capability(account, name) for name in sorted(account["capabilities"])]
    return Response.json(200, objects.list_object(data, f"/v1/accounts/{acct}/capabilities", False))


@validated(P.AccountCapabilityRetrieveParams)
def retrieve_capability(state: FakeState, request: Request, acct: str, name: str) -> Response:
    account = reachable(state, request, acct)
    if isinstance(account, Response):
        return account
    if name not in CAPABILITY_NAMES:
        return no_such_capability(name)
    return Response.json(200, objects.capability(as_v1(account), name))


@validated(P.AccountCapabilityUpdateParams)
def update_capability(state: FakeState, request: Request, acct: str, name: str) -> Response:
    account = reachable(state, request, acct)
    if isinstance(account, Response):
        return account
    if name not in CAPABILITY_NAMES:
        return no_such_capability(name)
    account = as_v1(account)  # a v2 account's capabilities change through /v2
    if "requested" in request.form:
        if as_bool(request.form["requested"]):
            account["capabilities"].setdefault(name, "inactive")
        else:
            account["capabilities"].pop(name, None)
    return Response.json(200, objects.capability(account, name))


def no_such_capability(name: str) -> Response:
    return error(404, f"No such capability: '{name}'", code="resource_missing", param="capability")


@validated(P.AccountLinkCreateParams)
def create_account_link(state: FakeState, request: Request) -> Response:
    params = request.form
    acct, link_type = str(params["account"]), str(params["type"])
    account = reachable(state, request, acct)
    if isinstance(account, Response):
        return account
    account = as_v1(account)
    if link_type not in {"account_onboarding", "account_update"}:
        return error(
            400, "Invalid type: must be one of account_onboarding or account_update", param="type"
        )
    if link_type == "account_update" and account["type"] != "custom":
        return error(
            400,
            "You cannot create `account_update` type Account Links for "
            f"accounts that use a Stripe-hosted dashboard ({acct}).",
            param="type",
        )
    for required in ("refresh_url", "return_url"):
        if not params.get(required):
            return missing(required)
        if not is_url(params[required]):
            return error(400, "Not a valid URL", code="url_invalid", param=required)
    created = objects.now()
    url, _link = state.new_link(
        acct, link_type, str(params["refresh_url"]), str(params["return_url"])
    )
    return Response.json(200, objects.account_link(url, created, created + int(state.link_ttl)))


@validated(P.AccountLoginLinkCreateParams)
def create_login_link(state: FakeState, request: Request, acct: str) -> Response:
    account = reachable(state, request, acct)
    if isinstance(account, Response):
        return account
    if account.get("closed"):  # a closed v2 account
        return error(400, f"The account {acct} is closed.", code="account_closed")
    account = as_v1(account)  # a v2 account with `dashboard: express` is an Express account
    if account["type"] != "express":
        return error(
            400,
            f"Cannot create a login link for the account {acct}, which is not an Express account.",
        )
    if state.login_links_require_onboarding and not account["details_submitted"]:
        return error(
            400, "Cannot create a login link for an account that has not completed onboarding."
        )
    url, _link = state.new_link(acct, "login")
    return Response.json(200, objects.login_link(url, objects.now()))


@validated(P.EventRetrieveParams)
def retrieve_event(state: FakeState, request: Request, event_id: str) -> Response:
    event = state.events.get(event_id)
    if event is None:
        return error(404, f"No such event: '{event_id}'", code="resource_missing", param="id")
    return Response.json(200, copy.deepcopy(event))


_ACCT = r"(?P<acct>acct_[A-Za-z0-9]+)"

ROUTES: list[tuple[str, re.Pattern[str], Route]] = [
    ("POST", re.compile(r"/v1/accounts"), create_account),
    ("GET", re.compile(r"/v1/accounts"), list_accounts),
    ("GET", re.compile(rf"/v1/accounts/{_ACCT}"), retrieve_account),
    ("POST", re.compile(rf"/v1/accounts/{_ACCT}"), update_account),
    ("DELETE", re.compile(rf"/v1/accounts/{_ACCT}"), delete_account),
    ("POST", re.compile(rf"/v1/accounts/{_ACCT}/login_links"), create_login_link),
    ("GET", re.compile(rf"/v1/accounts/{_ACCT}/capabilities"), list_capabilities),
    ("GET", re.compile(rf"/v1/accounts/{_ACCT}/capabilities/(?P<name>\w+)"), retrieve_capability),
    ("POST", re.compile(rf"/v1/accounts/{_ACCT}/capabilities/(?P<name>\w+)"), update_capability),
    ("POST", re.compile(r"/v1/account_links"), create_account_link),
    ("GET", re.compile(r"/v1/events/(?P<event_id>evt_\w+)"), retrieve_event),
]

# Ids that don't look like Stripe ids still get Stripe's "No such account" answer.
ROUTES += [
    ("GET", re.compile(r"/v1/accounts/(?P<acct>[^/]+)"), retrieve_account),
    ("POST", re.compile(r"/v1/accounts/(?P<acct>[^/]+)"), update_account),
    ("DELETE", re.compile(r"/v1/accounts/(?P<acct>[^/]+)"), delete_account),
    ("POST", re.compile(r"/v1/accounts/(?P<acct>[^/]+)/login_links"), create_login_link),
]
