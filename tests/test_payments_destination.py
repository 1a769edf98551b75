"""Destination charges: the parameters, the transfer Stripe makes recorded once in
the user's ledger, and refunds (``reverse_transfer``) kept in step."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from django.test import TestCase
from django.utils import timezone

from django_stripe_express import payments, signals
from django_stripe_express.models import ExpressAccount, Transfer, TransferReversal, WebhookEvent
from django_stripe_express.payments.transfers import REFERENCE_KEY

from .factories import ExpressAccountFactory, UserFactory
from .payments_support import payable_account

Status = Transfer.Status


@pytest.fixture
def payee(fake_stripe, db) -> ExpressAccount:
    return payable_account(fake_stripe)


def paid(fake_stripe, fake_stripe_client, payee, amount=2000, fee=300, **more: Any):
    """A customer pays a destination charge to ``payee``: the PaymentIntent, and
    the events Stripe sends (transfer.created, charge.succeeded, payment_intent.succeeded)."""
    params = payments.destination_charge_params(
        payee.user, amount, "usd", application_fee_amount=fee, **more)
    intent = fake_stripe_client.v1.payment_intents.create(
        {"amount": amount, "currency": "usd", **params})
    return intent, {e["type"]: e for e in fake_stripe.succeed_payment_intent(intent.id)}


def test_the_params_make_a_destination_charge(fake_stripe, fake_stripe_client, payee):
    params = payments.destination_charge_params(
        payee.user, 2000, "USD", application_fee_amount=300, transfer_group="order:5")

    assert params == {"transfer_data": {"destination": payee.stripe_id},
                      "application_fee_amount": 300, "transfer_group": "order:5"}
    intent = fake_stripe_client.v1.payment_intents.create(
        {"amount": 2000, "currency": "usd", **params})
    fake_stripe.succeed_payment_intent(intent.id)
    made = fake_stripe.transfers_made()
    assert [(t["amount"], t["destination"], t["transfer_group"]) for t in made] == [
        (1700, payee.stripe_id, "order:5")]


def test_a_user_who_cannot_receive_transfers_is_refused(fake_stripe, db):
    onboarding = payable_account(fake_stripe, onboarding=True)
    with pytest.raises(payments.NotPayable, match="can receive transfers"):
        payments.destination_charge_params(onboarding.user, 100, "usd")
    with pytest.raises(payments.NotPayable):
        payments.destination_charge_params(UserFactory(), 100, "usd")


@pytest.mark.parametrize(
    ("api", "capabilities"),
    [("v1", {"transfers": "active"}),
     ("v1", {"transfers": "active", "card_payments": "inactive"}),
     ("v2", {"stripe_balance.stripe_transfers": "active", "card_payments": "restricted"})],
)
def test_on_behalf_of_needs_the_merchant_capability(db, api, capabilities):
    account = ExpressAccountFactory(accounts_api=api, capabilities=capabilities)
    assert account.can_receive_transfers
    with pytest.raises(payments.NoCardPayments, match="card_payments"):
        payments.destination_charge_params(account.user, 100, "usd", on_behalf_of=True)
    # Without on_behalf_of the platform is the merchant: allowed.
    assert payments.destination_charge_params(account.user, 100, "usd")


@pytest.mark.parametrize("api", ["v1", "v2"])
def test_on_behalf_of_with_card_payments_names_the_account(db, api):
    transfers = "transfers" if api == "v1" else "stripe_balance.stripe_transfers"
    account = ExpressAccountFactory(
        accounts_api=api, capabilities={transfers: "active", "card_payments": "active"})
    params = payments.destination_charge_params(account.user, 100, "usd", on_behalf_of=True)
    assert params["on_behalf_of"] == account.stripe_id


@pytest.mark.parametrize("fee", [-1, 101, 1.5, True])
def test_a_fee_stripe_would_refuse_is_refused(payee, fee):
    with pytest.raises(payments.InvalidPayment):
        payments.destination_charge_params(payee.user, 100, "usd", application_fee_amount=fee)


def test_the_payments_transfer_is_recorded_once_from_its_events(
    fake_stripe, fake_stripe_client, client, payee, capture_signal
):
    sent = capture_signal(signals.transfer_sent)
    intent, events = paid(fake_stripe, fake_stripe_client, payee, transfer_group="order:6")
    # Both events, each twice, in any order.
    for kind in ("payment_intent.succeeded", "charge.succeeded", "payment_intent.succeeded",
                 "charge.succeeded", "transfer.created"):
        assert fake_stripe.deliver(client, events[kind]).status_code == 200

    transfer = Transfer.objects.get()
    made = fake_stripe.transfers_made()[0]
    assert transfer.reference == f"payment_intent:{intent.id}"
    assert (transfer.user, transfer.account, transfer.status) == (payee.user, payee, Status.SENT)
    assert (transfer.amount, transfer.currency, transfer.stripe_id) == (1700, "usd", made["id"])
    assert transfer.payment_intent == intent.id
    assert transfer.source_transaction == made["source_transaction"]
    assert transfer.transfer_group == "order:6"
    assert [s["transfer"].pk for s in sent] == [transfer.pk]
    assert WebhookEvent.objects.filter(type="charge.succeeded").count() == 1
    # The user's ledger: this payment with their separate transfers.
    assert list(payee.user.stripe_express_transfers.all()) == [transfer]


def test_the_charge_event_alone_records_it_with_its_transfer(
    fake_stripe, fake_stripe_client, client, payee
):
    intent, events = paid(fake_stripe, fake_stripe_client, payee)
    fake_stripe.deliver(client, events["charge.succeeded"])
    transfer = Transfer.objects.get()
    assert (transfer.payment_intent, transfer.stripe_id) == (
        intent.id, fake_stripe.transfers_made()[0]["id"])


def test_a_payment_without_transfer_data_or_to_an_unknown_account_records_nothing(
    fake_stripe, fake_stripe_client, client, db
):
    plain = fake_stripe_client.v1.payment_intents.create({"amount": 500, "currency": "usd"})
    stranger = fake_stripe.create_account()["id"]
    fake_stripe.complete_onboarding(stranger)
    theirs = fake_stripe_client.v1.payment_intents.create(
        {"amount": 500, "currency": "usd", "transfer_data": {"destination": stranger}})
    for intent in (plain, theirs):
        for event in fake_stripe.succeed_payment_intent(intent.id):
            assert fake_stripe.deliver(client, event).status_code == 200
    assert Transfer.objects.count() == 0


def recorded(fake_stripe, fake_stripe_client, client, payee, **kwargs: Any):
    intent, events = paid(fake_stripe, fake_stripe_client, payee, **kwargs)
    fake_stripe.deliver(client, events["charge.succeeded"])
    return intent, Transfer.objects.get(payment_intent=intent.id)


def refund_committed(*args: Any, **kwargs: Any) -> TransferReversal:
    with TestCase.captureOnCommitCallbacks(execute=True):
        row = payments.refund(*args, **kwargs)
    return TransferReversal.objects.get(pk=row.pk)


def test_a_refund_reverses_the_users_share_in_proportion_once(
    fake_stripe, fake_stripe_client, client, payee, capture_signal
):
    reversed_ = capture_signal(signals.transfer_reversed)
    intent, transfer = recorded(fake_stripe, fake_stripe_client, client, payee)

    row = refund_committed(intent.id, 1000, reference="return:1")
    again = refund_committed(intent, 1000, reference="return:1")  # the object works too

    assert again.pk == row.pk
    assert (row.kind, row.status, row.stripe_id[:3]) == ("refund", "done", "re_")
    posts = fake_stripe.requests_to("/v1/refunds", "POST")
    assert len(posts) == 1
    assert posts[0].header("Idempotency-Key") == row.idempotency_key
    assert posts[0].form["reverse_transfer"] == "true"
    assert posts[0].form["refund_application_fee"] == "true"
    assert posts[0].form["metadata"] == {REFERENCE_KEY: "return:1"}
    assert fake_stripe.charges_made()[0]["amount_refunded"] == 1000
    transfer.refresh_from_db()
    assert transfer.amount_reversed == 850  # half the charge: half of the 1700 transfer
    # Stripe's events come later, twice: nothing changes.
    for event in [e for e in fake_stripe.events.values()
                  if e["type"] in ("transfer.reversed", "charge.refunded")] * 2:
        assert fake_stripe.deliver(client, event).status_code == 200
    transfer.refresh_from_db()
    assert transfer.amount_reversed == 850
    assert [r["amount"] for r in reversed_] == [850]


def test_the_refunds_events_alone_keep_amount_reversed(
    fake_stripe, fake_stripe_client, client, payee
):
    intent, transfer = recorded(fake_stripe, fake_stripe_client, client, payee)
    # Refunded from the Dashboard: only the events tell.
    fake_stripe_client.v1.refunds.create({"payment_intent": intent.id, "amount": 400,
                                          "reverse_transfer": True})
    refunded = [e for e in fake_stripe.events.values() if e["type"] == "charge.refunded"]
    assert fake_stripe.deliver(client, refunded[0]).status_code == 200
    transfer.refresh_from_db()
    assert transfer.amount_reversed == 340


def test_a_reversal_announced_before_the_payments_event_is_kept_when_it_comes(
    fake_stripe, fake_stripe_client, client, payee, capture_signal
):
    reversed_ = capture_signal(signals.transfer_reversed)
    intent, events = paid(fake_stripe, fake_stripe_client, payee)
    # Refunded from the Dashboard; Stripe's events arrive before the payment's.
    fake_stripe_client.v1.refunds.create({"payment_intent": intent.id, "amount": 400,
                                          "reverse_transfer": True})
    for kind in ("transfer.reversed", "charge.refunded"):
        (event,) = [e for e in fake_stripe.events.values() if e["type"] == kind]
        assert fake_stripe.deliver(client, event).status_code == 200
    assert not Transfer.objects.exists()

    for kind in ("charge.succeeded", "payment_intent.succeeded", "charge.succeeded"):
        assert fake_stripe.deliver(client, events[kind]).status_code == 200

    transfer = Transfer.objects.get()
    assert (transfer.amount, transfer.amount_reversed) == (1700, 340)
    assert [r["amount"] for r in reversed_] == [340]


def test_a_refund_of_the_rest_is_one_refund(fake_stripe, fake_stripe_client, client, payee):
    intent, transfer = recorded(fake_stripe, fake_stripe_client, client, payee)
    row = refund_committed(intent.id)
    refund_committed(intent.id)
    assert row.status == "done"
    assert len(fake_stripe.requests_to("/v1/refunds", "POST")) == 1
    transfer.refresh_from_db()
    assert transfer.amount_reversed == 1700


def test_a_refund_stripe_refuses_fails_and_is_asked_again_with_a_new_key(
    fake_stripe, fake_stripe_client, client, payee
):
    intent, _transfer = recorded(fake_stripe, fake_stripe_client, client, payee)
    row = refund_committed(intent.id, 5000, reference="too-much")
    assert (row.status, row.failure_code) == ("failed", "")
    assert "greater than unrefunded" in row.failure_message
    with pytest.raises(payments.ReferenceConflict):
        refund_committed(intent.id, 100, reference="too-much")


def test_a_lost_refund_answer_is_asked_again_with_the_same_key(
    fake_stripe, fake_stripe_client, client, payee
):
    intent, _transfer = recorded(fake_stripe, fake_stripe_client, client, payee)
    fake_stripe.drop_after_commit("POST /v1/refunds")
    row = refund_committed(intent.id, 500, reference="r")
    assert row.status == "pending"
    again = refund_committed(intent.id, 500, reference="r")
    assert again.status == "done"
    keys = [p.header("Idempotency-Key") for p in fake_stripe.requests_to("/v1/refunds", "POST")]
    assert keys == [row.idempotency_key] * 2
    assert fake_stripe.charges_made()[0]["amount_refunded"] == 500


def test_a_payment_stripe_does_not_know_cannot_be_refunded(fake_stripe, db):
    with pytest.raises(payments.NotRefundable, match="pi_unknown"):
        payments.refund("pi_unknown")
    assert fake_stripe.requests_to("/v1/refunds", "POST") == []
    assert Transfer.objects.count() == 0


def test_a_payment_not_a_destination_charge_cannot_be_refunded(
    fake_stripe, fake_stripe_client, db
):
    plain = fake_stripe_client.v1.payment_intents.create({"amount": 500, "currency": "usd"})
    fake_stripe.succeed_payment_intent(plain.id)
    with pytest.raises(payments.NotRefundable, match="not a succeeded destination charge"):
        payments.refund(plain.id)
    assert fake_stripe.requests_to("/v1/refunds", "POST") == []


def test_a_refund_before_the_payments_event_reads_the_payment_from_stripe(
    fake_stripe, fake_stripe_client, client, payee
):
    intent, events = paid(fake_stripe, fake_stripe_client, payee)

    row = refund_committed(intent.id, 1000)

    transfer = Transfer.objects.get()
    made = fake_stripe.transfers_made()[0]
    assert (transfer.payment_intent, transfer.stripe_id, transfer.amount) == (
        intent.id, made["id"], 1700)
    assert row.status == "done"
    assert transfer.reversals.get() == row
    transfer.refresh_from_db()
    assert transfer.amount_reversed == 850
    # The events arrive afterwards: the same row.
    for event in events.values():
        assert fake_stripe.deliver(client, event).status_code == 200
    assert Transfer.objects.count() == 1


def test_a_destination_charges_transfer_can_be_reversed(
    fake_stripe, fake_stripe_client, client, payee
):
    _intent, transfer = recorded(fake_stripe, fake_stripe_client, client, payee)
    with TestCase.captureOnCommitCallbacks(execute=True):
        payments.reverse(transfer, 700)
    transfer.refresh_from_db()
    assert transfer.amount_reversed == 700
    assert fake_stripe.transfers_made()[0]["amount_reversed"] == 700


def test_a_refund_past_its_key_window_is_looked_up_before_asking_again(
    fake_stripe, fake_stripe_client, client, payee
):
    intent, transfer = recorded(fake_stripe, fake_stripe_client, client, payee)
    fake_stripe.drop_after_commit("POST /v1/refunds")
    row = refund_committed(intent.id, 600, reference="late")
    fake_stripe.forget_idempotency_keys()
    TransferReversal.objects.filter(pk=row.pk).update(
        key_used_at=timezone.now() - datetime.timedelta(hours=25))

    again = refund_committed(intent.id, 600, reference="late")

    assert again.status == "done"
    assert len(fake_stripe.requests_to("/v1/refunds", "POST")) == 1
    assert fake_stripe.charges_made()[0]["amount_refunded"] == 600
    transfer.refresh_from_db()
    assert transfer.amount_reversed == 510
