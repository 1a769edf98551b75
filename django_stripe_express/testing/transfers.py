"""The platform's money: its balance, transfers to connected accounts, reversals.

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
"""

from __future__ import annotations

import copy
import re
from typing import Any

import stripe.params as P

from . import objects
from .api import _limit
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
    _event(state, "transfer.created", transfer)
    return Response.json(200, copy.deepcopy(transfer))


@_validated(P.TransferListParams)
def _list_transfers(state: _State, request: RecordedRequest) -> Response:
    query = request.query
    limit = _limit(query.get("limit"))
    if isinstance(limit, Response):
        return limit
    # Newest first, as Stripe lists them (creation order breaks ties).
    ordered = list(reversed(state.transfers.values()))
    for name in ("destination", "transfer_group"):
        if query.get(name):
            ordered = [t for t in ordered if t[name] == query[name]]
    ids = [t["id"] for t in ordered]
    start = 0
    after = query.get("starting_after")
    if after:
        if after not in ids:
            return api_error(400, f"No such transfer: '{after}'", code="resource_missing",
                             param="starting_after")
        start = ids.index(after) + 1
    page = ordered[start:start + limit]
    has_more = start + limit < len(ordered)
    return Response.json(200, objects._list_object(copy.deepcopy(page), "/v1/transfers",
                                                   has_more))


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
    reversal = {
        "id": objects._random_id("trr_", 24),
        "object": "transfer_reversal",
        "amount": amount,
        "balance_transaction": objects._random_id("txn_", 24),
        "created": objects.now(),
        "currency": found["currency"],
        "destination_payment_refund": objects._random_id("pyr_", 24),
        "metadata": dict(request.form.get("metadata") or {}),
        "source_refund": None,
        "transfer": transfer,
    }
    found["amount_reversed"] += amount
    found["reversed"] = found["amount_reversed"] >= found["amount"]
    found["reversals"]["data"].insert(0, reversal)
    balance_of(state, found["currency"])["available"] += amount
    _event(state, "transfer.reversed", found)
    return Response.json(200, copy.deepcopy(reversal))


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
]
