"""Connected accounts' money: their balances and payouts, as Stripe answers them.

A payout lives in ``state.payouts`` (per account, newest first) in Stripe's
``payout`` shape; `create_payout` and `settle_payout` move it through
``pending`` -> ``paid`` or ``failed`` (with a ``failure_code`` chosen by the
test or the control page); `run_schedule` makes Stripe's automatic payouts of
a given day by each account's schedule (the day given is the fake's clock).
Each step is a Connect event (``account`` on top: ``payout.created``,
``payout.paid``, ``payout.failed``) kept at
``/v1/events/{id}`` and forwarded when the fake forwards.
``external_account_updated`` is the user changing their bank account.

Routes: ``GET /v1/payouts``, ``GET /v1/payouts/{id}`` and ``POST /v1/payouts``
(a manual payout, `_create_payout`) for a connected account (``Stripe-Account``
header). ``GET /v1/balance`` with that header
answers the account's balance (`set_balance`: ``available``, ``pending``,
``instant_available`` per currency); without it, the platform's
(`transfers`).
"""

from __future__ import annotations

import calendar
import copy
import datetime
import re
from typing import Any

import stripe.params as P

from . import objects
from .api import _INTERVALS, _apply, _schedule_error, page
from .objects_v2 import as_v1
from .schema import _validated
from .server import Response, _Routes, api_error
from .state import FakeStripeError, RecordedRequest, _State

#: Stripe's words for each failure code the fake can choose (stripe 16's
#: ``Payout.failure_code`` docs: docs.stripe.com/api/payouts/failures).
FAILURE_MESSAGES = {
    "account_closed": "The bank account has been closed.",
    "account_frozen": "The bank account has been frozen.",
    "bank_account_restricted": "The bank account has restrictions on either the type, or "
    "the number, of payouts allowed.",
    "bank_ownership_changed": "The destination bank account is no longer valid because its "
    "branch has changed ownership.",
    "could_not_process": "The bank could not process this payout.",
    "debit_not_authorized": "Debit transactions are not approved on the bank account.",
    "declined": "The bank has declined this transfer.",
    "incorrect_account_holder_address": "The bank notified us that the bank account holder "
    "address on file is incorrect.",
    "incorrect_account_holder_name": "The bank notified us that the bank account holder name "
    "on file is incorrect.",
    "incorrect_account_holder_tax_id": "The bank notified us that the bank account holder tax "
    "ID on file is incorrect.",
    "insufficient_funds": "Your Stripe account has insufficient funds to cover the payout.",
    "invalid_account_number": "The routing number seems correct, but the account number is "
    "invalid.",
    "invalid_currency": "The bank was unable to process this payout because of its currency.",
    "no_account": "The bank account details on file are probably incorrect.",
    "unsupported_card": "The bank no longer supports payouts to this card.",
}

_DAY = 86400


def payout_object(account: dict[str, Any], amount: int, currency: str, *, method: str,
                  automatic: bool) -> dict[str, Any]:
    """A new ``pending`` payout of ``account`` in Stripe's shape."""
    now = objects.now()
    return {
        "id": objects._random_id("po_", 24),
        "object": "payout",
        "amount": amount,
        "application_fee": None,
        "application_fee_amount": None,
        "arrival_date": now + (0 if method == "instant" else 2 * _DAY),
        "automatic": automatic,
        "balance_transaction": objects._random_id("txn_", 24),
        "created": now,
        "currency": currency,
        "description": None if automatic else "STRIPE PAYOUT",
        "destination": objects._random_id("ba_", 24),
        "failure_balance_transaction": None,
        "failure_code": None,
        "failure_message": None,
        "livemode": False,
        "metadata": {},
        "method": method,
        "original_payout": None,
        "reconciliation_status": "not_applicable",
        "reversed_by": None,
        "source_type": "card",
        "statement_descriptor": None,
        "status": "pending",
        "type": "bank_account",
    }


def _account_event(state: _State, type_: str, obj: dict[str, Any], account: str
                   ) -> dict[str, Any]:
    """Keep a Connect event of ``account`` about ``obj``; forward it when forwarding."""
    event = objects.build_event(type_, obj, account=account)
    state.events[event["id"]] = event
    if state.forwarder is not None:
        state.forwarder.send(copy.deepcopy(event))
    return copy.deepcopy(event)


def create_payout(state: _State, acct_id: str, amount: int, currency: str | None = None, *,
                  method: str = "standard", automatic: bool = True) -> dict[str, Any]:
    """A pending payout of the account; its ``payout.created`` event is returned.
    Call with the state's lock held."""
    account = state.account(acct_id)
    code = (currency or account.get("default_currency") or "usd").lower()
    payout = payout_object(account, amount, code, method=method, automatic=automatic)
    state.payouts.setdefault(acct_id, []).insert(0, payout)
    return _account_event(state, "payout.created", copy.deepcopy(payout), acct_id)


def find_payout(state: _State, payout_id: str) -> tuple[str, dict[str, Any]]:
    for acct_id, payouts in state.payouts.items():
        for payout in payouts:
            if payout["id"] == payout_id:
                return acct_id, payout
    raise FakeStripeError(f"no payout {payout_id!r} at the fake")


def settle_payout(state: _State, payout_id: str, failure_code: str | None = None
                  ) -> dict[str, Any]:
    """The payout arrives (``payout.paid``) or fails with ``failure_code``
    (``payout.failed``, Stripe's message for the code); the event is returned."""
    acct_id, payout = find_payout(state, payout_id)
    if failure_code is None:
        payout["status"] = "paid"
    else:
        if failure_code not in FAILURE_MESSAGES:
            raise FakeStripeError(
                f"unknown failure_code {failure_code!r}; one of {', '.join(FAILURE_MESSAGES)}")
        payout.update(status="failed", failure_code=failure_code,
                      failure_message=FAILURE_MESSAGES[failure_code],
                      failure_balance_transaction=objects._random_id("txn_", 24))
    return _account_event(state, f"payout.{payout['status']}", copy.deepcopy(payout), acct_id)


def external_account_updated(state: _State, acct_id: str) -> dict[str, Any]:
    """The user changed their bank account: ``account.external_account.updated``."""
    state.account(acct_id)
    bank: dict[str, Any] = {
        "id": objects._random_id("ba_", 24),
        "object": "bank_account",
        "account": acct_id,
        "account_holder_name": None,
        "account_holder_type": None,
        "account_type": None,
        "available_payout_methods": ["standard"],
        "bank_name": "STRIPE TEST BANK",
        "country": "US",
        "currency": "usd",
        "default_for_currency": True,
        "fingerprint": objects._random_id("", 16),
        "future_requirements": None,
        "last4": "6789",
        "metadata": {},
        "requirements": None,
        "routing_number": "110000000",
        "status": "new",
    }
    return _account_event(state, "account.external_account.updated", bank, acct_id)


def account_balance(state: _State, acct_id: str) -> dict[str, Any]:
    """The connected account's Balance: one currency, as `set_balance` stored it."""
    account = state.account(acct_id)
    stored = state.balances.get(acct_id, {})
    currency = stored.get("currency") or account.get("default_currency") or "usd"

    def amounts(kind: str) -> list[dict[str, Any]]:
        amount = int(stored.get(kind, 0))
        return [{"amount": amount, "currency": currency, "source_types": {"card": amount}}]

    return {
        "object": "balance",
        "available": amounts("available"),
        "instant_available": amounts("instant_available"),
        "livemode": False,
        "pending": amounts("pending"),
    }


def _connected(state: _State, request: RecordedRequest) -> str | None:
    acct_id = request.header("Stripe-Account")
    return acct_id if acct_id in state.accounts else None


def _no_account() -> Response:
    return api_error(403, "The provided key does not have access to account.",
                     code="account_invalid")


@_validated(P.PayoutListParams)
def _list_payouts(state: _State, request: RecordedRequest) -> Response:
    acct_id = _connected(state, request)
    if acct_id is None:
        return _no_account()
    return page(state.payouts.get(acct_id, []), request.query, "/v1/payouts", "payout")


@_validated(P.PayoutRetrieveParams)
def _retrieve_payout(state: _State, request: RecordedRequest, payout: str) -> Response:
    acct_id = _connected(state, request)
    for item in state.payouts.get(acct_id or "", []):
        if item["id"] == payout:
            return Response.json(200, copy.deepcopy(item))
    return api_error(404, f"No such payout: '{payout}'", code="resource_missing", param="id")


#: Stripe's answer to a manual payout on an automatic schedule.
AUTOMATIC_MESSAGE = ("You cannot create manual payouts on an account that has automatic "
                     "payouts enabled. Set the account's payout schedule to manual first.")


def _schedule(state: _State, acct_id: str) -> dict[str, Any]:
    """The account's payout schedule: Balance Settings once set (v2), else v1's."""
    if acct_id in state.balance_settings:
        return dict(state.balance_settings[acct_id]["schedule"])
    settings = state.accounts[acct_id].get("settings") or {}
    return dict((settings.get("payouts") or {}).get("schedule") or {})


def _interval(state: _State, acct_id: str) -> str:
    return str(_schedule(state, acct_id).get("interval", "daily"))


def payout_due(state: _State, acct_id: str, day: datetime.date) -> bool:
    """Whether the account's schedule pays out on ``day``, as Stripe reads it: every
    day, the weekly days (v1 ``weekly_anchor``, v2 ``weekly_payout_days``), the
    monthly days (an anchor past the month's end is its last day), never when manual."""
    schedule = _schedule(state, acct_id)
    interval = schedule.get("interval", "daily")
    if interval == "daily":
        return True
    if interval == "weekly":
        days = schedule.get("weekly_payout_days") or [schedule.get("weekly_anchor", "monday")]
        return day.strftime("%A").lower() in days
    if interval == "monthly":
        days = schedule.get("monthly_payout_days") or [schedule.get("monthly_anchor", 1)]
        last = calendar.monthrange(day.year, day.month)[1]
        return any(min(int(d), last) == day.day for d in days)
    return False


def run_schedule(state: _State, day: datetime.date, acct_ids: list[str] | None = None
                 ) -> list[dict[str, Any]]:
    """Stripe's automatic payouts on ``day``: each account (of ``acct_ids``, or all)
    whose payouts are enabled and whose schedule is due pays out its whole available
    balance; the ``payout.created`` events, kept and forwarded. Call with the lock held."""
    events = []
    for acct_id in acct_ids if acct_ids is not None else list(state.accounts):
        account = state.account(acct_id)
        if state.is_deauthorized(acct_id) or not as_v1(account).get("payouts_enabled"):
            continue
        stored = state.balances.get(acct_id, {})
        available = int(stored.get("available", 0))
        if available <= 0 or not payout_due(state, acct_id, day):
            continue
        stored.update(available=0, instant_available=0)
        events.append(create_payout(state, acct_id, available, stored.get("currency")))
    return events


@_validated(P.PayoutCreateParams)
def _create_payout(state: _State, request: RecordedRequest) -> Response:
    """``POST /v1/payouts`` for a connected account: only on a manual schedule,
    from its available balance (``instant``: from ``instant_available``),
    which it debits; ``payout.created`` is sent. Idempotency is the server's."""
    acct_id = _connected(state, request)
    if acct_id is None:
        return _no_account()
    form = request.form
    amount, currency = str(form.get("amount", "")), str(form.get("currency", "")).lower()
    method = str(form.get("method") or "standard")
    if not amount.isdigit() or int(amount) < 1:
        return api_error(400, "Invalid positive integer", code="parameter_invalid_integer",
                         param="amount")
    if method not in ("standard", "instant"):
        return api_error(400, "Invalid method: must be one of standard or instant",
                         code="parameter_invalid", param="method")
    if _interval(state, acct_id) != "manual":
        return api_error(400, AUTOMATIC_MESSAGE)
    stored = state.balances.setdefault(acct_id, {})
    account = state.accounts[acct_id]
    held = (stored.get("currency") or account.get("default_currency") or "usd").lower()
    kind = "instant_available" if method == "instant" else "available"
    value = int(amount)
    if currency != held or int(stored.get(kind, 0)) < value:
        return api_error(400, "You have insufficient funds in your Stripe account for this "
                         "payout.", code="balance_insufficient")
    stored["currency"] = held
    stored["available"] = int(stored.get("available", 0)) - value
    stored["instant_available"] = min(int(stored.get("instant_available", 0))
                                      - (value if method == "instant" else 0),
                                      stored["available"])
    payout = payout_object(account, value, currency, method=method, automatic=False)
    if form.get("metadata"):
        payout["metadata"] = dict(form["metadata"])
    state.payouts.setdefault(acct_id, []).insert(0, payout)
    _account_event(state, "payout.created", copy.deepcopy(payout), acct_id)
    return Response.json(200, copy.deepcopy(payout))


# -- payout schedules: v1 account settings, v2 Balance Settings ----------------------
_WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday")


@_validated(P.AccountUpdateParams)
def _update_account(state: _State, request: RecordedRequest, acct: str) -> Response:
    """``POST /v1/accounts/{acct}``: the payout schedule (what the app updates), and the
    parameters account creation takes."""
    if acct not in state.accounts or state.is_deauthorized(acct):
        return api_error(403, "The provided key does not have access to account.",
                         code="account_invalid")
    account = state.accounts[acct]
    failed = _apply(account, request.form)
    if failed:
        return failed
    return Response.json(200, copy.deepcopy(account))


def balance_settings_object(state: _State, acct_id: str) -> dict[str, Any]:
    """A connected account's Balance Settings (Accounts v2's payout settings)."""
    stored = state.balance_settings.setdefault(acct_id, {"schedule": {"interval": "daily"},
                                                         "delay_days_override": None})
    return {
        "object": "balance_settings",
        "payments": {
            "debit_negative_balances": True,
            "payouts": {
                "minimum_balance_by_currency": None,
                "schedule": copy.deepcopy(stored["schedule"]),
                "statement_descriptor": None,
                "status": "enabled",
            },
            "settlement_timing": {
                "delay_days": stored["delay_days_override"] or 2,
                "delay_days_override": stored["delay_days_override"],
            },
        },
    }


@_validated(P.BalanceSettingsRetrieveParams)
def _retrieve_balance_settings(state: _State, request: RecordedRequest) -> Response:
    acct_id = _connected(state, request)
    if acct_id is None:
        return _no_account()
    return Response.json(200, balance_settings_object(state, acct_id))


@_validated(P.BalanceSettingsUpdateParams)
def _update_balance_settings(state: _State, request: RecordedRequest) -> Response:
    """``payments.payouts.schedule`` (weekdays only for weekly payouts, days 1-31
    for monthly) and ``payments.settlement_timing.delay_days_override`` (1-31, or
    ``""``: the country's minimum)."""
    acct_id = _connected(state, request)
    if acct_id is None:
        return _no_account()
    balance_settings_object(state, acct_id)
    stored = state.balance_settings[acct_id]
    payments = request.form.get("payments") or {}
    param = "payments[payouts][schedule]"
    given = ((payments.get("payouts") or {}).get("schedule")) or {}
    if given:
        interval = given.get("interval", "daily")
        if interval not in _INTERVALS:
            return _schedule_error(f"Invalid interval: must be one of {', '.join(_INTERVALS)}",
                                   f"{param}[interval]")
        schedule: dict[str, Any] = {"interval": interval}
        weekly, monthly = given.get("weekly_payout_days"), given.get("monthly_payout_days")
        if interval == "weekly":
            if not weekly or any(day not in _WEEKDAYS for day in weekly):
                return _schedule_error("weekly_payout_days (monday to friday) is required "
                                       "for a weekly schedule.", f"{param}[weekly_payout_days]")
            schedule["weekly_payout_days"] = list(weekly)
        elif interval == "monthly":
            if not monthly or any(not str(d).isdigit() or not 1 <= int(d) <= 31
                                  for d in monthly):
                return _schedule_error("monthly_payout_days (1 to 31) is required for a "
                                       "monthly schedule.", f"{param}[monthly_payout_days]")
            schedule["monthly_payout_days"] = [int(d) for d in monthly]
        elif weekly or monthly:
            return _schedule_error(f"Payout days are not allowed for a {interval} schedule.",
                                   param)
        stored["schedule"] = schedule
    timing = payments.get("settlement_timing") or {}
    if "delay_days_override" in timing:
        delay = timing["delay_days_override"]
        if delay == "":
            stored["delay_days_override"] = None
        elif not str(delay).isdigit() or not 1 <= int(delay) <= 31:
            return _schedule_error("The maximum value is 31.",
                                   "payments[settlement_timing][delay_days_override]")
        else:
            stored["delay_days_override"] = int(delay)
    return Response.json(200, balance_settings_object(state, acct_id))


ROUTES: _Routes = [
    ("GET", re.compile(r"/v1/payouts"), _list_payouts),
    ("GET", re.compile(r"/v1/payouts/(?P<payout>[^/]+)"), _retrieve_payout),
    ("POST", re.compile(r"/v1/payouts"), _create_payout),
    ("POST", re.compile(r"/v1/accounts/(?P<acct>[^/]+)"), _update_account),
    ("GET", re.compile(r"/v1/balance_settings"), _retrieve_balance_settings),
    ("POST", re.compile(r"/v1/balance_settings"), _update_balance_settings),
]
