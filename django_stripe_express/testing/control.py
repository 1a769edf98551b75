"""The fake's control page (``/fake``): change an account as Stripe would, send events.

For a developer clicking through an offline demo: finish an account's
verification, ask for a document, revoke the platform's access, and watch
the events reach the app (`forwarding`). ``python -m
django_stripe_express.testing trigger`` uses ``POST /fake/trigger``, and
``GET /fake/deliveries`` says what happened to each forwarded event.

Like Stripe's hosted pages in this fake, these routes need no key: the fake
only listens on this machine, with public test credentials.
"""

from __future__ import annotations

import re
from datetime import datetime
from html import escape
from typing import Any

from . import objects_v2, payouts
from .forwarding import _account_kind, trigger
from .hosted import _layout as layout
from .server import Response, _Routes
from .state import FakeStripeError, RecordedRequest, _State

#: What the page's buttons do to an account (the same helpers tests call).
_ACTIONS: dict[str, tuple[str, Any]] = {
    "enable": ("Verified: enable charges and payouts",
               lambda state, acct: state.finish_onboarding(acct, "enabled")),
    "pending_verification": ("Submitted: Stripe is still verifying",
                             lambda state, acct: state.finish_onboarding(
                                 acct, "pending_verification")),
    "restrict": ("Ask for a document (restricted)",
                 lambda state, acct: state.require_verification(
                     acct, None, "requirements.past_due")),
    "review": ("Review: ask for more information",
               lambda state, acct: state.finish_onboarding(acct, "review")),
    # v1 accounts (OAuth) can revoke the platform's access; v2 accounts close.
    "deauthorize": ("The user disconnects the platform",
                    lambda state, acct: state.deauthorize(acct)),
    "close": ("Close the account", lambda state, acct: state.close_account(acct)),
}
_KIND_ACTIONS = {"v1": ("deauthorize",), "v2": ("close",)}
#: What "send" sends, per kind of account.
_SENT = {"v1": "account.updated", "v2": "v2.core.account.updated"}
#: Types `trigger` builds from the fake's state: snapshot and thin events.
_TRIGGERED = (
    "account.updated", "capability.updated", "account.application.deauthorized",
    "v2.core.account.updated", "v2.core.account[requirements].updated",
    "v2.core.account[configuration.recipient].capability_status_updated",
    "v2.core.account[configuration.merchant].capability_status_updated",
    "v2.core.account.closed",
)


def _pending_payout(state: _State, acct: str) -> str:
    for payout in state.payouts.get(acct, []):  # newest first
        if payout["status"] == "pending":
            return str(payout["id"])
    raise FakeStripeError("No pending payout: make one first.")


def _failure_code(form: dict[str, Any]) -> str:
    code = str(form.get("failure_code") or "account_closed")
    if code not in payouts.FAILURE_MESSAGES:
        raise FakeStripeError(f"Unknown failure_code: {code}")
    return code


#: The user's money: a payout (pending), paid or failed with a chosen
#: ``failure_code``, a new bank account; each forwarded as its Connect event.
_PAYOUT_ACTIONS: dict[str, tuple[str, Any]] = {
    "payout": ("Pay out 10.00 (pending)",
               lambda state, acct, form: payouts.create_payout(state, acct, 1000)),
    "payout_paid": ("The pending payout arrives",
                    lambda state, acct, form: payouts.settle_payout(
                        state, _pending_payout(state, acct))),
    "payout_failed": ("The pending payout fails",
                      lambda state, acct, form: payouts.settle_payout(
                          state, _pending_payout(state, acct), _failure_code(form))),
    "scheduled_payout": ("Run today's automatic payout (the schedule's clock)",
                         lambda state, acct, form: payouts.run_schedule(
                             state, datetime.now().date(), [acct])),
    "bank_account": ("The user changes their bank account",
                     lambda state, acct, form: payouts.external_account_updated(state, acct)),
}


def _payout_buttons(acct: str) -> str:
    options = "".join(f'<option value="{escape(code)}">{escape(code)}</option>'
                      for code in payouts.FAILURE_MESSAGES)
    fail = (
        f'<form method="post" action="/fake/accounts/{escape(acct)}/payout_failed" '
        f'style="display:inline"><select name="failure_code">{options}</select> '
        f'<button type="submit">{escape(_PAYOUT_ACTIONS["payout_failed"][0])}</button></form>'
    )
    return " ".join([*(_button(a, _PAYOUT_ACTIONS[a][0], acct)
                       for a in ("payout", "scheduled_payout", "payout_paid")), fail,
                     _button("bank_account", _PAYOUT_ACTIONS["bank_account"][0], acct)])


def _status(stored: dict[str, Any], gone: bool) -> str:
    if gone:
        return "platform access revoked"
    if stored.get("closed"):
        return "closed"
    account = objects_v2.as_v1(stored)  # a v2 account as Stripe's v1 shows it
    reqs = account.get("requirements") or {}
    due = ", ".join(reqs.get("past_due") or reqs.get("currently_due") or []) or "nothing due"
    flags = [
        "details submitted" if account.get("details_submitted") else "onboarding",
        "charges on" if account.get("charges_enabled") else "charges off",
        "payouts on" if account.get("payouts_enabled") else "payouts off",
    ]
    if reqs.get("disabled_reason"):
        flags.append(str(reqs["disabled_reason"]))
    return f"{'; '.join(flags)} ({due})"


def _button(action: str, label: str, acct: str) -> str:
    return (
        f'<form method="post" action="/fake/accounts/{escape(acct)}/{escape(action)}" '
        f'style="display:inline"><button type="submit" name="action" value="{escape(action)}">'
        f"{escape(label)}</button></form>"
    )


def page(state: _State, request: RecordedRequest) -> Response:
    forwarder = state.forwarder
    target = forwarder.url if forwarder is not None and forwarder.watching else None
    intro = (
        f"<p>Every change below is forwarded to <code>{escape(target)}</code>, signed with "
        "the webhook secret.</p>"
        if target
        else "<p>Not forwarding: start the fake with <code>--forward-to URL</code> to send "
        "each change to your webhook.</p>"
    )
    rows = []
    for acct, account in reversed(state.accounts.items()):  # the newest first
        kind = _account_kind(account)
        gone = acct in state.deauthorized or bool(account.get("closed"))
        shown = [
            a for a in _ACTIONS if a not in ("deauthorize", "close") or a in _KIND_ACTIONS[kind]
        ]
        buttons = "" if gone else " ".join(_button(a, _ACTIONS[a][0], acct) for a in shown)
        send = _button("send", f"Send {_SENT[kind]}", acct) if target and not gone else ""
        email = account.get("email") or account.get("contact_email") or ""
        rows.append(
            f'<section class="account" data-account="{escape(acct)}"><h2>{escape(acct)}</h2>'
            f"<p>{escape(str(email))} ({kind}) \u00b7 "
            f'<span class="status">{escape(_status(account, gone))}</span></p>'
            f"<p>{buttons} {send}</p>"
            f"<p>{'' if gone else _payout_buttons(acct)}</p></section>"
        )
    history = "".join(
        f"<li>{datetime.fromtimestamp(d.at):%H:%M:%S} {escape(d.type)} {escape(d.event_id)} "
        f"[{escape(d.account or '-')}]: "
        f"{escape(str(d.status_code) if d.status_code is not None else d.error or 'sending')}"
        f"{f' ({d.attempts} tries)' if d.attempts > 1 else ''}</li>"
        for d in reversed(forwarder.deliveries if forwarder is not None else [])
    )
    body = (
        intro
        + ("".join(rows) or "<p>No accounts yet: connect one from your site first.</p>")
        + '<h2>Forwarded events <a href="/fake" style="font-size:.8rem">reload</a></h2>'
        + (f'<ol class="deliveries">{history}</ol>' if history else "<p>None yet.</p>")
    )
    return Response.html(200, layout("Fake Stripe \u2013 control", body))


def act(state: _State, request: RecordedRequest, acct: str, action: str) -> Response:
    if acct not in state.accounts:
        return Response.html(404, layout("Not found", f"<p>No such account: {escape(acct)}</p>"))
    if action == "send":
        outcome = _trigger(state, _SENT[_account_kind(state.accounts[acct])], acct, None, None)
        if isinstance(outcome, Response):
            return outcome
    elif action in _ACTIONS:
        _ACTIONS[action][1](state, acct)
    elif action in _PAYOUT_ACTIONS:
        try:
            _PAYOUT_ACTIONS[action][1](state, acct, request.form)
        except FakeStripeError as exc:
            return Response.html(400, layout("Not possible", f"<p>{escape(str(exc))}</p>"))
    else:
        return Response.html(400, layout("Unknown action", f"<p>{escape(action)}</p>"))
    return Response.redirect("/fake")


def _trigger(
    state: _State, type_: str, acct: str, capability: str | None, url: str | None
) -> dict[str, Any] | Response:
    if type_ not in _TRIGGERED:
        return Response.json(400, {"error": f"trigger builds {', '.join(_TRIGGERED)}"})
    if acct not in state.accounts:
        return Response.json(404, {"error": f"No such account in the fake: {acct}"})
    if url is not None and not re.match(r"https?://[^/\s]+/\S*", url):
        return Response.json(400, {"error": "url must be the webhook's full http(s) URL"})
    forwarder = state.forwarder
    configured = forwarder.url if forwarder is not None else None
    if url is not None and url != configured:
        # Signed events go only where the developer pointed the fake (--forward-to):
        # a request to this page cannot make it post to any other address.
        return Response.json(400, {
            "error": "url must be the --forward-to target; start the fake with "
                     "--forward-to URL to send events there.",
        })
    try:
        event, sent_to = trigger(state, type_, account=acct, capability=capability, url=url)
    except FakeStripeError as exc:
        return Response.json(400, {"error": str(exc)})
    if sent_to is None:
        return Response.json(409, {
            "error": "The fake forwards nowhere: start it with --forward-to URL, or give url.",
        })
    return {"id": event["id"], "type": type_, "account": acct, "url": sent_to}


def _trigger_endpoint(state: _State, request: RecordedRequest) -> Response:
    params = request.form
    outcome = _trigger(
        state,
        str(params.get("type") or ""),
        str(params.get("account") or ""),
        str(params["capability"]) if params.get("capability") else None,
        str(params["url"]) if params.get("url") else None,
    )
    return outcome if isinstance(outcome, Response) else Response.json(200, outcome)


def deliveries(state: _State, request: RecordedRequest) -> Response:
    forwarder = state.forwarder
    found = [d.as_dict() for d in forwarder.deliveries] if forwarder is not None else []
    wanted = request.query.get("event")
    if wanted:
        found = [d for d in found if d["event"] == wanted]
    target = forwarder.url if forwarder is not None and forwarder.watching else None
    return Response.json(200, {"forwarding_to": target, "deliveries": found})


ROUTES: _Routes = [
    ("GET", re.compile(r"/fake"), page),
    ("POST", re.compile(r"/fake/accounts/(?P<acct>acct_\w+)/(?P<action>\w+)"), act),
    ("POST", re.compile(r"/fake/trigger"), _trigger_endpoint),
    ("GET", re.compile(r"/fake/deliveries"), deliveries),
]
