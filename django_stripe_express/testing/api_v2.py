"""The ``/v2`` endpoints the app uses: accounts, account links, events.

Requests carry JSON bodies (``/v1`` takes forms); answers are v2 objects and
errors v2 error bodies. Every body is checked against the ``stripe`` library's
v2 parameter types (`schema.problem`, ``stripe.params.v2.core``): unknown,
missing and mistyped fields at any depth. On top, what the types cannot say
and the app's error handling must meet: values Stripe refuses (countries it
does not serve, responsibilities an Express account cannot have,
capabilities a configuration does not offer), unknown ids.
"""

from __future__ import annotations

import copy
import re
from typing import Any
from urllib.parse import urlencode

import stripe.params.v2.core as P

from . import objects_v2
from .schema import problem
from .server import Response, _is_url, _Routes
from .state import RecordedRequest, _State

_CAPABILITIES = {
    "merchant": {"card_payments"},
    "recipient": {"stripe_balance.stripe_transfers"},
}
_MAX_LIMIT = 100


def error(
    status: int, message: str, *, code: str | None = None, type_: str = "invalid_request_error"
) -> Response:
    return Response.json(status, objects_v2.error(message, type_=type_, code=code))


def _invalid(field: str, message: str) -> Response:
    return error(400, f"{field}: {message}", code="invalid_fields")


def _no_such_account(acct: str, status: int = 404) -> Response:
    return error(status, f"No such account: '{acct}'", code="resource_missing")


def _body(request: RecordedRequest, params_type: type) -> dict[str, Any] | Response:
    """The JSON body, if Stripe would take it for an endpoint taking ``params_type``."""
    if request.json_error:
        return error(400, "The request body is not valid JSON.", code="invalid_json")
    body = request.json_body if request.json_body is not None else {}
    if not isinstance(body, dict):
        return error(400, "The request body must be a JSON object.", code="invalid_json")
    return problem(params_type, body, json=True) or body


def _include(values: Any) -> list[str] | Response:
    if values is None:
        return []
    if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
        return _invalid("include", "must be a list of strings.")
    for value in values:
        if value not in objects_v2.INCLUDABLE:
            return _invalid(
                "include", f"'{value}' is not one of {', '.join(objects_v2.INCLUDABLE)}."
            )
    return list(values)


def _query_include(request: RecordedRequest) -> list[str] | Response:
    # `include[0]=a&include[1]=b` (stripe-python) or `include=a&include=b`.
    values = [v for k, v in request.pairs if k == "include" or k.startswith("include[")]
    return _include(values)


def _check_responsibilities(value: Any, dashboard: str) -> Response | None:
    if not isinstance(value, dict) or set(value) != {"fees_collector", "losses_collector"}:
        return _invalid("defaults.responsibilities", "needs fees_collector and losses_collector.")
    fees, losses = value["fees_collector"], value["losses_collector"]
    if fees not in objects_v2.FEES_COLLECTORS:
        return _invalid("defaults.responsibilities.fees_collector", f"'{fees}' is not allowed.")
    if losses not in objects_v2.LOSSES_COLLECTORS:
        return _invalid("defaults.responsibilities.losses_collector", f"'{losses}' is not allowed.")
    if losses == "application" and fees == "stripe":
        return _invalid(
            "defaults.responsibilities",
            "losses_collector 'application' requires fees_collector 'application'.",
        )
    if dashboard == "express" and fees == "application_custom":
        return _invalid(
            "defaults.responsibilities.fees_collector",
            "'application_custom' is not available for Express dashboard accounts.",
        )
    return None


def _requested(configuration: Any) -> list[tuple[str, str, bool]] | Response:
    """``[(configuration, capability, requested)]`` from a ``configuration`` hash
    (its shape already checked against the library's types)."""
    found = []
    for config_name, config in configuration.items():
        for name, value in objects_v2.walk(config.get("capabilities") or {}, leaf="requested"):
            if name not in _CAPABILITIES.get(config_name, set()):
                return error(
                    400,
                    f"The capability {name} is not available on the {config_name} "
                    "configuration of this account.",
                    type_="capability_not_enabled",
                    code="capability_not_available",
                )
            found.append((config_name, name, bool(value["requested"])))
    return found


def _identity(value: dict[str, Any]) -> dict[str, Any] | Response:
    """Values Stripe refuses that the types allow (the shape is checked already)."""
    if "country" in value:
        country = value["country"]
        if not isinstance(country, str) or not re.fullmatch(r"[A-Za-z]{2}", country):
            return _invalid("identity.country", f"'{country}' is not a two-letter country code.")
        if country.upper() in objects_v2._UNSUPPORTED_COUNTRIES:
            return error(
                400,
                f"Connected accounts are not available in {country.upper()}.",
                code="country_unsupported",
            )
    if "entity_type" in value and value["entity_type"] not in objects_v2._ENTITY_TYPES:
        return _invalid(
            "identity.entity_type", f"must be one of {', '.join(objects_v2._ENTITY_TYPES)}."
        )
    return value


def _metadata(account: dict[str, Any], value: Any) -> Response | None:
    if not isinstance(value, dict):
        return _invalid("metadata", "must be an object.")
    for key, item in value.items():
        if item is None:  # v2 removes a key with null
            account["metadata"].pop(key, None)
        elif isinstance(item, str):
            account["metadata"][key] = item
        else:
            return _invalid(f"metadata.{key}", "must be a string or null.")
    return None


def create_account(state: _State, request: RecordedRequest) -> Response:
    body = _body(request, P.AccountCreateParams)
    if isinstance(body, Response):
        return body
    include = _include(body.get("include"))
    if isinstance(include, Response):
        return include
    dashboard = body.get("dashboard", "full")
    defaults = body.get("defaults") or {}
    responsibilities = defaults.get("responsibilities")
    if responsibilities is not None or dashboard == "express":
        bad = _check_responsibilities(responsibilities, dashboard)
        if bad:
            return bad
    requested = _requested(body.get("configuration") or {})
    if isinstance(requested, Response):
        return requested
    identity = _identity(body.get("identity") or {})
    if isinstance(identity, Response):
        return identity
    configs = {config for config, _name, _on in requested} | set(body.get("configuration") or {})
    if configs & {"merchant", "recipient"} and not body.get("contact_email"):
        return _invalid(
            "contact_email", "is required when configuring the account as a merchant or recipient."
        )
    account = objects_v2.build_account(
        contact_email=body.get("contact_email"),
        display_name=body.get("display_name"),
        country=str(identity.get("country") or "US"),
        entity_type=identity.get("entity_type"),
        responsibilities=responsibilities,
        dashboard=dashboard,
        recipient=("recipient", "stripe_balance.stripe_transfers", True) in requested,
        merchant=("merchant", "card_payments", True) in requested,
        currency=defaults.get("currency"),
    )
    if "metadata" in body:
        bad = _metadata(account, body["metadata"])
        if bad:
            return bad
    state.accounts[account["id"]] = account
    return Response.json(200, objects_v2.answer(account, include))


def _v2_account(state: _State, acct: str) -> dict[str, Any] | None:
    account = state.accounts.get(acct)
    return (
        account if account is not None and account.get("object") == objects_v2.V2_OBJECT else None
    )


def retrieve_account(state: _State, request: RecordedRequest, acct: str) -> Response:
    account = _v2_account(state, acct)
    if account is None:
        return _no_such_account(acct)
    include = _query_include(request)
    if isinstance(include, Response):
        return include
    return Response.json(200, objects_v2.answer(account, include))


def update_account(state: _State, request: RecordedRequest, acct: str) -> Response:
    account = _v2_account(state, acct)
    if account is None:
        return _no_such_account(acct)
    body = _body(request, P.AccountUpdateParams)
    if isinstance(body, Response):
        return body
    include = _include(body.get("include"))
    if isinstance(include, Response):
        return include
    if "identity" in body:
        identity = _identity(body["identity"])
        if isinstance(identity, Response):
            return identity
        for key in ("country", "entity_type"):
            if key in identity:
                account["identity"][key] = (
                    identity[key].upper() if key == "country" else identity[key]
                )
    if "configuration" in body:
        requested = _requested(body["configuration"])
        if isinstance(requested, Response):
            return requested
        for config_name, name, on in requested:
            if on and objects_v2._capability_of(account, config_name, name) is None:
                objects_v2.set_capability(
                    account,
                    config_name,
                    name,
                    objects_v2.capability("restricted", [objects_v2.PAST_DUE]),
                )
    for key in ("contact_email", "contact_phone", "display_name"):
        if key in body:
            account[key] = body[key]
    if "metadata" in body:
        bad = _metadata(account, body["metadata"])
        if bad:
            return bad
    return Response.json(200, objects_v2.answer(account, include))


def close_account(state: _State, request: RecordedRequest, acct: str) -> Response:
    account = _v2_account(state, acct)
    if account is None:
        return _no_such_account(acct)
    body = _body(request, P.AccountCloseParams)
    if isinstance(body, Response):
        return body
    wanted = body.get("applied_configurations")
    if wanted is not None and sorted(wanted) != sorted(account["applied_configurations"]):
        return _invalid(
            "applied_configurations", "must list every configuration of the account to close it."
        )
    account["closed"] = True
    return Response.json(200, objects_v2.answer(account, []))


def _limit(value: Any) -> int | Response:
    if value is None:
        return 10
    try:
        limit = int(value)
    except (TypeError, ValueError):
        return _invalid("limit", f"'{value}' is not an integer.")
    if not 1 <= limit <= _MAX_LIMIT:
        return _invalid("limit", f"must be between 1 and {_MAX_LIMIT}.")
    return limit


def _list_accounts(state: _State, request: RecordedRequest) -> Response:
    query = request.query
    limit = _limit(query.get("limit"))
    if isinstance(limit, Response):
        return limit
    closed = str(query.get("closed", "false")).lower() == "true"
    accounts = [
        a
        for a in state.accounts.values()
        if a.get("object") == objects_v2.V2_OBJECT and bool(a["closed"]) == closed
    ]
    # Newest first, as Stripe lists.
    accounts = sorted(accounts, key=lambda a: a["created"], reverse=True)
    page = str(query.get("page") or "")
    start = 0
    if page:
        match = re.fullmatch(r"page_(\d+)", page)
        if match is None:
            return _invalid("page", "is not a page token from this list.")
        start = int(match.group(1))
    data = [objects_v2.answer(a, []) for a in accounts[start : start + limit]]

    def url(offset: int) -> str:
        params = {"limit": limit, "page": f"page_{offset}"}
        if closed:
            params["closed"] = "true"
        return f"/v2/core/accounts?{urlencode(params)}"

    next_url = url(start + limit) if start + limit < len(accounts) else None
    previous_url = url(max(0, start - limit)) if start else None
    return Response.json(200, objects_v2._list_page(data, next_url, previous_url))


#: The API version that removed ``use_case.*.configurations`` from Account
#: Links (changelog, 2026-09-30.endive): before it, the parameter is required
#: (stripe 15.6's ``AccountLinkCreateParamsUseCaseAccountOnboarding``).
_ENDIVE_LINKS = "2026-09-30"
_LINK_CONFIGURATIONS = ("customer", "merchant", "recipient")


def _older_link_configurations(
    request: RecordedRequest, body: dict[str, Any]
) -> dict[str, Any] | Response:
    """The body without ``configurations``, once the request's ``Stripe-Version``
    says whether it must be there (before endive) or must not (the types, after)."""
    version = request.header("Stripe-Version")
    if not version or version[:10] >= _ENDIVE_LINKS:
        return body  # stripe 16's types refuse the parameter: an unknown field
    body = copy.deepcopy(body)
    use_case = body.get("use_case")
    if not isinstance(use_case, dict):
        return body
    for kind in ("account_onboarding", "account_update"):
        options = use_case.get(kind)
        if not isinstance(options, dict):
            continue
        if "configurations" not in options:
            return _invalid(
                f"use_case.{kind}.configurations",
                f"is required (API version {version}).",
            )
        wanted = options.pop("configurations")
        if (
            not isinstance(wanted, list)
            or not wanted
            or any(c not in _LINK_CONFIGURATIONS for c in wanted)
        ):
            return _invalid(
                f"use_case.{kind}.configurations",
                f"must be a non-empty list of {', '.join(_LINK_CONFIGURATIONS)}.",
            )
    return body


def _create_account_link(state: _State, request: RecordedRequest) -> Response:
    raw = request.json_body if isinstance(request.json_body, dict) else None
    if raw is not None and not request.json_error:
        older = _older_link_configurations(request, raw)
        if isinstance(older, Response):
            return older
        request = copy.copy(request)
        request.json_body = older
    body = _body(request, P.AccountLinkCreateParams)
    if isinstance(body, Response):
        return body
    acct, use_case = str(body["account"]), body["use_case"]
    account = _v2_account(state, acct)
    if account is None:
        return _no_such_account(acct, 400)
    if account["closed"]:
        return error(400, f"The account {acct} is closed.", code="account_closed")
    kind = use_case["type"]
    if kind not in ("account_onboarding", "account_update"):  # the types take any string
        return _invalid("use_case.type", "must be account_onboarding or account_update.")
    if kind == "account_update" and account["dashboard"] in ("express", "full"):
        # Stripe: "You can't create them for accounts that have access to a
        # Stripe-hosted Dashboard."
        return _invalid(
            "use_case.type",
            "account_update links cannot be created for accounts with access to a "
            "Stripe-hosted Dashboard; use account_onboarding.",
        )
    options = use_case.get(kind)
    if not isinstance(options, dict):
        return _invalid(f"use_case.{kind}", "is required for this type.")
    if not _is_url(options.get("refresh_url")):
        return _invalid(f"use_case.{kind}.refresh_url", "must be a valid URL.")
    return_url = options.get("return_url")
    if return_url is not None and not _is_url(return_url):
        return _invalid(f"use_case.{kind}.return_url", "must be a valid URL.")
    refresh_url = str(options["refresh_url"])
    url, link = state.new_link(acct, kind, refresh_url, str(return_url or refresh_url))
    return Response.json(
        200,
        objects_v2.account_link(
            acct, url, kind, refresh_url, return_url, link.created, link.expires_at
        ),
    )


def _retrieve_event(state: _State, request: RecordedRequest, event_id: str) -> Response:
    event = state.thin_events.get(event_id)
    if event is None:
        return error(404, f"No such event: '{event_id}'", code="resource_missing")
    return Response.json(200, copy.deepcopy(event))


_ACCT = r"(?P<acct>[^/]+)"

ROUTES: _Routes = [
    ("POST", re.compile(r"/v2/core/accounts"), create_account),
    ("GET", re.compile(r"/v2/core/accounts"), _list_accounts),
    ("GET", re.compile(rf"/v2/core/accounts/{_ACCT}"), retrieve_account),
    ("POST", re.compile(rf"/v2/core/accounts/{_ACCT}"), update_account),
    ("POST", re.compile(rf"/v2/core/accounts/{_ACCT}/close"), close_account),
    ("POST", re.compile(r"/v2/core/account_links"), _create_account_link),
    ("GET", re.compile(r"/v2/core/events/(?P<event_id>[^/]+)"), _retrieve_event),
]
