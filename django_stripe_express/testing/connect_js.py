"""The stand-in Connect.js: the script, and the component frames it draws.

``GET /connect-js/v1.0/connect.js`` serves ``assets/connect.js`` (point
``CONNECT_JS_URL`` at it). Its components load ``/connect-js/v1.0/frame/<name>``
in iframes, hand them the client secret, and get the component drawn from the
fake's state, after the checks Stripe makes: the publishable key, a known and
unexpired secret, claimed by one Connect.js instance, for the account that
instance shows, with the component enabled. The onboarding component lets a
browser finish (or leave) onboarding; balances and payouts show what
``fake.set_balance`` and ``fake.add_payout`` stored.
"""

from __future__ import annotations

import datetime
import re
from html import escape
from pathlib import Path
from typing import Any

from . import connect_js_pages as pages
from . import objects
from .embedded_state import SessionGrant
from .objects_v2 import as_v1
from .pages import rows
from .params import as_bool
from .state import FakeState
from .wire import Request, Response, Route

SCRIPT_PATH = "/connect-js/v1.0/connect.js"
_ASSET = Path(__file__).with_name("assets") / "connect.js"


def script(state: FakeState, request: Request) -> Response:
    return Response(200, _ASSET.read_text(), {"Content-Type": "text/javascript; charset=utf-8"})


def frame(state: FakeState, request: Request, component: str) -> Response:
    return Response.html(200, pages.shell(component))


def _session(
    state: FakeState, form: dict[str, Any], component: str
) -> SessionGrant | Response:
    """The claimed session for this frame, or the page that refuses it."""
    target = str(form.get("origin") or "*")
    key = str(form.get("publishable_key") or "")
    if key != state.embedded.publishable_key:
        return Response.html(200, pages.load_error(
            "authentication_error", f"Invalid API Key provided: {objects.mask_key(key)}", target))
    grant = state.embedded.sessions.get(str(form.get("client_secret") or ""))
    if grant is None:
        return Response.html(200, pages.load_error(
            "invalid_request_error", "Invalid client secret: no such account session.", target))
    instance = str(form.get("instance") or "")
    if not grant.instance:
        if grant.expired:
            return Response.html(200, pages.expired(target))
        grant.instance = instance
    elif grant.instance != instance:
        return Response.html(200, pages.load_error(
            "invalid_request_error",
            "This client secret was already used by another Connect.js instance.", target))
    shown = str(form.get("account") or "")
    if shown and shown != grant.account_id:
        return Response.html(200, pages.load_error(
            "invalid_request_error",
            "The client secret is for another account than the one this Connect.js "
            "instance shows.", target))
    if not grant.enabled(component):
        return Response.html(200, pages.load_error(
            "invalid_request_error",
            f"The {component} component is not enabled in this account session.", target))
    if grant.account_id not in state.accounts:
        return Response.html(200, pages.load_error(
            "invalid_request_error", f"No such account: '{grant.account_id}'", target))
    return grant


def draw(state: FakeState, request: Request, component: str) -> Response:
    grant = _session(state, request.form, component)
    if isinstance(grant, Response):
        return grant
    account = as_v1(state.accounts[grant.account_id])  # a v2 account, as v1 shows it
    target = str(request.form.get("origin") or "*")
    appearance = str(request.form.get("appearance") or "")
    body, extra = _body(state, grant, component, account, request.form)
    return Response.html(200, pages.panel(
        component, body, account_id=grant.account_id, target=target, appearance=appearance,
        extra=extra,
    ))


def submit_onboarding(state: FakeState, request: Request) -> Response:
    """The onboarding form: finish onboarding (or leave it), then exit."""
    grant = _session(state, request.form, "account_onboarding")
    if isinstance(grant, Response):
        return grant
    if request.form.get("action") == "agree" and as_bool(request.form.get("finish")):
        state.complete_onboarding(grant.account_id)
    target = str(request.form.get("origin") or "*")
    return Response.html(200, pages.exited(target, str(request.form.get("appearance") or "")))


# -- what each component shows --------------------------------------------------------


def _requirements(account: dict[str, Any]) -> tuple[list[str], list[str]]:
    reqs = account.get("requirements") or {}
    return list(reqs.get("currently_due") or []), list(reqs.get("past_due") or [])


def _hidden(form: dict[str, Any]) -> str:
    return "".join(
        f'<input type="hidden" name="{name}" value="{escape(str(form.get(name) or ""))}">'
        for name in ("client_secret", "publishable_key", "instance", "account", "appearance",
                     "origin")
    )


def _onboarding(account: dict[str, Any], form: dict[str, Any]) -> tuple[str, str]:
    due, _past = _requirements(account)
    body = (
        "<h2>Set up your Stripe account</h2>"
        + rows([
            ("account", account["id"]),
            ("email", account.get("email") or ""),
            ("country", account.get("country") or ""),
            ("currently due", ", ".join(due) or "nothing"),
        ])
        + '<form method="post" action="/connect-js/v1.0/frame/account_onboarding/submit">'
        + _hidden(form)
        + '<label><input type="checkbox" name="finish" value="on" checked> '
        "Finish onboarding now (unchecked: the account keeps details due)</label>"
        '<button class="primary" type="submit" name="action" value="agree">'
        "Agree and submit</button>"
        '<button type="submit" name="action" value="later">Save and return later</button>'
        "</form>"
    )
    return body, pages.post_message({"type": "step", "step": "summary"})


def _balance(state: FakeState, account: dict[str, Any]) -> dict[str, Any]:
    stored = state.embedded.balances.get(account["id"], {})
    currency = stored.get("currency") or account.get("default_currency") or "usd"
    return {"available": int(stored.get("available", 0)), "pending": int(stored.get("pending", 0)),
            "currency": currency}


def _balance_html(state: FakeState, account: dict[str, Any]) -> str:
    balance = _balance(state, account)
    return (
        '<div class="row">'
        f'<div><h3>Available</h3><div class="amount" data-balance="available">'
        f'{pages.money(balance["available"], balance["currency"])}</div></div>'
        f'<div><h3>Pending</h3><div class="amount" data-balance="pending">'
        f'{pages.money(balance["pending"], balance["currency"])}</div></div></div>'
    )


def _features_html(grant: SessionGrant, component: str) -> str:
    def button(feature: str, label: str) -> str:
        on = grant.feature(component, feature)
        return (f'<button type="button" data-feature="{feature}"{"" if on else " disabled"}>'
                f'{label}{"" if on else " (not enabled)"}</button>')

    return (button("standard_payouts", "Pay out") + button("instant_payouts", "Instant payout")
            + button("edit_payout_schedule", "Edit schedule"))


def _schedule(account: dict[str, Any]) -> str:
    schedule = ((account.get("settings") or {}).get("payouts") or {}).get("schedule") or {}
    interval = schedule.get("interval") or "daily"
    delay = schedule.get("delay_days")
    return f"{interval}" + (f", {delay} days after payment" if delay is not None else "")


def _payouts_table(state: FakeState, account: dict[str, Any]) -> str:
    payouts = state.embedded.payouts.get(account["id"], [])
    if not payouts:
        return '<p class="muted">No payouts yet.</p>'
    lines = "".join(
        f"<tr><td>{datetime.date.fromtimestamp(p['arrival_date']).isoformat()}</td>"
        f"<td>{pages.money(p['amount'], p['currency'])}</td><td>{escape(p['status'])}</td>"
        f"<td>{escape(p['method'])}</td></tr>"
        for p in payouts
    )
    return ("<table><thead><tr><th>Arrives</th><th>Amount</th><th>Status</th><th>Method</th>"
            f"</tr></thead><tbody>{lines}</tbody></table>")


def _account_management(account: dict[str, Any]) -> str:
    banks = [
        f"{b.get('bank_name') or 'Bank'} ···· {b.get('last4', '')}"
        for b in (account.get("external_accounts") or {}).get("data") or []
    ]
    profile = account.get("business_profile") or {}
    return "<h2>Account details</h2>" + rows([
        ("account", account["id"]),
        ("business type", account.get("business_type") or "not set"),
        ("email", account.get("email") or ""),
        ("country", account.get("country") or ""),
        ("default currency", (account.get("default_currency") or "").upper()),
        ("business name", profile.get("name") or ""),
        ("payout account", ", ".join(banks) or "none yet"),
    ]) + '<button type="button" disabled>Edit (fake Stripe)</button>'


def _body(
    state: FakeState, grant: SessionGrant, component: str, account: dict[str, Any],
    form: dict[str, Any],
) -> tuple[str, str]:
    """The component's HTML and any extra script it runs."""
    if component == "account_onboarding":
        return _onboarding(account, form)
    if component == "notification_banner":
        due, past = _requirements(account)
        count = {"type": "notifications", "total": len(due), "actionRequired": len(due + past)}
        if not due and not past:
            return "", pages.post_message(count)
        items = "".join(f"<li>{escape(name)}</li>" for name in dict.fromkeys(past + due))
        return (
            '<h2 class="banner">Action required</h2>'
            f"<p>Stripe needs {len(due) or len(past)} more detail(s) to keep your payouts "
            f"going:</p><ul>{items}</ul>",
            pages.post_message(count),
        )
    if component == "balances":
        return "<h2>Balances</h2>" + _balance_html(state, account) + _features_html(
            grant, component), ""
    if component == "payouts":
        return (
            "<h2>Payouts</h2>" + _balance_html(state, account) + _features_html(grant, component)
            + f"<h3>Schedule</h3><p>{escape(_schedule(account))}</p>"
            + "<h3>Recent payouts</h3>" + _payouts_table(state, account), ""
        )
    if component == "payouts_list":
        return "<h2>Payouts</h2>" + _payouts_table(state, account), ""
    if component == "account_management":
        return _account_management(account), ""
    if component == "documents":
        return ("<h2>Documents</h2><p class=\"muted\">No documents yet: tax forms appear "
                "here once Stripe issues them.</p>"), ""
    return f'<p class="muted">The fake Stripe does not draw {escape(component)}.</p>', ""


ROUTES: list[tuple[str, re.Pattern[str], Route]] = [
    ("GET", re.compile(re.escape(SCRIPT_PATH)), script),
    ("POST", re.compile(r"/connect-js/v1\.0/frame/account_onboarding/submit"), submit_onboarding),
    ("GET", re.compile(r"/connect-js/v1\.0/frame/(?P<component>[a-z_]+)"), frame),
    ("POST", re.compile(r"/connect-js/v1\.0/frame/(?P<component>[a-z_]+)"), draw),
]
