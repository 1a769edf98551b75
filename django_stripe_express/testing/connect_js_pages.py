"""HTML of the stand-in Connect.js's component frames, drawn from the fake's state.

Each component is a page the stand-in puts in an iframe (as Stripe's
Connect.js does): the shell waits for the client secret from the host page,
then POSTs it; the answer is the component's panel, or an error the host page
hears about through its ``setOnLoadError``. Pages talk to the stand-in with
``postMessage`` (``{source: "fake-connect", type: ...}``).
"""

from __future__ import annotations

import json
import re
from html import escape
from typing import Any

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


def appearance_css(raw: str) -> str:
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


def _page(body: str, script: str, target: str, appearance: str = "") -> str:
    target_js = json.dumps(target or "*")
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        f"<style>{_BASE_CSS}{appearance_css(appearance)}</style></head><body>{body}"
        f"<script>var TARGET={target_js};{script}</script></body></html>"
    )


def post_message(message: dict[str, Any]) -> str:
    payload = json.dumps({"source": "fake-connect", **message})
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
        + post_message({"type": "ready"})
    )
    return _page(body, script, "*")


def load_error(error_type: str, message: str, target: str) -> str:
    """A refusal the host page hears through ``setOnLoadError``."""
    body = f'<p class="error">{escape(message)}</p>'
    return _page(body, post_message({"type": "loaderror", "error": {"type": error_type,
                                                             "message": message}}), target)


def expired(target: str) -> str:
    """The secret expired unclaimed: the stand-in fetches a new one."""
    return _page('<p class="muted">Refreshing…</p>', post_message({"type": "expired"}), target)


def exited(target: str, appearance: str) -> str:
    """After the onboarding form: the component exits (the host's ``setOnExit``)."""
    body = '<div class="panel"><p>Thanks. Returning you to the platform…</p></div>'
    return _page(body, post_message({"type": "exit"}), target, appearance)


def panel(
    component: str, body: str, *, account_id: str, target: str, appearance: str,
    extra: str = "",
) -> str:
    """A drawn component: reports it loaded (and its size) to the stand-in.

    An empty ``body`` draws nothing at all (a notification banner without
    notifications takes no room, as Stripe's).
    """
    script = post_message({"type": "loaded", "account": account_id}) + _RESIZE + extra
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
