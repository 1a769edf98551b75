"""Connect OAuth endpoints and the hosted pages a person clicks through.

``/oauth/token`` and ``/oauth/deauthorize`` answer with OAuth error bodies
(``{"error": "invalid_grant", "error_description": ...}``), which the ``stripe``
library maps to ``stripe.oauth_error`` classes; the HTML pages stand in for
Stripe's onboarding, so a browser or a test can complete the flow offline.
"""

from __future__ import annotations

import base64
import re
import time
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from . import objects, pages
from .objects_v2 import as_v1
from .params import as_list, decode_query
from .state import OUTCOMES, FakeState
from .wire import Request, Response, Route

_DEFAULT_CAPABILITIES = ["card_payments", "transfers"]


def with_query(url: str, params: dict[str, str]) -> str:
    """``url`` with ``params`` appended to whatever query it already has."""
    parts = urlsplit(url)
    query = parse_qsl(parts.query, keep_blank_values=True) + list(params.items())
    return urlunsplit(parts._replace(query=urlencode(query)))


def bearer_key(request: Request) -> str | None:
    """The API key from ``Authorization: Bearer`` or Basic auth (``curl -u sk_...:``)."""
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    if scheme.lower() == "basic" and value.strip():
        try:
            return base64.b64decode(value.strip()).decode().partition(":")[0] or None
        except ValueError:
            return None
    return None


def _oauth_error(status: int, code: str, description: str) -> Response:
    return Response.json(status, objects.oauth_error(code, description))


def _check_key(state: FakeState, request: Request) -> Response | None:
    key = bearer_key(request) or request.form.get("client_secret")
    if not key:
        return _oauth_error(
            401,
            "invalid_client",
            "No authentication credentials were provided. "
            "Send your secret API key in the Authorization header using the "
            "Bearer authentication method",
        )
    if key != state.secret_key:
        masked = objects.mask_key(key)
        return _oauth_error(401, "invalid_client", f"Invalid API Key provided: {masked}")
    return None


def token(state: FakeState, request: Request) -> Response:
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
    asserted = as_list(params.get("assert_capabilities"))
    missing = [c for c in asserted if c not in account["capabilities"]]
    if missing:
        # The wording of Stripe's Express OAuth guide.
        return _oauth_error(
            400, "invalid_request", f"assert_capabilities expects capability: {missing[0]}"
        )
    refresh_token = objects.random_id("rt_", 48)
    state.refresh_tokens[refresh_token] = acct_id
    return Response.json(
        200,
        {
            "access_token": objects.random_id("sk_test_", 48),
            "livemode": False,
            "refresh_token": refresh_token,
            "scope": "express" if account["type"] == "express" else "read_write",
            "stripe_publishable_key": objects.random_id("pk_test_", 48),
            "stripe_user_id": acct_id,
            "token_type": "bearer",
        },
    )


def deauthorize(state: FakeState, request: Request) -> Response:
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


def _authorize_problem(state: FakeState, params: dict[str, Any]) -> Response | None:
    client_id = params.get("client_id")
    if client_id != state.client_id:
        return Response.html(
            400,
            pages.error_page(
                "Invalid client_id", f"Invalid client_id: {client_id!r}. No application matches it."
            ),
        )
    if params.get("response_type", "code") != "code":
        return Response.html(
            400, pages.error_page("Invalid response_type", "response_type must be 'code'.")
        )
    if not params.get("redirect_uri"):
        return Response.html(
            400,
            pages.error_page(
                "Missing redirect_uri", "No redirect_uri given and the fake has no default."
            ),
        )
    return None


def authorize_page(state: FakeState, request: Request) -> Response:
    params = request.query
    problem = _authorize_problem(state, params)
    if problem:
        return problem
    query = urlencode(request.pairs)  # carried through the form, re-checked on submit
    page = pages.oauth_page(request.path, query, str(params["client_id"]), params)
    return Response.html(200, page)


def authorize_submit(state: FakeState, request: Request) -> Response:
    params = decode_query(str(request.form.get("query", "")))
    problem = _authorize_problem(state, params)
    if problem:
        return problem
    redirect_uri, oauth_state = str(params["redirect_uri"]), params.get("state")
    extra = {"state": str(oauth_state)} if oauth_state is not None else {}
    if request.form.get("action") == "decline":
        return Response.redirect(
            with_query(
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
    state.authorizations.append(
        {
            "client_id": params["client_id"],
            "redirect_uri": redirect_uri,
            "state": oauth_state,
            "stripe_user": stripe_user,
            "account": account["id"],
            "finished": finish,
            "suggested_capabilities": as_list(params.get("suggested_capabilities")),
        }
    )
    code = state.new_code(account["id"])
    return Response.redirect(with_query(redirect_uri, {"code": code, **extra}))


def _account_from_prefill(
    state: FakeState, user: dict[str, Any], params: dict[str, Any]
) -> dict[str, Any]:
    capabilities = as_list(params.get("suggested_capabilities")) or _DEFAULT_CAPABILITIES
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


def setup_page(state: FakeState, request: Request, acct: str, token: str) -> Response:
    link = state.links.get(token)
    account = state.accounts.get(acct)
    if link is None or link.kind == "login" or link.account_id != acct or account is None:
        return Response.html(404, pages.error_page("Link not found", "This link is invalid."))
    expired = time.time() > link.expires_at
    if request.method == "GET":
        if expired or link.opened:
            return Response.redirect(link.refresh_url)
        link.opened = True
        return Response.html(200, pages.setup_page(request.path, as_v1(account)))
    if expired or link.used:
        return Response.redirect(link.refresh_url)
    outcome = _outcome(request)
    if outcome is None:
        return _bad_outcome()
    link.used = True
    if request.form.get("action", "agree") == "agree" and request.form.get("finish") == "on":
        state.finish_onboarding(acct, outcome)
    return Response.redirect(link.return_url)


def _outcome(request: Request) -> str | None:
    """How the submitted hosted page ends onboarding (`state.OUTCOMES`); None if unknown."""
    outcome = str(request.form.get("outcome") or "enabled")
    return outcome if outcome in OUTCOMES else None


def _bad_outcome() -> Response:
    choices = ", ".join(OUTCOMES)
    return Response.html(
        400, pages.error_page("Unknown outcome", f"outcome must be one of: {choices}.")
    )


def dashboard(state: FakeState, request: Request, acct: str, token: str) -> Response:
    account = state.accounts.get(acct)
    if account is None:
        return Response.html(404, pages.error_page("Not found", f"No such account: {acct}"))
    if token == "dashboard":
        return Response.html(200, pages.dashboard_page(as_v1(account)))
    link = state.links.get(token)
    if link is None or link.kind != "login" or link.account_id != acct:
        return Response.html(404, pages.error_page("Link not found", "This link is invalid."))
    if link.used or time.time() > link.expires_at:
        return Response.html(
            400,
            pages.error_page(
                "Link expired", "This login link has expired. Ask the platform for a new one."
            ),
        )
    link.used = True
    return Response.redirect(f"{state.url}/express/{acct}/dashboard")


_HOSTED = r"/(?:express/)?oauth/authorize"
ROUTES: list[tuple[str, re.Pattern[str], Route]] = [
    ("GET", re.compile(_HOSTED), authorize_page),
    ("POST", re.compile(_HOSTED), authorize_submit),
    ("POST", re.compile(r"/oauth/token"), token),
    ("POST", re.compile(r"/oauth/deauthorize"), deauthorize),
    ("GET", re.compile(r"/setup/e/(?P<acct>acct_\w+)/(?P<token>\w+)"), setup_page),
    ("POST", re.compile(r"/setup/e/(?P<acct>acct_\w+)/(?P<token>\w+)"), setup_page),
    ("GET", re.compile(r"/express/(?P<acct>acct_\w+)/(?P<token>\w+)"), dashboard),
]
