"""payments.reverse(): a reversal is a row first, asked of Stripe once per reference;
``amount_reversed`` follows Stripe whatever order its events come in."""

from __future__ import annotations

import datetime

import pytest
from django.core.management import call_command
from django.test import TestCase
from django.utils import timezone

from django_stripe_express import payments, signals
from django_stripe_express.models import Transfer, TransferReversal
from django_stripe_express.payments.transfers import REFERENCE_KEY

from .payments_support import pay_committed, payable_account

Reversal = TransferReversal.Status


@pytest.fixture
def sent(fake_stripe, db) -> Transfer:
    fake_stripe.add_funds(100_000, "usd")
    payee = payable_account(fake_stripe)
    return pay_committed(payee.user, 1000, "usd", "order:9")


def reverse_committed(*args, **kwargs) -> TransferReversal:
    with TestCase.captureOnCommitCallbacks(execute=True):
        row = payments.reverse(*args, **kwargs)
    return TransferReversal.objects.get(pk=row.pk)


def reversal_posts(fake_stripe, transfer: Transfer) -> list:
    return fake_stripe.requests_to(f"/v1/transfers/{transfer.stripe_id}/reversals", "POST")


def test_no_amount_reverses_the_rest_once(fake_stripe, sent, capture_signal):
    reversed_ = capture_signal(signals.transfer_reversed)

    row = reverse_committed(sent, refund_application_fee=True)
    again = reverse_committed(sent)  # a double click: the same reversal

    assert again.pk == row.pk
    assert (row.status, row.amount) == (Reversal.DONE, 1000)
    at_stripe = fake_stripe.transfers_made()[0]
    assert at_stripe["amount_reversed"] == 1000
    assert row.stripe_id == at_stripe["reversals"]["data"][0]["id"]
    posts = reversal_posts(fake_stripe, sent)
    assert len(posts) == 1
    assert posts[0].header("Idempotency-Key") == row.idempotency_key
    assert posts[0].form["refund_application_fee"] == "true"
    assert posts[0].form["metadata"] == {REFERENCE_KEY: "rest"}
    sent.refresh_from_db()
    assert sent.amount_reversed == 1000
    assert [(r["transfer"].pk, r["amount"]) for r in reversed_] == [(sent.pk, 1000)]


def test_a_reference_makes_a_partial_reversal_idempotent(fake_stripe, sent):
    first = reverse_committed(sent, 300, reference="return:1")
    second = reverse_committed(sent, 300, reference="return:1")
    other = reverse_committed(sent, 200, reference="return:2")

    assert first.pk == second.pk
    assert other.pk != first.pk
    assert len(reversal_posts(fake_stripe, sent)) == 2
    assert fake_stripe.transfers_made()[0]["amount_reversed"] == 500
    sent.refresh_from_db()
    assert sent.amount_reversed == 500
    with pytest.raises(payments.ReferenceConflict, match="300, not 400"):
        reverse_committed(sent, 400, reference="return:1")


def test_more_than_is_left_is_refused_before_stripe(fake_stripe, sent):
    reverse_committed(sent, 600)
    with pytest.raises(payments.NotReversible, match="400 usd left"):
        reverse_committed(sent, 401)
    assert len(reversal_posts(fake_stripe, sent)) == 1
    assert TransferReversal.objects.count() == 1
    # What is left can still be reversed.
    assert reverse_committed(sent).amount == 400
    with pytest.raises(payments.NotReversible):
        reverse_committed(sent, 1, reference="late")


def test_a_transfer_not_sent_cannot_be_reversed(fake_stripe, db):
    held = pay_committed(payable_account(fake_stripe, onboarding=True).user, 100, "usd", "h")
    assert held.status == Transfer.Status.HELD
    with pytest.raises(payments.NotReversible, match="not sent"):
        payments.reverse(held)
    assert TransferReversal.objects.count() == 0


@pytest.mark.parametrize("amount", [0, -1, 1.5, True])
def test_an_amount_stripe_would_refuse_is_refused(sent, amount):
    with pytest.raises(payments.InvalidPayment):
        payments.reverse(sent, amount)


def test_a_lost_answer_is_asked_again_with_the_same_key(fake_stripe, sent):
    fake_stripe.drop_after_commit(f"POST /v1/transfers/{sent.stripe_id}/reversals")
    row = reverse_committed(sent, 250, reference="lost")
    assert row.status == Reversal.PENDING  # Stripe reversed; the answer was lost
    # Pending reversals count as taken: the rest is 750, not 1000.
    with pytest.raises(payments.NotReversible):
        reverse_committed(sent, 751)

    again = reverse_committed(sent, 250, reference="lost")

    assert again.status == Reversal.DONE
    keys = [p.header("Idempotency-Key") for p in reversal_posts(fake_stripe, sent)]
    assert keys == [row.idempotency_key] * 2
    assert fake_stripe.transfers_made()[0]["amount_reversed"] == 250


def test_a_refusal_fails_the_reversal_and_asking_again_uses_a_new_key(fake_stripe, sent):
    fake_stripe.fail_next(f"POST /v1/transfers/{sent.stripe_id}/reversals", status=400,
                          code="balance_insufficient", message="Insufficient funds.")
    row = reverse_committed(sent, 100, reference="r")
    assert (row.status, row.failure_code) == (Reversal.FAILED, "balance_insufficient")

    again = reverse_committed(sent, 100, reference="r")

    assert (again.pk, again.status) == (row.pk, Reversal.DONE)
    keys = [p.header("Idempotency-Key") for p in reversal_posts(fake_stripe, sent)]
    assert len(keys) == 2
    assert keys[0] != keys[1]


def test_amount_reversed_stays_exact_with_events_late_twice_and_out_of_order(
    fake_stripe, fake_stripe_client, client, sent, capture_signal
):
    reversed_ = capture_signal(signals.transfer_reversed)
    reverse_committed(sent, 100, reference="app")  # the app's: 100
    # Staff reverse 300 more in the Dashboard.
    fake_stripe_client.v1.transfers.reversals.create(sent.stripe_id, {"amount": 300})
    events = [e for e in fake_stripe.events.values() if e["type"] == "transfer.reversed"]
    assert [e["data"]["object"]["amount_reversed"] for e in events] == [100, 400]

    for event in (events[1], events[0], events[1], events[0]):
        assert fake_stripe.deliver(client, event).status_code == 200

    sent.refresh_from_db()
    assert sent.amount_reversed == 400
    assert [r["amount"] for r in reversed_] == [100, 300]
    # The app's next reversal sees Stripe's total.
    with pytest.raises(payments.NotReversible, match="600 usd left"):
        reverse_committed(sent, 601)


def a_day_later(fake_stripe, row: TransferReversal) -> None:
    """Stripe forgot the keys; the row's key is past its window."""
    fake_stripe.forget_idempotency_keys()
    TransferReversal.objects.filter(pk=row.pk).update(
        key_used_at=timezone.now() - datetime.timedelta(hours=25))


def test_after_the_key_window_stripe_is_asked_first_and_nothing_is_reversed_twice(
    fake_stripe, sent
):
    fake_stripe.drop_after_commit(f"POST /v1/transfers/{sent.stripe_id}/reversals")
    row = reverse_committed(sent, 250, reference="lost")
    a_day_later(fake_stripe, row)

    again = reverse_committed(sent, 250, reference="lost")

    made = fake_stripe.transfers_made()[0]
    assert (again.status, again.stripe_id) == (Reversal.DONE, made["reversals"]["data"][0]["id"])
    assert made["amount_reversed"] == 250
    assert len(reversal_posts(fake_stripe, sent)) == 1  # found by listing, not asked again
    assert fake_stripe.requests_to(f"/v1/transfers/{sent.stripe_id}/reversals", "GET")


def test_after_the_key_window_with_nothing_at_stripe_it_is_asked_with_a_new_key(
    fake_stripe, sent
):
    fake_stripe.fail_next(f"POST /v1/transfers/{sent.stripe_id}/reversals", status=500)
    row = reverse_committed(sent, 250, reference="five-hundred")
    assert row.status == Reversal.PENDING
    a_day_later(fake_stripe, row)

    again = reverse_committed(sent, 250, reference="five-hundred")

    assert again.status == Reversal.DONE
    keys = [p.header("Idempotency-Key") for p in reversal_posts(fake_stripe, sent)]
    assert keys == [row.idempotency_key, again.idempotency_key]
    assert keys[0] != keys[1]
    assert fake_stripe.transfers_made()[0]["amount_reversed"] == 250


def test_the_command_asks_pending_reversals_again(fake_stripe, sent, capsys):
    fake_stripe.drop_after_commit(f"POST /v1/transfers/{sent.stripe_id}/reversals")
    row = reverse_committed(sent, 100, reference="cmd")
    call_command("stripe_express_transfers", "--dry-run")
    assert "reversal cmd of order:9 (100): would ask again with the same key" in (
        capsys.readouterr().out)

    with TestCase.captureOnCommitCallbacks(execute=True):
        call_command("stripe_express_transfers")

    assert "-> done trr_" in capsys.readouterr().out
    row.refresh_from_db()
    assert row.status == Reversal.DONE
    assert fake_stripe.transfers_made()[0]["amount_reversed"] == 100
    sent.refresh_from_db()
    assert sent.amount_reversed == 100
