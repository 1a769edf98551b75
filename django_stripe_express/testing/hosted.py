"""Stand-ins for Stripe's hosted pages and for Connect.js.

Hosted onboarding (an Account Link's ``/setup/e/...``) and the Express
dashboard (a login link's ``/express/...``): plain forms without JavaScript
or external assets, so a browser or a test's HTTP client can finish the
flow offline by POSTing the same fields. `oauth` draws its authorization
page with the same layout.

The stand-in Connect.js: the script, and the component frames it draws.

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
import json
import re
import time
from html import escape
from pathlib import Path
from typing import Any

from . import objects
from .objects_v2 import V2_OBJECT, as_v1
from .server import Response, _as_bool, _Routes
from .state import _OUTCOMES, RecordedRequest, _SessionGrant, _State

_CSS = """
body{font-family:-apple-system,BlinkMacSystemFont,"Segoe UI",Roboto,sans-serif;
background:#f6f9fc;color:#30313d;margin:0;padding:2rem}
main{max-width:34rem;margin:0 auto;background:#fff;border-radius:8px;padding:2rem;
box-shadow:0 2px 5px rgba(60,66,87,.12),0 1px 1px rgba(0,0,0,.08)}
h1{font-size:1.3rem;margin-top:0}.badge{display:inline-block;background:#ffde92;
color:#5f3400;border-radius:4px;padding:.1rem .4rem;font-size:.75rem;font-weight:600}
dl{display:grid;grid-template-columns:max-content 1fr;gap:.35rem 1rem}
dt{color:#6a7383}dd{margin:0;word-break:break-all}
button{font-size:1rem;padding:.55rem 1.1rem;border-radius:6px;border:1px solid #d5dbe1;
background:#fff;cursor:pointer;margin-right:.5rem}
button.primary{background:#635bff;border-color:#635bff;color:#fff}
.error{color:#df1b41}label{display:block;margin:1rem 0}
select{display:block;max-width:100%;font-size:.95rem;padding:.3rem;margin:-.5rem 0 1.25rem}
"""


def _layout(title: str, body: str) -> str:
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width,initial-scale=1">'
        f"<title>{escape(title)}</title><style>{_CSS}</style></head>"
        f'<body><main><p><span class="badge">TEST MODE · fake Stripe</span></p>'
        f"<h1>{escape(title)}</h1>{body}</main></body></html>"
    )


def rows(items: list[tuple[str, Any]]) -> str:
    """A definition list of ``(label, value)`` pairs, escaped."""
    cells = "".join(f"<dt>{escape(str(k))}</dt><dd>{escape(str(v))}</dd>" for k, v in items)
    return f"<dl>{cells}</dl>"


def _finish_checkbox() -> str:
    options = "".join(
        f'<option value="{escape(value)}">{escape(label)}</option>'
        for value, label in _OUTCOMES.items()
    )
    return (
        '<label><input type="checkbox" name="finish" value="on" id="finish" checked> '
        "Finish onboarding now (unchecked: the account keeps details due)</label>"
        '<label for="outcome">Then Stripe\'s verification ends as</label>'
        f'<select name="outcome" id="outcome">{options}</select>'
    )


def _summary(account: dict[str, Any]) -> str:
    """What onboarding shows about the account, in its own API's field names: a v2
    account's developer reads ``contact_email``, ``identity.country`` and
    ``requirements.entries`` (with their deadlines) there, not v1's names."""
    if account.get("object") != V2_OBJECT:
        return rows([
            ("account", account["id"]),
            ("email", account.get("email") or ""),
            ("country", account.get("country") or ""),
            ("requirements.currently_due",
             ", ".join(account["requirements"]["currently_due"]) or "nothing"),
        ])
    entries = (account.get("requirements") or {}).get("entries") or []
    due = [
        f'{e["description"]} ({e["minimum_deadline"]["status"]}, {e["awaiting_action_from"]})'
        for e in entries
    ]
    return rows([
        ("account (Accounts v2)", account["id"]),
        ("contact_email", account.get("contact_email") or ""),
        ("identity.country", (account.get("identity") or {}).get("country") or ""),
        ("configuration", ", ".join(sorted(account.get("configuration") or {})) or "none"),
        ("requirements.entries", "; ".join(due) or "nothing"),
    ])


def _setup_html(action: str, account: dict[str, Any]) -> str:
    """The Account Link target: finish onboarding or leave for now."""
    body = (
        _summary(account)
        + f'<form method="post" action="{escape(action)}">'
        + _finish_checkbox()
        + '<button class="primary" type="submit" name="action" value="agree" id="submit">'
        "Agree and submit</button>"
        '<button type="submit" name="action" value="later" id="later">'
        "Save and return later</button>"
        "</form>"
    )
    return _layout("Fake Stripe \u2013 Express onboarding", body)


def _dashboard_html(account: dict[str, Any]) -> str:
    """The Express dashboard a login link opens: the account and its status."""
    reqs = account["requirements"]
    body = rows(
        [
            ("account", account["id"]),
            ("email", account.get("email") or ""),
            ("details submitted", account["details_submitted"]),
            ("charges enabled", account["charges_enabled"]),
            ("payouts enabled", account["payouts_enabled"]),
            ("disabled reason", reqs.get("disabled_reason") or ""),
            ("currently due", ", ".join(reqs["currently_due"]) or "nothing"),
            ("capabilities", ", ".join(f"{k}: {v}" for k, v in account["capabilities"].items())),
        ]
    )
    return _layout("Fake Stripe \u2013 Express dashboard", body)


def _error_page(title: str, message: str) -> str:
    return _layout(title, f'<p class="error">{escape(message)}</p>')


# -- hosted onboarding and the Express dashboard ----------------------------------


def _setup_page(state: _State, request: RecordedRequest, acct: str, token: str) -> Response:
    link = state.links.get(token)
    account = state.accounts.get(acct)
    if link is None or link.kind == "login" or link.account_id != acct or account is None:
        return Response.html(404, _error_page("Link not found", "This link is invalid."))
    expired = time.time() > link.expires_at
    if request.method == "GET":
        if expired or link.opened:
            return Response.redirect(link.refresh_url)
        link.opened = True
        return Response.html(200, _setup_html(request.path, account))
    if expired or link.used:
        return Response.redirect(link.refresh_url)
    outcome = _outcome(request)
    if outcome is None:
        return _bad_outcome()
    link.used = True
    if request.form.get("action", "agree") == "agree" and request.form.get("finish") == "on":
        state.finish_onboarding(acct, outcome)
    return Response.redirect(link.return_url)


def _outcome(request: RecordedRequest) -> str | None:
    """How the submitted hosted page ends onboarding (`state._OUTCOMES`); None if unknown."""
    outcome = str(request.form.get("outcome") or "enabled")
    return outcome if outcome in _OUTCOMES else None


def _bad_outcome() -> Response:
    choices = ", ".join(_OUTCOMES)
    return Response.html(
        400, _error_page("Unknown outcome", f"outcome must be one of: {choices}.")
    )


def dashboard(state: _State, request: RecordedRequest, acct: str, token: str) -> Response:
    account = state.accounts.get(acct)
    if account is None:
        return Response.html(404, _error_page("Not found", f"No such account: {acct}"))
    if token == "dashboard":
        return Response.html(200, _dashboard_html(as_v1(account)))
    link = state.links.get(token)
    if link is None or link.kind != "login" or link.account_id != acct:
        return Response.html(404, _error_page("Link not found", "This link is invalid."))
    if link.used or time.time() > link.expires_at:
        return Response.html(
            400,
            _error_page(
                "Link expired", "This login link has expired. Ask the platform for a new one."
            ),
        )
    link.used = True
    return Response.redirect(f"{state.url}/express/{acct}/dashboard")


# -- Connect.js: the frames' HTML ------------------------------------------------


_BASE_CSS = """
:root{--primary:#635bff;--background:#ffffff;--text:#30313d;--secondary:#6a7383;
--radius:8px;--font:-apple-system,BlinkMacSystemFont,"Segoe UI",Roboto,sans-serif}
*{box-sizing:border-box}
body{margin:0;padding:0 2px;font:14px/1.5 var(--font);color:var(--text);background:transparent}
.panel{background:var(--background);border:1px solid #e3e8ee;border-radius:var(--radius);
padding:1rem 1.25rem}
.badge{display:inline-block;background:#ffde92;color:#5f3400;border-radius:4px;
padding:0 .4rem;font-size:.7rem;font-weight:600}
h2{font-size:1rem;margin:.25rem 0 .5rem}h3{font-size:.85rem;margin:.75rem 0 .25rem;
color:var(--secondary);text-transform:uppercase;letter-spacing:.03em}
dl{display:grid;grid-template-columns:max-content 1fr;gap:.2rem 1rem;margin:0}
dt{color:var(--secondary)}dd{margin:0;word-break:break-all}
.amount{font-size:1.4rem;font-weight:600}
.row{display:flex;gap:2rem;flex-wrap:wrap}
table{border-collapse:collapse;width:100%}td,th{text-align:left;padding:.25rem .5rem .25rem 0;
border-bottom:1px solid #ebeef1}th{color:var(--secondary);font-weight:500}
button{font:inherit;padding:.45rem .9rem;border-radius:var(--radius);border:1px solid #d5dbe1;
background:#fff;cursor:pointer;margin:.5rem .5rem 0 0}
button.primary{background:var(--primary);border-color:var(--primary);color:#fff}
button[disabled]{opacity:.55;cursor:not-allowed}
.muted{color:var(--secondary)}.error{color:#df1b41}.banner{border-color:#f5c6a5;background:#fff8f1}
label{display:block;margin:.75rem 0}
"""
# Appearance variables Connect.js documents, and the CSS variable each sets.
_APPEARANCE = {
    "colorPrimary": "--primary",
    "colorBackground": "--background",
    "colorText": "--text",
    "colorSecondaryText": "--secondary",
    "borderRadius": "--radius",
    "fontFamily": "--font",
}
_SAFE_CSS_VALUE = re.compile(r"[#\w\s,.'\"()%-]{1,200}")
_RESIZE = (
    "function size(){parent.postMessage({source:'fake-connect',type:'resize',"
    "height:Math.ceil(document.body.getBoundingClientRect().height)},TARGET)}"
    "addEventListener('load',size);new ResizeObserver(size).observe(document.body);"
)


def _appearance_css(raw: str) -> str:
    """CSS variables from the host's ``appearance`` (JSON); unsafe values are dropped."""
    try:
        appearance = json.loads(raw or "{}")
    except ValueError:
        return ""
    variables = appearance.get("variables") if isinstance(appearance, dict) else None
    if not isinstance(variables, dict):
        return ""
    rules = [
        f"{css}:{value}"
        for name, css in _APPEARANCE.items()
        if isinstance(value := variables.get(name), str) and _SAFE_CSS_VALUE.fullmatch(value)
    ]
    return ":root{" + ";".join(rules) + "}" if rules else ""


def _script_json(value: Any) -> str:
    """JSON that cannot end the ``<script>`` it is in (``</script>``, ``<!--``)."""
    return (
        json.dumps(value).replace("<", "\\u003c").replace(">", "\\u003e")
        .replace("&", "\\u0026").replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")
    )


#: A postMessage target: an origin (scheme, host, port) or "*".
_ORIGIN = re.compile(r"https?://[A-Za-z0-9.\-]+(?::[0-9]{1,5})?|https?://\[[0-9A-Fa-f:.]+\](?::[0-9]{1,5})?")


def _page(body: str, script: str, target: str, appearance: str = "") -> str:
    # The host page's origin, as the form carried it: anything else is no origin.
    target_js = _script_json(target if target and _ORIGIN.fullmatch(target) else "*")
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        f"<style>{_BASE_CSS}{_appearance_css(appearance)}</style></head><body>{body}"
        f"<script>var TARGET={target_js};{script}</script></body></html>"
    )


def _post_message(message: dict[str, Any]) -> str:
    payload = _script_json({"source": "fake-connect", **message})
    return f"parent.postMessage({payload},TARGET);"


def shell(component: str) -> str:
    """The iframe's first page: asks the host for the session, then POSTs it."""
    fields = "".join(
        f'<input type="hidden" name="{name}">'
        for name in ("client_secret", "publishable_key", "instance", "account", "appearance",
                     "locale", "origin")
    )
    body = (
        '<p class="muted">Loading (fake Stripe)…</p>'
        f'<form id="session" method="post" action="/connect-js/v1.0/frame/{escape(component)}">'
        f"{fields}</form>"
    )
    script = (
        "addEventListener('message',function(e){var d=e.data;"
        "if(e.source!==parent||!d||d.source!=='fake-connect-host'||d.type!=='session')return;"
        "var f=document.getElementById('session');"
        "f.client_secret.value=d.clientSecret;f.publishable_key.value=d.publishableKey;"
        "f.instance.value=d.instance;f.account.value=d.account||'';"
        "f.appearance.value=d.appearance||'{}';f.locale.value=d.locale||'';"
        "f.origin.value=e.origin;f.submit();});"
        + _post_message({"type": "ready"})
    )
    return _page(body, script, "*")


def _load_error(error_type: str, message: str, target: str) -> str:
    """A refusal the host page hears through ``setOnLoadError``."""
    body = f'<p class="error">{escape(message)}</p>'
    return _page(body, _post_message({"type": "loaderror", "error": {"type": error_type,
                                                             "message": message}}), target)


def expired(target: str) -> str:
    """The secret expired unclaimed: the stand-in fetches a new one."""
    return _page('<p class="muted">Refreshing…</p>', _post_message({"type": "expired"}), target)


def exited(target: str, appearance: str) -> str:
    """After the onboarding form: the component exits (the host's ``setOnExit``)."""
    body = '<div class="panel"><p>Thanks. Returning you to the platform…</p></div>'
    return _page(body, _post_message({"type": "exit"}), target, appearance)


def _panel(
    component: str, body: str, *, account_id: str, target: str, appearance: str,
    extra: str = "",
) -> str:
    """A drawn component: reports it loaded (and its size) to the stand-in.

    An empty ``body`` draws nothing at all (a notification banner without
    notifications takes no room, as Stripe's).
    """
    script = _post_message({"type": "loaded", "account": account_id}) + _RESIZE + extra
    if not body:
        return _page("", script, target, appearance)
    heading = (
        f'<p><span class="badge">TEST MODE · fake Stripe</span> '
        f'<span class="muted">{escape(component.replace("_", " "))}</span></p>'
    )
    return _page(f'<div class="panel">{heading}{body}</div>', script, target, appearance)


_SYMBOLS = {"usd": "$", "eur": "€", "gbp": "£", "cad": "CA$", "aud": "A$", "jpy": "¥"}
_ZERO_DECIMAL = {"jpy", "krw", "vnd"}


def money(amount: int, currency: str) -> str:
    """``1234, "usd"`` -> ``$12.34``."""
    currency = (currency or "usd").lower()
    value = amount if currency in _ZERO_DECIMAL else amount / 100
    text = f"{value:,.0f}" if currency in _ZERO_DECIMAL else f"{value:,.2f}"
    symbol = _SYMBOLS.get(currency)
    return f"{symbol}{text}" if symbol else f"{text} {currency.upper()}"


# -- Connect.js: the script and its components ---------------------------------


_SCRIPT_PATH = "/connect-js/v1.0/connect.js"
_ASSET = Path(__file__).with_name("assets") / "connect.js"


def script(state: _State, request: RecordedRequest) -> Response:
    return Response(200, _ASSET.read_text(), {"Content-Type": "text/javascript; charset=utf-8"})


def frame(state: _State, request: RecordedRequest, component: str) -> Response:
    return Response.html(200, shell(component))


def _session(
    state: _State, form: dict[str, Any], component: str
) -> _SessionGrant | Response:
    """The claimed session for this frame, or the page that refuses it."""
    target = str(form.get("origin") or "*")
    key = str(form.get("publishable_key") or "")
    if key != state.publishable_key:
        return Response.html(200, _load_error(
            "authentication_error", f"Invalid API Key provided: {objects._mask_key(key)}", target))
    grant = state.sessions.get(str(form.get("client_secret") or ""))
    if grant is None:
        return Response.html(200, _load_error(
            "invalid_request_error", "Invalid client secret: no such account session.", target))
    instance = str(form.get("instance") or "")
    if not grant.instance:
        if grant.expired:
            return Response.html(200, expired(target))
        grant.instance = instance
    elif grant.instance != instance:
        return Response.html(200, _load_error(
            "invalid_request_error",
            "This client secret was already used by another Connect.js instance.", target))
    shown = str(form.get("account") or "")
    if shown and shown != grant.account_id:
        return Response.html(200, _load_error(
            "invalid_request_error",
            "The client secret is for another account than the one this Connect.js "
            "instance shows.", target))
    if not grant.enabled(component):
        return Response.html(200, _load_error(
            "invalid_request_error",
            f"The {component} component is not enabled in this account session.", target))
    if grant.account_id not in state.accounts:
        return Response.html(200, _load_error(
            "invalid_request_error", f"No such account: '{grant.account_id}'", target))
    return grant


def draw(state: _State, request: RecordedRequest, component: str) -> Response:
    grant = _session(state, request.form, component)
    if isinstance(grant, Response):
        return grant
    account = as_v1(state.accounts[grant.account_id])  # a v2 account, as v1 shows it
    target = str(request.form.get("origin") or "*")
    appearance = str(request.form.get("appearance") or "")
    body, extra = _body(state, grant, component, account, request.form)
    return Response.html(200, _panel(
        component, body, account_id=grant.account_id, target=target, appearance=appearance,
        extra=extra,
    ))


def _submit_onboarding(state: _State, request: RecordedRequest) -> Response:
    """The onboarding form: finish onboarding (or leave it), then exit."""
    grant = _session(state, request.form, "account_onboarding")
    if isinstance(grant, Response):
        return grant
    if request.form.get("action") == "agree" and _as_bool(request.form.get("finish")):
        state.complete_onboarding(grant.account_id)
    target = str(request.form.get("origin") or "*")
    return Response.html(200, exited(target, str(request.form.get("appearance") or "")))


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
    body = (
        "<h2>Set up your Stripe account</h2>"
        + _summary(account)
        + '<form method="post" action="/connect-js/v1.0/frame/account_onboarding/submit">'
        + _hidden(form)
        + '<label><input type="checkbox" name="finish" value="on" checked> '
        "Finish onboarding now (unchecked: the account keeps details due)</label>"
        '<button class="primary" type="submit" name="action" value="agree">'
        "Agree and submit</button>"
        '<button type="submit" name="action" value="later">Save and return later</button>'
        "</form>"
    )
    return body, _post_message({"type": "step", "step": "summary"})


def _balance(state: _State, account: dict[str, Any]) -> dict[str, Any]:
    stored = state.balances.get(account["id"], {})
    currency = stored.get("currency") or account.get("default_currency") or "usd"
    return {"available": int(stored.get("available", 0)), "pending": int(stored.get("pending", 0)),
            "currency": currency}


def _balance_html(state: _State, account: dict[str, Any]) -> str:
    balance = _balance(state, account)
    return (
        '<div class="row">'
        f'<div><h3>Available</h3><div class="amount" data-balance="available">'
        f'{money(balance["available"], balance["currency"])}</div></div>'
        f'<div><h3>Pending</h3><div class="amount" data-balance="pending">'
        f'{money(balance["pending"], balance["currency"])}</div></div></div>'
    )


def _features_html(grant: _SessionGrant, component: str) -> str:
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


def _payouts_table(state: _State, account: dict[str, Any]) -> str:
    payouts = state.payouts.get(account["id"], [])
    if not payouts:
        return '<p class="muted">No payouts yet.</p>'
    lines = "".join(
        f"<tr><td>{datetime.date.fromtimestamp(p['arrival_date']).isoformat()}</td>"
        f"<td>{money(p['amount'], p['currency'])}</td><td>{escape(p['status'])}</td>"
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
    state: _State, grant: _SessionGrant, component: str, account: dict[str, Any],
    form: dict[str, Any],
) -> tuple[str, str]:
    """The component's HTML and any extra script it runs."""
    if component == "account_onboarding":  # in the account's own API's names
        return _onboarding(state.accounts[grant.account_id], form)
    if component == "notification_banner":
        due, past = _requirements(account)
        count = {"type": "notifications", "total": len(due), "actionRequired": len(due + past)}
        if not due and not past:
            return "", _post_message(count)
        items = "".join(f"<li>{escape(name)}</li>" for name in dict.fromkeys(past + due))
        return (
            '<h2 class="banner">Action required</h2>'
            f"<p>Stripe needs {len(due) or len(past)} more detail(s) to keep your payouts "
            f"going:</p><ul>{items}</ul>",
            _post_message(count),
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
    if component == "payout_details":  # Stripe's shows the payout the host names
        return "<h2>Payout</h2>" + _payouts_table(state, account), ""
    if component == "instant_payouts_promotion":
        stored = state.balances.get(account["id"], {})
        instant = int(stored.get("instant_available", 0))
        currency = stored.get("currency") or account.get("default_currency") or "usd"
        on = grant.feature(component, "instant_payouts")
        return ("<h2>Get paid instantly</h2>"
                f'<p data-balance="instant_available">{money(instant, currency)} can be paid '
                f'out now.</p><button type="button" data-feature="instant_payouts"'
                f'{"" if on else " disabled"}>Instant payout</button>'), ""
    if component == "account_management":
        return _account_management(account), ""
    if component == "documents":
        return ("<h2>Documents</h2><p class=\"muted\">No documents yet: tax forms appear "
                "here once Stripe issues them.</p>"), ""
    # Stripe's other components (payments, disputes, tax, reports): a placeholder
    # naming them, drawn for the session's account like the others.
    return (f'<h2>{escape(component.replace("_", " ").capitalize())}</h2>'
            f'<p class="muted">The fake Stripe does not draw {escape(component)}.</p>'), ""


ROUTES: _Routes = [
    ("GET", re.compile(r"/setup/e/(?P<acct>acct_\w+)/(?P<token>\w+)"), _setup_page),
    ("POST", re.compile(r"/setup/e/(?P<acct>acct_\w+)/(?P<token>\w+)"), _setup_page),
    ("GET", re.compile(r"/express/(?P<acct>acct_\w+)/(?P<token>\w+)"), dashboard),
    ("GET", re.compile(re.escape(_SCRIPT_PATH)), script),
    ("POST", re.compile(r"/connect-js/v1\.0/frame/account_onboarding/submit"), _submit_onboarding),
    ("GET", re.compile(r"/connect-js/v1\.0/frame/(?P<component>[a-z_]+)"), frame),
    ("POST", re.compile(r"/connect-js/v1\.0/frame/(?P<component>[a-z_]+)"), draw),
]
