"""The fake's money: the platform balance, /v1/transfers, reversals, dropped answers.

Through the real stripe library; every answer checked against stripe 16's types.
"""

from __future__ import annotations

import pytest
import stripe

from django_stripe_express.testing import FakeStripe
from django_stripe_express.testing.transfers import INSUFFICIENT_MESSAGE

from .stripe_types import problems


@pytest.fixture
def acct(fake_stripe: FakeStripe) -> str:
    account = fake_stripe.create_account()
    fake_stripe.complete_onboarding(account["id"])
    return str(account["id"])


def create(client: stripe.StripeClient, acct: str, amount: int = 500, **more: object) -> object:
    return client.v1.transfers.create(
        {"amount": amount, "currency": "usd", "destination": acct, **more},  # type: ignore[typeddict-item]
        {"idempotency_key": f"k-{amount}-{sorted(more.items())}"},
    )


def test_a_transfer_takes_the_available_balance_and_fits_stripes_types(
    fake_stripe: FakeStripe, fake_stripe_client: stripe.StripeClient, acct: str
) -> None:
    fake_stripe.add_funds(1000)
    made = create(fake_stripe_client, acct, transfer_group="order:1", metadata={"k": "v"})

    assert isinstance(made, stripe.Transfer)
    assert problems(made, stripe.Transfer) == []
    assert (made.amount, made.destination, made.transfer_group, made.metadata.to_dict()) == (
        500, acct, "order:1", {"k": "v"})
    assert fake_stripe.balance("usd") == {"available": 500, "pending": 0}
    assert fake_stripe_client.v1.transfers.retrieve(made.id).id == made.id
    balance = fake_stripe_client.v1.balance.retrieve()
    assert problems(balance, stripe.Balance) == []
    assert [(b.amount, b.currency) for b in balance.available] == [(500, "usd")]


def test_a_short_balance_is_balance_insufficient_as_stripe_answers(
    fake_stripe: FakeStripe, fake_stripe_client: stripe.StripeClient, acct: str
) -> None:
    fake_stripe.add_funds(100)
    fake_stripe.add_funds(10_000, pending=True)  # pending funds do not count
    with pytest.raises(stripe.InvalidRequestError) as caught:
        create(fake_stripe_client, acct, 500)
    error = caught.value.error
    assert error is not None
    assert problems(error, stripe.ErrorObject) == []
    assert (caught.value.http_status, error.type, error.code, error.message) == (
        400, "invalid_request_error", "balance_insufficient", INSUFFICIENT_MESSAGE)
    assert fake_stripe.transfers_made() == []
    # A source_transaction waits for its charge's funds at Stripe instead.
    made = create(fake_stripe_client, acct, 500, source_transaction="ch_123")
    assert made.source_transaction == "ch_123"  # type: ignore[attr-defined]


def test_funds_made_available_send_balance_available(
    fake_stripe: FakeStripe, fake_stripe_client: stripe.StripeClient, acct: str
) -> None:
    fake_stripe.add_funds(700, pending=True)
    event = fake_stripe.make_funds_available()
    assert event["type"] == "balance.available"
    assert "account" not in event  # a platform event
    assert event["data"]["object"]["available"][0]["amount"] == 700
    assert fake_stripe.balance("usd") == {"available": 700, "pending": 0}
    assert create(fake_stripe_client, acct, 700).amount == 700  # type: ignore[attr-defined]


def test_a_destination_without_transfers_or_unknown_is_refused(
    fake_stripe: FakeStripe, fake_stripe_client: stripe.StripeClient
) -> None:
    fake_stripe.add_funds(1000)
    new = fake_stripe.create_account()["id"]
    with pytest.raises(stripe.InvalidRequestError) as caught:
        create(fake_stripe_client, new)
    assert caught.value.code == "insufficient_capabilities_for_transfer"
    with pytest.raises(stripe.InvalidRequestError) as unknown:
        create(fake_stripe_client, "acct_nobody")
    assert unknown.value.code == "resource_missing"


def test_the_list_filters_by_destination_and_transfer_group(
    fake_stripe: FakeStripe, fake_stripe_client: stripe.StripeClient, acct: str
) -> None:
    fake_stripe.add_funds(10_000)
    other = fake_stripe.create_account()["id"]
    fake_stripe.complete_onboarding(other)
    a = create(fake_stripe_client, acct, 100, transfer_group="g1")
    b = create(fake_stripe_client, other, 200, transfer_group="g1")
    create(fake_stripe_client, acct, 300, transfer_group="g2")

    by_group = fake_stripe_client.v1.transfers.list({"transfer_group": "g1"})
    assert [t.id for t in by_group.data] == [b.id, a.id]  # type: ignore[attr-defined]
    by_destination = fake_stripe_client.v1.transfers.list({"destination": other})
    assert [t.id for t in by_destination.data] == [b.id]  # type: ignore[attr-defined]
    for listed in by_group.data:
        assert problems(listed, stripe.Transfer) == []


def test_a_dropped_answer_is_made_once_and_replayed_for_its_key(
    fake_stripe: FakeStripe, fake_stripe_client: stripe.StripeClient, acct: str
) -> None:
    fake_stripe.add_funds(1000)
    fake_stripe.drop_after_commit("POST /v1/transfers")
    params = {"amount": 400, "currency": "usd", "destination": acct}
    with pytest.raises(stripe.APIConnectionError):
        fake_stripe_client.v1.transfers.create(params, {"idempotency_key": "same"})  # type: ignore[arg-type]
    again = fake_stripe_client.v1.transfers.create(params, {"idempotency_key": "same"})  # type: ignore[arg-type]
    assert [t["id"] for t in fake_stripe.transfers_made()] == [again.id]
    assert fake_stripe.balance("usd")["available"] == 600
    # "24 hours later": Stripe forgot the key, the same key is a new request.
    fake_stripe.forget_idempotency_keys()
    fake_stripe_client.v1.transfers.create(params, {"idempotency_key": "same"})  # type: ignore[arg-type]
    assert len(fake_stripe.transfers_made()) == 2


def test_a_share_of_answers_is_dropped_and_counted(
    fake_stripe: FakeStripe, fake_stripe_client: stripe.StripeClient, acct: str
) -> None:
    fake_stripe.add_funds(10**6)
    fake_stripe.drop_after_commit("POST /v1/transfers", times=10**6, chance=0.25, seed=7)
    lost = 0
    for n in range(200):
        params = {"amount": 1, "currency": "usd", "destination": acct}
        try:
            fake_stripe_client.v1.transfers.create(params, {"idempotency_key": f"k{n}"})  # type: ignore[arg-type]
        except stripe.APIConnectionError:
            lost += 1
    assert fake_stripe.dropped == lost
    assert 25 < lost < 75  # about a quarter
    assert len(fake_stripe.transfers_made()) == 200  # each made, answered or not
    fake_stripe.reset()
    assert (fake_stripe.dropped, fake_stripe.drops) == (0, [])
    with pytest.raises(ValueError, match="probability"):
        fake_stripe.drop_after_commit("POST /v1/transfers", chance=0)


def test_reversals_return_the_funds_and_build_transfer_reversed(
    fake_stripe: FakeStripe, fake_stripe_client: stripe.StripeClient, acct: str
) -> None:
    fake_stripe.add_funds(1000)
    made = create(fake_stripe_client, acct, 1000)
    reversal = fake_stripe_client.v1.transfers.reversals.create(  # type: ignore[attr-defined]
        made.id, {"amount": 300}, {"idempotency_key": "rev-1"})
    assert problems(reversal, stripe.TransferReversal) == []
    rest = fake_stripe_client.v1.transfers.reversals.create(  # type: ignore[attr-defined]
        made.id, {}, {"idempotency_key": "rev-2"})
    assert rest.amount == 700
    transfer = fake_stripe_client.v1.transfers.retrieve(made.id)  # type: ignore[attr-defined]
    assert (transfer.amount_reversed, transfer.reversed) == (1000, True)
    assert fake_stripe.balance("usd")["available"] == 1000
    with pytest.raises(stripe.InvalidRequestError):
        fake_stripe_client.v1.transfers.reversals.create(  # type: ignore[attr-defined]
            made.id, {"amount": 1}, {"idempotency_key": "rev-3"})
    types = [e["type"] for e in fake_stripe.events.values()]
    assert types == ["transfer.created", "transfer.reversed", "transfer.reversed"]


def _account_balance(client: stripe.StripeClient, acct: str) -> dict[str, int]:
    found = client.v1.balance.retrieve(options={"stripe_account": acct})
    return {kind: getattr(found, kind)[0].amount
            for kind in ("available", "pending", "instant_available")}


def test_a_transfer_lands_in_the_destination_s_balance_and_a_reversal_takes_it_back(
    fake_stripe: FakeStripe, fake_stripe_client: stripe.StripeClient, acct: str
) -> None:
    fake_stripe.add_funds(1000)
    made = create(fake_stripe_client, acct, 600)
    tied = create(fake_stripe_client, acct, 200, source_transaction="ch_tied")
    assert (made.amount, tied.amount) == (600, 200)
    assert _account_balance(fake_stripe_client, acct) == {
        "available": 600, "pending": 200, "instant_available": 0}

    fake_stripe_client.v1.transfers.reversals.create(made.id, {"amount": 100})
    assert _account_balance(fake_stripe_client, acct)["available"] == 500


def test_a_payment_intent_confirmed_with_a_test_card_pays_its_destination_at_once(
    fake_stripe: FakeStripe, fake_stripe_client: stripe.StripeClient, acct: str
) -> None:
    intent = fake_stripe_client.v1.payment_intents.create({
        "amount": 2500, "currency": "usd", "payment_method": "pm_card_visa", "confirm": True,
        "application_fee_amount": 250, "transfer_data": {"destination": acct},
    })

    assert problems(intent, stripe.PaymentIntent) == []
    assert (intent.status, intent.amount_received, intent.payment_method) == (
        "succeeded", 2500, "pm_card_visa")
    (transfer,) = fake_stripe.transfers_made()
    assert (transfer["amount"], transfer["destination"]) == (2250, acct)
    assert _account_balance(fake_stripe_client, acct)["pending"] == 2250
    types = [e["type"] for e in fake_stripe.events.values()][-3:]
    assert types == ["transfer.created", "charge.succeeded", "payment_intent.succeeded"]
    with pytest.raises(stripe.InvalidRequestError, match="succeeded"):
        fake_stripe_client.v1.payment_intents.confirm(intent.id, {"payment_method": "pm_card_visa"})


def test_confirm_declines_stripe_s_declined_test_card_and_refuses_unknown_methods(
    fake_stripe: FakeStripe, fake_stripe_client: stripe.StripeClient, acct: str
) -> None:
    intent = fake_stripe_client.v1.payment_intents.create({"amount": 900, "currency": "usd"})
    with pytest.raises(stripe.CardError) as declined:
        fake_stripe_client.v1.payment_intents.confirm(
            intent.id, {"payment_method": "pm_card_chargeDeclined"})
    assert (declined.value.http_status, declined.value.code) == (402, "card_declined")
    with pytest.raises(stripe.InvalidRequestError, match="No such PaymentMethod"):
        fake_stripe_client.v1.payment_intents.confirm(intent.id, {"payment_method": "pm_nope"})
    assert fake_stripe_client.v1.payment_intents.retrieve(intent.id).status == (
        "requires_payment_method")

    paid = fake_stripe_client.v1.payment_intents.confirm(
        intent.id, {"payment_method": "pm_card_mastercard"})
    assert paid.status == "succeeded"
    assert fake_stripe.transfers_made() == []  # no transfer_data: the platform's own
