"""Connect OAuth endpoints and the hosted pages a person clicks through.

``/oauth/token`` and ``/oauth/deauthorize`` answer with OAuth error bodies
(``{"error": "invalid_grant", "error_description": ...}``), which the ``stripe``
library maps to ``stripe.oauth_error`` classes; the HTML pages stand in for
Stripe's onboarding, so a browser or a test can complete the flow offline.
"""

from __future__ import annotations

import re
import time
from html import escape
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from . import objects
from .hosted import _bad_outcome, _error_page, _finish_checkbox, _layout, _outcome, rows
from .server import Response, _as_list, _bearer_key, _decode_query, _Routes
from .state import RecordedRequest, _State

_DEFAULT_CAPABILITIES = ["card_payments", "transfers"]


def _with_query(url: str, params: dict[str, str]) -> str:
    """``url`` with ``params`` appended to whatever query it already has."""
    parts = urlsplit(url)
    query = parse_qsl(parts.query, keep_blank_values=True) + list(params.items())
    return urlunsplit(parts._replace(query=urlencode(query)))


def _oauth_error(status: int, code: str, description: str) -> Response:
    return Response.json(status, objects.oauth_error(code, description))


def _check_key(state: _State, request: RecordedRequest) -> Response | None:
    key = _bearer_key(request) or request.form.get("client_secret")
    if not key:
        return _oauth_error(
            401,
            "invalid_client",
            "No authentication credentials were provided. "
            "Send your secret API key in the Authorization header using the "
            "Bearer authentication method",
        )
    if key != state.secret_key:
        masked = objects._mask_key(key)
        return _oauth_error(401, "invalid_client", f"Invalid API Key provided: {masked}")
    return None


def token(state: _State, request: RecordedRequest) -> Response:
    failed = _check_key(state, request)
    if failed:
        return failed
    params = request.form
    grant_type = params.get("grant_type")
    if not grant_type:
        return _oauth_error(400, "invalid_request", "No grant type specified")
    if grant_type == "authorization_code":
        code = params.get("code")
        if not code:
            return _oauth_error(400, "invalid_request", "No authorization code provided")
        grant = state.codes.get(str(code))
        if grant is None:
            return _oauth_error(400, "invalid_grant", f"Invalid authorization code: {code}")
        if grant.used:
            return _oauth_error(400, "invalid_grant", f"Authorization code already used: {code}")
        if time.time() - grant.created > state.code_ttl:
            return _oauth_error(400, "invalid_grant", f"Authorization code expired: {code}")
        grant.used = True
        acct_id = grant.account_id
    elif grant_type == "refresh_token":
        refresh = params.get("refresh_token")
        if not refresh:
            return _oauth_error(400, "invalid_request", "No refresh token provided")
        if str(refresh) not in state.refresh_tokens:
            return _oauth_error(400, "invalid_grant", f"Invalid refresh token: {refresh}")
        acct_id = state.refresh_tokens[str(refresh)]
    else:
        return _oauth_error(400, "unsupported_grant_type", f"Unsupported grant type: {grant_type}")
    account = state.accounts.get(acct_id)
    if account is None or acct_id in state.deauthorized:
        return _oauth_error(400, "invalid_grant", f"The account {acct_id} is no longer connected")
    asserted = _as_list(params.get("assert_capabilities"))
    missing = [c for c in asserted if c not in account["capabilities"]]
    if missing:
        # The wording of Stripe's Express OAuth guide.
        return _oauth_error(
            400, "invalid_request", f"assert_capabilities expects capability: {missing[0]}"
        )
    refresh_token = objects._random_id("rt_", 48)
    state.refresh_tokens[refresh_token] = acct_id
    return Response.json(
        200,
        {
            "access_token": objects._random_id("sk_test_", 48),
            "livemode": False,
            "refresh_token": refresh_token,
            "scope": "express" if account["type"] == "express" else "read_write",
            "stripe_publishable_key": objects._random_id("pk_test_", 48),
            "stripe_user_id": acct_id,
            "token_type": "bearer",
        },
    )


def deauthorize(state: _State, request: RecordedRequest) -> Response:
    failed = _check_key(state, request)
    if failed:
        return failed
    client_id, acct_id = request.form.get("client_id"), request.form.get("stripe_user_id")
    if not client_id:
        return _oauth_error(400, "invalid_request", "No client_id provided")
    if client_id != state.client_id:
        return _oauth_error(401, "invalid_client", f"No such application: '{client_id}'")
    if not acct_id:
        return _oauth_error(400, "invalid_request", "No stripe_user_id provided")
    if acct_id not in state.accounts or acct_id in state.deauthorized:
        return _oauth_error(
            401,
            "invalid_client",
            f"This application is not connected to "
            f"stripe account {acct_id}, or that account does not exist.",
        )
    state.deauthorized.add(str(acct_id))
    return Response.json(200, {"stripe_user_id": acct_id})


def _authorize_problem(state: _State, params: dict[str, Any]) -> Response | None:
    client_id = params.get("client_id")
    if client_id != state.client_id:
        return Response.html(
            400,
            _error_page(
                "Invalid client_id", f"Invalid client_id: {client_id!r}. No application matches it."
            ),
        )
    if params.get("response_type", "code") != "code":
        return Response.html(
            400, _error_page("Invalid response_type", "response_type must be 'code'.")
        )
    if not params.get("redirect_uri"):
        return Response.html(
            400,
            _error_page(
                "Missing redirect_uri", "No redirect_uri given and the fake has no default."
            ),
        )
    return None


def _authorize_page(state: _State, request: RecordedRequest) -> Response:
    params = request.query
    problem = _authorize_problem(state, params)
    if problem:
        return problem
    query = urlencode(request.pairs)  # carried through the form, re-checked on submit
    page = _oauth_page(request.path, query, str(params["client_id"]), params)
    return Response.html(200, page)


def _authorize_submit(state: _State, request: RecordedRequest) -> Response:
    params = _decode_query(str(request.form.get("query", "")))
    problem = _authorize_problem(state, params)
    if problem:
        return problem
    redirect_uri, oauth_state = str(params["redirect_uri"]), params.get("state")
    extra = {"state": str(oauth_state)} if oauth_state is not None else {}
    if request.form.get("action") == "decline":
        return Response.redirect(
            _with_query(
                redirect_uri,
                {
                    "error": "access_denied",
                    "error_description": "The user denied your request",
                    **extra,
                },
            )
        )
    outcome = _outcome(request)
    if outcome is None:
        return _bad_outcome()
    stripe_user = params.get("stripe_user") if isinstance(params.get("stripe_user"), dict) else {}
    account = _account_from_prefill(state, stripe_user or {}, params)
    finish = request.form.get("finish") == "on"
    if finish:
        state.finish_onboarding(account["id"], outcome)
    state.authorization_log.append(
        {
            "client_id": params["client_id"],
            "redirect_uri": redirect_uri,
            "state": oauth_state,
            "stripe_user": stripe_user,
            "account": account["id"],
            "finished": finish,
            "suggested_capabilities": _as_list(params.get("suggested_capabilities")),
        }
    )
    code = state.new_code(account["id"])
    return Response.redirect(_with_query(redirect_uri, {"code": code, **extra}))


def _account_from_prefill(
    state: _State, user: dict[str, Any], params: dict[str, Any]
) -> dict[str, Any]:
    capabilities = _as_list(params.get("suggested_capabilities")) or _DEFAULT_CAPABILITIES
    profile = {
        key: user[field]
        for field, key in (
            ("url", "url"),
            ("business_name", "name"),
            ("product_description", "product_description"),
            ("phone_number", "support_phone"),
        )
        if user.get(field)
    }
    fields: dict[str, Any] = {
        "email": user.get("email"),
        "country": user.get("country") or "US",
        "business_type": user.get("business_type"),
        "capabilities": dict.fromkeys(capabilities, "inactive"),
        "business_profile": profile,
    }
    # `stripe_user[currency]` and the address fields are Standard only: Express
    # ignores them, as it ignores any field with an invalid value.
    return state.create_account(**fields)


def _oauth_page(action: str, query: str, client_id: str, params: dict[str, Any]) -> str:
    """The Express OAuth page: shows what the platform sent, then agree or decline."""
    stripe_user = params.get("stripe_user")
    if not isinstance(stripe_user, dict):
        stripe_user = {}
    capabilities = params.get("suggested_capabilities") or []
    if not isinstance(capabilities, list):
        capabilities = [capabilities]
    items: list[tuple[str, Any]] = [
        ("client_id", client_id),
        ("redirect_uri", params.get("redirect_uri", "")),
        ("state", params.get("state", "")),
        ("business type", stripe_user.get("business_type", "")),
        ("suggested capabilities", ", ".join(map(str, capabilities))),
    ]
    items += [(f"stripe_user[{k}]", v) for k, v in sorted(stripe_user.items())]
    body = (
        "<p>A platform asks to create a Stripe Express account for you.</p>"
        + rows(items)
        + f'<form method="post" action="{escape(action)}">'
        + f'<input type="hidden" name="query" value="{escape(query)}">'
        + _finish_checkbox()
        + '<button class="primary" type="submit" name="action" value="agree" id="submit">'
        "Agree and submit</button>"
        '<button type="submit" name="action" value="decline" id="decline">Decline</button>'
        "</form>"
    )
    return _layout("Fake Stripe \u2013 Express onboarding", body)


_HOSTED = r"/express/oauth/authorize"  # `authorize_url(..., {"express": True})`
ROUTES: _Routes = [
    ("GET", re.compile(_HOSTED), _authorize_page),
    ("POST", re.compile(_HOSTED), _authorize_submit),
    ("POST", re.compile(r"/oauth/token"), token),
    ("POST", re.compile(r"/oauth/deauthorize"), deauthorize),
]
