"""The platform's money: its balance, transfers to connected accounts, reversals,
destination charges (minimal PaymentIntents with ``transfer_data``) and refunds.

``POST /v1/transfers`` moves ``amount`` from the platform's *available*
balance in ``currency`` to the destination, as Stripe does for a transfer
without ``source_transaction``: short of funds, Stripe answers 400
``balance_insufficient`` (docs.stripe.com/connect/account-balances). With a
``source_transaction`` the transfer waits for that charge's funds at Stripe,
so the fake does not look at the balance. The destination must be an account
the platform reaches whose ``transfers`` capability (v2:
``stripe_balance.stripe_transfers``) is active. Idempotency is the server's,
as for every endpoint (`server.begin`).

Each transfer and reversal is also an event (``transfer.created``,
``transfer.reversed``, platform events: no ``account``), kept at
``/v1/events/{id}`` and forwarded when the fake forwards. ``GET /v1/balance``
answers the platform's balance; `FakeStripe.add_funds` and
`FakeStripe.make_funds_available` change it (the latter sends
``balance.available``).

``POST /v1/payment_intents`` makes a PaymentIntent waiting for its payment
method, or, with ``confirm=true`` and one of Stripe's test payment methods
(``pm_card_visa``; ``pm_card_chargeDeclined`` is declined, 402
``card_declined``), pays it at once, as ``POST
/v1/payment_intents/{id}/confirm`` does; `FakeStripe.succeed_payment_intent`
pays it as a customer would: the
charge, and with ``transfer_data`` the transfer to the destination (the amount
less ``application_fee_amount``, or ``transfer_data.amount``), with the events
``transfer.created``, ``charge.succeeded`` and ``payment_intent.succeeded``.
``POST /v1/refunds`` refunds a charge (by ``payment_intent`` or ``charge``);
``reverse_transfer`` reverses the destination's transfer in proportion
(``transfer.reversed``), then ``charge.refunded``.

A transfer lands in the destination's balance (`payouts.account_balance`):
``available`` for a transfer paid from the platform's balance, ``pending`` for
one tied to a charge (``source_transaction``, a destination charge); a
reversal takes it back from ``available``.
"""

from __future__ import annotations

import copy
import re
from typing import Any

import stripe.params as P

from . import objects
from .api import page
from .objects_v2 import V2_OBJECT
from .payouts import account_balance
from .schema import _validated
from .server import Response, _Routes, api_error
from .state import RecordedRequest, _State

#: Stripe's words for a platform whose available balance is short.
INSUFFICIENT_MESSAGE = (
    "You have insufficient available funds in your Stripe account. Try adding funds "
    "directly to your available balance by creating Charges using the 4000000000000077 "
    "test card. See: https://stripe.com/docs/testing#available-balance"
)


def _can_receive(account: dict[str, Any]) -> bool:
    if account.get("object") == V2_OBJECT:
        recipient = ((account.get("configuration") or {}).get("recipient") or {})
        balance = ((recipient.get("capabilities") or {}).get("stripe_balance") or {})
        return bool((balance.get("stripe_transfers") or {}).get("status") == "active")
    return bool((account.get("capabilities") or {}).get("transfers") == "active")


def balance_of(state: _State, currency: str) -> dict[str, int]:
    """The platform's balance in ``currency`` (created empty): ``available``, ``pending``."""
    return state.platform_balance.setdefault(currency, {"available": 0, "pending": 0})


def credit_account(state: _State, acct_id: str, amount: int, currency: str,
                   kind: str = "available") -> None:
    """Add ``amount`` (negative: take it) to the connected account's ``kind``
    balance, in the one currency the fake keeps per account (another is ignored)."""
    account = state.accounts.get(acct_id)
    if account is None:
        return
    stored = state.balances.setdefault(acct_id, {})
    held = (stored.get("currency") or account.get("default_currency") or "usd").lower()
    if currency.lower() != held:
        return
    stored["currency"] = held
    stored[kind] = int(stored.get(kind, 0)) + amount
    if kind == "available":
        stored["instant_available"] = min(int(stored.get("instant_available", 0)),
                                          stored["available"])


def transfer_object(params: dict[str, Any], destination: str) -> dict[str, Any]:
    transfer_id = objects._random_id("tr_", 24)
    return {
        "id": transfer_id,
        "object": "transfer",
        "amount": int(params["amount"]),
        "amount_reversed": 0,
        "balance_transaction": objects._random_id("txn_", 24),
        "created": objects.now(),
        "currency": str(params["currency"]).lower(),
        "description": params.get("description") or None,
        "destination": destination,
        "destination_payment": objects._random_id("py_", 24),
        "livemode": False,
        "metadata": dict(params.get("metadata") or {}),
        "reversals": objects._list_object([], f"/v1/transfers/{transfer_id}/reversals", False),
        "reversed": False,
        "source_transaction": params.get("source_transaction") or None,
        "source_type": "card",
        "transfer_group": params.get("transfer_group") or None,
    }


def _event(state: _State, type_: str, obj: dict[str, Any]) -> dict[str, Any]:
    """Keep a platform event about ``obj`` and forward it when the fake forwards."""
    event = objects.build_event(type_, obj)
    state.events[event["id"]] = event
    if state.forwarder is not None:
        state.forwarder.send(copy.deepcopy(event))
    return copy.deepcopy(event)


@_validated(P.TransferCreateParams)
def _create_transfer(state: _State, request: RecordedRequest) -> Response:
    params = request.form
    try:
        amount = int(params["amount"])
    except (KeyError, ValueError):
        return api_error(400, "Missing required param: amount.", code="parameter_missing",
                         param="amount")
    if amount < 1:
        return api_error(400, "This value must be greater than or equal to 1.",
                         code="parameter_invalid_integer", param="amount")
    currency = str(params.get("currency") or "").lower()
    if not re.fullmatch(r"[a-z]{3}", currency):
        return api_error(400, f"Invalid currency: {currency}.", code="parameter_invalid_empty"
                         if not currency else None, param="currency")
    destination = str(params.get("destination") or "")
    account = state.accounts.get(destination)
    if not destination or account is None or destination in state.deauthorized:
        return api_error(400, f"No such destination: '{destination}'",
                         code="resource_missing", param="destination")
    if not _can_receive(account):
        return api_error(
            400,
            "Your destination account needs to have at least one of the following "
            "capabilities enabled: transfers, crypto_transfers, legacy_payments",
            code="insufficient_capabilities_for_transfer", param="destination",
        )
    if not params.get("source_transaction"):
        funds = balance_of(state, currency)
        if funds["available"] < amount:
            return api_error(400, INSUFFICIENT_MESSAGE, code="balance_insufficient")
        funds["available"] -= amount
    transfer = transfer_object(params, destination)
    state.transfers[transfer["id"]] = transfer
    credit_account(state, destination, amount, currency,
                   "pending" if params.get("source_transaction") else "available")
    _event(state, "transfer.created", transfer)
    return Response.json(200, copy.deepcopy(transfer))


@_validated(P.TransferListParams)
def _list_transfers(state: _State, request: RecordedRequest) -> Response:
    query = request.query
    # Newest first, as Stripe lists them (creation order breaks ties).
    ordered = list(reversed(state.transfers.values()))
    for name in ("destination", "transfer_group"):
        if query.get(name):
            ordered = [t for t in ordered if t[name] == query[name]]
    return page(ordered, query, "/v1/transfers", "transfer")


def _no_such_transfer(transfer: str) -> Response:
    return api_error(404, f"No such transfer: '{transfer}'", code="resource_missing", param="id")


@_validated(P.TransferRetrieveParams)
def _retrieve_transfer(state: _State, request: RecordedRequest, transfer: str) -> Response:
    found = state.transfers.get(transfer)
    if found is None:
        return _no_such_transfer(transfer)
    return Response.json(200, copy.deepcopy(found))


@_validated(P.TransferCreateReversalParams)
def _create_reversal(state: _State, request: RecordedRequest, transfer: str) -> Response:
    found = state.transfers.get(transfer)
    if found is None:
        return _no_such_transfer(transfer)
    rest = found["amount"] - found["amount_reversed"]
    try:
        amount = int(request.form.get("amount", rest))
    except ValueError:
        return api_error(400, "Invalid integer", code="parameter_invalid_integer",
                         param="amount")
    if amount < 1 or amount > rest:
        return api_error(
            400,
            f"Transfer {transfer} has only {rest} left to reverse, the reversal asked "
            f"for {amount}.",
            code="parameter_invalid_integer" if amount < 1 else None, param="amount",
        )
    reversal = _reverse(state, found, amount, dict(request.form.get("metadata") or {}))
    return Response.json(200, copy.deepcopy(reversal))


def _reverse(state: _State, found: dict[str, Any], amount: int, metadata: dict[str, Any],
             source_refund: str | None = None) -> dict[str, Any]:
    """Reverse ``amount`` of the transfer ``found``: the reversal, and its event."""
    transfer = found["id"]
    reversal = {
        "id": objects._random_id("trr_", 24),
        "object": "transfer_reversal",
        "amount": amount,
        "balance_transaction": objects._random_id("txn_", 24),
        "created": objects.now(),
        "currency": found["currency"],
        "destination_payment_refund": objects._random_id("pyr_", 24),
        "metadata": metadata,
        "source_refund": source_refund,
        "transfer": transfer,
    }
    found["amount_reversed"] += amount
    found["reversed"] = found["amount_reversed"] >= found["amount"]
    found["reversals"]["data"].insert(0, reversal)
    balance_of(state, found["currency"])["available"] += amount
    credit_account(state, found["destination"], -amount, found["currency"])
    _event(state, "transfer.reversed", found)
    return reversal


def _flag(value: Any, default: bool) -> bool:
    """A boolean form parameter (``true`` / ``false``)."""
    return default if value is None else str(value).lower() == "true"


@_validated(P.PaymentIntentCreateParams)
def _create_payment_intent(state: _State, request: RecordedRequest) -> Response:
    params = request.form
    try:
        amount = int(params["amount"])
    except (KeyError, ValueError):
        return api_error(400, "Missing required param: amount.", code="parameter_missing",
                         param="amount")
    currency = str(params.get("currency") or "").lower()
    if amount < 1 or not re.fullmatch(r"[a-z]{3}", currency):
        return api_error(400, "Invalid amount or currency.", code="parameter_invalid_integer",
                         param="amount" if amount < 1 else "currency")
    transfer_data = params.get("transfer_data") or None
    fee = params.get("application_fee_amount")
    if transfer_data is not None:
        destination = str(transfer_data.get("destination") or "")
        if destination not in state.accounts or destination in state.deauthorized:
            return api_error(400, f"No such destination: '{destination}'",
                             code="resource_missing", param="transfer_data[destination]")
        if "amount" in transfer_data:
            transfer_data = {**transfer_data, "amount": int(transfer_data["amount"])}
        transfer_data = {"amount": None, **transfer_data}
    elif fee is not None:
        return api_error(400, "Can only apply an application_fee_amount when the "
                         "PaymentIntent is attempting a direct payment (using an OAuth key or "
                         "Stripe-Account header) or destination payment (using "
                         "`transfer_data[destination]`).", param="application_fee_amount")
    intent_id = objects._random_id("pi_", 24)
    intent = {
        "id": intent_id,
        "object": "payment_intent",
        "amount": amount,
        "amount_capturable": 0,
        "amount_received": 0,
        "application_fee_amount": int(fee) if fee is not None else None,
        "capture_method": "automatic",
        "client_secret": f"{intent_id}_secret_{objects._random_id('', 24)}",
        "confirmation_method": "automatic",
        "created": objects.now(),
        "currency": currency,
        "description": params.get("description") or None,
        "latest_charge": None,
        "livemode": False,
        "metadata": dict(params.get("metadata") or {}),
        "on_behalf_of": params.get("on_behalf_of") or None,
        "payment_method": None,
        "payment_method_types": ["card"],
        "status": "requires_payment_method",
        "transfer_data": transfer_data,
        "transfer_group": params.get("transfer_group") or None,
    }
    state.payment_intents[intent_id] = intent
    if _flag(params.get("confirm"), False):
        return _confirm(state, intent_id, params.get("payment_method"))
    return Response.json(200, copy.deepcopy(intent))


#: Stripe's test payment methods the fake pays with (docs.stripe.com/testing).
TEST_PAYMENT_METHODS = frozenset({"pm_card_visa", "pm_card_mastercard", "pm_card_amex",
                                  "pm_card_us"})
#: The test payment method whose charge the bank declines.
DECLINED_PAYMENT_METHOD = "pm_card_chargeDeclined"


def _confirm(state: _State, intent_id: str, payment_method: Any) -> Response:
    """Pay the PaymentIntent with a test payment method, as the customer's
    confirmation does: it succeeds at once (`succeed_payment_intent`), or is
    declined (402 ``card_declined``, the intent left waiting for another)."""
    intent = state.payment_intents[intent_id]
    method = str(payment_method or intent.get("payment_method") or "")
    if intent["status"] == "succeeded":
        return api_error(400, "This PaymentIntent's status is succeeded, so it cannot be "
                         "confirmed.", code="payment_intent_unexpected_state")
    if method == DECLINED_PAYMENT_METHOD:
        return api_error(402, "Your card was declined.", code="card_declined",
                         type_="card_error")
    if method not in TEST_PAYMENT_METHODS:
        return api_error(400, f"No such PaymentMethod: '{method}'" if method else
                         "You cannot confirm this PaymentIntent because it's missing a "
                         "payment method.", code="resource_missing" if method else
                         "payment_intent_unexpected_state", param="payment_method")
    intent["payment_method"] = method
    succeed_payment_intent(state, intent_id)
    return Response.json(200, copy.deepcopy(state.payment_intents[intent_id]))


@_validated(P.PaymentIntentConfirmParams)
def _confirm_payment_intent(state: _State, request: RecordedRequest, intent: str) -> Response:
    if intent not in state.payment_intents:
        return api_error(404, f"No such payment_intent: '{intent}'", code="resource_missing",
                         param="intent")
    return _confirm(state, intent, request.form.get("payment_method"))


@_validated(P.PaymentIntentRetrieveParams)
def _retrieve_payment_intent(state: _State, request: RecordedRequest, intent: str) -> Response:
    found = state.payment_intents.get(intent)
    if found is None:
        return api_error(404, f"No such payment_intent: '{intent}'", code="resource_missing",
                         param="intent")
    answer = copy.deepcopy(found)
    if "latest_charge" in (request.query.get("expand") or []) and answer["latest_charge"]:
        answer["latest_charge"] = copy.deepcopy(state.charges[answer["latest_charge"]])
    return Response.json(200, answer)


def succeed_payment_intent(state: _State, intent_id: str) -> list[dict[str, Any]]:
    """The customer pays PaymentIntent ``intent_id``: its charge, and for a destination
    charge the transfer (the platform keeps the fee, pending). The events made
    (``transfer.created``, ``charge.succeeded``, ``payment_intent.succeeded``),
    kept and forwarded. Call with the state's lock held."""
    intent = state.payment_intents[intent_id]
    if intent["status"] == "succeeded":
        raise ValueError(f"{intent_id} has already succeeded")
    charge_id = objects._random_id("ch_", 24)
    fee = intent["application_fee_amount"]
    charge = {
        "id": charge_id,
        "object": "charge",
        "amount": intent["amount"],
        "amount_captured": intent["amount"],
        "amount_refunded": 0,
        "application_fee": objects._random_id("fee_", 24) if fee else None,
        "application_fee_amount": fee,
        "balance_transaction": objects._random_id("txn_", 24),
        "billing_details": {"address": None, "email": None, "name": None, "phone": None,
                            "tax_id": None},
        "captured": True,
        "created": objects.now(),
        "currency": intent["currency"],
        "description": intent["description"],
        "disputed": False,
        "livemode": False,
        "metadata": dict(intent["metadata"]),
        "on_behalf_of": intent["on_behalf_of"],
        "paid": True,
        "payment_intent": intent_id,
        "refunded": False,
        "status": "succeeded",
        "transfer": None,
        "transfer_data": copy.deepcopy(intent["transfer_data"]),
        "transfer_group": intent["transfer_group"],
    }
    events = []
    data = intent["transfer_data"]
    funds = balance_of(state, intent["currency"])
    if data:
        share = data["amount"] if data["amount"] is not None else intent["amount"] - (fee or 0)
        transfer = transfer_object(
            {"amount": share, "currency": intent["currency"], "source_transaction": charge_id,
             "transfer_group": intent["transfer_group"]}, data["destination"])
        state.transfers[transfer["id"]] = transfer
        credit_account(state, data["destination"], share, intent["currency"], "pending")
        charge["transfer"] = transfer["id"]
        funds["pending"] += intent["amount"] - share
        events.append(_event(state, "transfer.created", transfer))
    else:
        funds["pending"] += intent["amount"]
    state.charges[charge_id] = charge
    intent.update(status="succeeded", amount_received=intent["amount"],
                  latest_charge=charge_id)
    events.append(_event(state, "charge.succeeded", charge))
    events.append(_event(state, "payment_intent.succeeded", intent))
    return events


@_validated(P.RefundCreateParams)
def _create_refund(state: _State, request: RecordedRequest) -> Response:
    params = request.form
    charge_id = str(params.get("charge") or "")
    intent_id = str(params.get("payment_intent") or "")
    if intent_id:
        intent = state.payment_intents.get(intent_id)
        if intent is None:
            return api_error(400, f"No such payment_intent: '{intent_id}'",
                             code="resource_missing", param="payment_intent")
        charge_id = intent["latest_charge"] or ""
        if not charge_id:
            return api_error(400, f"This PaymentIntent ({intent_id}) does not have a "
                             "successful charge to refund.", param="payment_intent")
    charge = state.charges.get(charge_id)
    if charge is None:
        return api_error(400, f"No such charge: '{charge_id}'", code="resource_missing",
                         param="charge")
    left = charge["amount"] - charge["amount_refunded"]
    if left <= 0:
        return api_error(400, f"Charge {charge_id} has already been refunded.",
                         code="charge_already_refunded")
    try:
        amount = int(params.get("amount", left))
    except ValueError:
        return api_error(400, "Invalid integer", code="parameter_invalid_integer",
                         param="amount")
    if amount < 1 or amount > left:
        return api_error(400, f"Refund amount ({amount}) is greater than unrefunded amount "
                         f"on charge ({left})", param="amount")
    refund_id = objects._random_id("re_", 24)
    reversal = None
    transfer = state.transfers.get(charge["transfer"] or "")
    if transfer is not None and _flag(params.get("reverse_transfer"), False):
        # In proportion to the refund, as Stripe reverses it, never more than is left.
        share = transfer["amount"] * amount // charge["amount"]
        share = min(share, transfer["amount"] - transfer["amount_reversed"])
        if share > 0:
            reversal = _reverse(state, transfer, share, {}, source_refund=refund_id)
    charge["amount_refunded"] += amount
    charge["refunded"] = charge["amount_refunded"] >= charge["amount"]
    balance_of(state, charge["currency"])["available"] -= amount
    refund = {
        "id": refund_id,
        "object": "refund",
        "amount": amount,
        "balance_transaction": objects._random_id("txn_", 24),
        "charge": charge_id,
        "created": objects.now(),
        "currency": charge["currency"],
        "metadata": dict(params.get("metadata") or {}),
        "payment_intent": charge["payment_intent"],
        "reason": params.get("reason") or None,
        "status": "succeeded",
        "transfer_reversal": reversal["id"] if reversal else None,
    }
    state.refunds[refund_id] = refund
    _event(state, "charge.refunded", charge)
    return Response.json(200, copy.deepcopy(refund))


@_validated(P.RefundListParams)
def _list_refunds(state: _State, request: RecordedRequest) -> Response:
    listed = list(reversed(state.refunds.values()))
    for name in ("payment_intent", "charge"):
        if request.query.get(name):
            listed = [r for r in listed if r[name] == request.query[name]]
    return page(listed, request.query, "/v1/refunds")


@_validated(P.TransferListReversalsParams)
def _list_reversals(state: _State, request: RecordedRequest, transfer: str) -> Response:
    found = state.transfers.get(transfer)
    if found is None:
        return _no_such_transfer(transfer)
    return page(found["reversals"]["data"], request.query,
                 f"/v1/transfers/{transfer}/reversals")


@_validated(P.BalanceRetrieveParams)
def _retrieve_balance(state: _State, request: RecordedRequest) -> Response:
    # For a connected account (``Stripe-Account``): that account's balance.
    acct_id = request.header("Stripe-Account")
    if acct_id:
        if acct_id not in state.accounts:
            return api_error(403, "The provided key does not have access to account.",
                             code="account_invalid")
        return Response.json(200, account_balance(state, acct_id))
    return Response.json(200, balance_object(state))


def balance_object(state: _State) -> dict[str, Any]:
    """The platform's Balance, in Stripe's shape (at least USD, as a new account's)."""
    currencies = sorted(state.platform_balance) or ["usd"]
    funds = {c: balance_of(state, c) for c in currencies}

    def amounts(kind: str) -> list[dict[str, Any]]:
        return [
            {"amount": funds[c][kind], "currency": c, "source_types": {"card": funds[c][kind]}}
            for c in currencies
        ]

    return {
        "object": "balance",
        "available": amounts("available"),
        "connect_reserved": [
            {"amount": 0, "currency": c, "source_types": {"card": 0}} for c in currencies
        ],
        "livemode": False,
        "pending": amounts("pending"),
    }


def make_funds_available(state: _State, currency: str | None = None) -> dict[str, Any]:
    """Pending funds become available (all currencies, or one); ``balance.available``
    is kept and forwarded. Call with the state's lock held."""
    for code, funds in state.platform_balance.items():
        if currency is None or code == currency.lower():
            funds["available"] += funds["pending"]
            funds["pending"] = 0
    return _event(state, "balance.available", balance_object(state))


_TRANSFER = r"(?P<transfer>[^/]+)"

ROUTES: _Routes = [
    ("POST", re.compile(r"/v1/transfers"), _create_transfer),
    ("GET", re.compile(r"/v1/transfers"), _list_transfers),
    ("GET", re.compile(rf"/v1/transfers/{_TRANSFER}"), _retrieve_transfer),
    ("POST", re.compile(rf"/v1/transfers/{_TRANSFER}/reversals"), _create_reversal),
    ("GET", re.compile(r"/v1/balance"), _retrieve_balance),
    ("POST", re.compile(r"/v1/payment_intents"), _create_payment_intent),
    ("GET", re.compile(r"/v1/payment_intents/(?P<intent>[^/]+)"), _retrieve_payment_intent),
    ("POST", re.compile(r"/v1/payment_intents/(?P<intent>[^/]+)/confirm"),
     _confirm_payment_intent),
    ("POST", re.compile(r"/v1/refunds"), _create_refund),
    ("GET", re.compile(r"/v1/refunds"), _list_refunds),
    ("GET", re.compile(rf"/v1/transfers/{_TRANSFER}/reversals"), _list_reversals),
]
