"""Small HTML stand-ins for Stripe's hosted pages.

They let the whole onboarding flow run in a browser (or a test's HTTP client)
offline. Plain forms without JavaScript or external assets, so they work
anywhere and a test can submit them by POSTing the same fields.
"""

from __future__ import annotations

from html import escape
from typing import Any

from .state import OUTCOMES

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
        for value, label in OUTCOMES.items()
    )
    return (
        '<label><input type="checkbox" name="finish" value="on" id="finish" checked> '
        "Finish onboarding now (unchecked: the account keeps details due)</label>"
        '<label for="outcome">Then Stripe\'s verification ends as</label>'
        f'<select name="outcome" id="outcome">{options}</select>'
    )


def oauth_page(action: str, query: str, client_id: str, params: dict[str, Any]) -> str:
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


def setup_page(action: str, account: dict[str, Any]) -> str:
    """The Account Link target: finish onboarding or leave for now."""
    body = (
        rows(
            [
                ("account", account["id"]),
                ("email", account.get("email") or ""),
                ("country", account.get("country") or ""),
                ("currently due", ", ".join(account["requirements"]["currently_due"]) or "nothing"),
            ]
        )
        + f'<form method="post" action="{escape(action)}">'
        + _finish_checkbox()
        + '<button class="primary" type="submit" name="action" value="agree" id="submit">'
        "Agree and submit</button>"
        '<button type="submit" name="action" value="later" id="later">'
        "Save and return later</button>"
        "</form>"
    )
    return _layout("Fake Stripe \u2013 Express onboarding", body)


def dashboard_page(account: dict[str, Any]) -> str:
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


def error_page(title: str, message: str) -> str:
    return _layout(title, f'<p class="error">{escape(message)}</p>')
