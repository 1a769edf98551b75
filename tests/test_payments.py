"""payments.pay(): one transfer per reference, whatever fails.

The real stripe library against the fake Stripe over HTTP; the fake records
every request, so "nothing was sent" is what Stripe saw.
"""

from __future__ import annotations

import datetime

import pytest
from django.db import transaction
from django.test import TestCase
from django.utils import timezone

from django_stripe_express import payments, signals
from django_stripe_express.models import Transfer, database_alias
from django_stripe_express.payments import transfers
from django_stripe_express.payments.transfers import REFERENCE_KEY

from .factories import UserFactory
from .payments_support import pay_committed, payable_account, send_committed, transfer_posts

Status = Transfer.Status


@pytest.fixture
def payee(fake_stripe, db):
    fake_stripe.add_funds(100_000, "usd")
    return payable_account(fake_stripe)


def test_pay_sends_one_transfer_after_commit(fake_stripe, payee, capture_signal):
    sent = capture_signal(signals.transfer_sent)

    transfer = pay_committed(payee.user, 4200, "USD", "order:42:seller:7",
                             metadata={"order": "42"}, description="Order 42")

    made = fake_stripe.transfers_made()
    assert len(made) == 1
    assert (made[0]["amount"], made[0]["currency"], made[0]["destination"]) == (
        4200, "usd", payee.stripe_id)
    assert made[0]["metadata"] == {"order": "42", REFERENCE_KEY: "order:42:seller:7"}
    assert made[0]["transfer_group"] == "order:42:seller:7"
    assert (transfer.status, transfer.stripe_id, transfer.destination) == (
        Status.SENT, made[0]["id"], payee.stripe_id)
    assert transfer.account == payee
    assert transfer.currency == "usd"
    assert [s["transfer"].pk for s in sent] == [transfer.pk]
    request = transfer_posts(fake_stripe)[0]
    assert request.header("Idempotency-Key") == transfer.idempotency_key
    assert fake_stripe.balance("usd")["available"] == 100_000 - 4200


def test_nothing_is_sent_before_the_callers_transaction_commits(fake_stripe, payee):
    with TestCase.captureOnCommitCallbacks(execute=False) as callbacks:
        transfer = payments.pay(payee.user, 100, "usd", "r1")
        assert transfer.status == Status.PENDING
        assert transfer_posts(fake_stripe) == []
    assert len(callbacks) == 1  # run at commit; a rollback drops it with the row


def test_a_rolled_back_payment_sends_nothing(fake_stripe, payee):
    def pay_then_fail() -> None:
        with transaction.atomic():
            payments.pay(payee.user, 100, "usd", "rolled-back")
            raise RuntimeError

    with pytest.raises(RuntimeError):
        pay_then_fail()
    assert not Transfer.objects.filter(reference="rolled-back").exists()
    assert transfer_posts(fake_stripe) == []


def test_a_double_call_returns_the_same_row_and_sends_once(fake_stripe, payee, capture_signal):
    sent = capture_signal(signals.transfer_sent)
    first = pay_committed(payee.user, 500, "usd", "double")
    second = pay_committed(payee.user, 500, "usd", "double")

    assert first.pk == second.pk
    assert second.status == Status.SENT
    assert len(fake_stripe.transfers_made()) == 1
    assert len(transfer_posts(fake_stripe)) == 1
    assert len(sent) == 1


@pytest.mark.parametrize(
    ("change", "named"),
    [({"amount": 501}, "amount"), ({"currency": "eur"}, "currency"), ({"user": "other"}, "user")],
)
def test_the_same_reference_for_another_obligation_is_refused(fake_stripe, payee, change, named):
    pay_committed(payee.user, 500, "usd", "order:1")
    args = {"user": payee.user, "amount": 500, "currency": "usd", **change}
    if args["user"] == "other":
        args["user"] = UserFactory()

    with pytest.raises(payments.ReferenceConflict, match=named) as raised:
        pay_committed(args["user"], args["amount"], args["currency"], "order:1")

    assert raised.value.transfer.amount == 500
    assert len(transfer_posts(fake_stripe)) == 1  # the first payment only
    assert Transfer.objects.count() == 1


def test_a_conflict_inside_the_callers_transaction_keeps_that_transaction(fake_stripe, payee):
    pay_committed(payee.user, 500, "usd", "kept")
    with transaction.atomic():
        with pytest.raises(payments.ReferenceConflict):
            payments.pay(payee.user, 999, "usd", "kept")
        # The savepoint took the failed INSERT; the transaction still works.
        assert Transfer.objects.filter(reference="kept").count() == 1


@pytest.mark.parametrize(
    ("amount", "currency", "reference"),
    [(0, "usd", "r"), (-5, "usd", "r"), (1.5, "usd", "r"), (True, "usd", "r"),
     (100, "us", "r"), (100, "usd1", "r"), (100, 7, "r"), (100, "usd", ""),
     (100, "usd", "x" * 256)],
)
def test_values_stripe_would_refuse_are_refused_before_anything(
    fake_stripe, payee, amount, currency, reference
):
    with pytest.raises(payments.InvalidPayment):
        pay_committed(payee.user, amount, currency, reference)
    assert Transfer.objects.count() == 0
    assert transfer_posts(fake_stripe) == []


def test_an_account_that_cannot_receive_transfers_holds_the_transfer(
    fake_stripe, capture_signal
):
    held = capture_signal(signals.transfer_held)
    onboarding = payable_account(fake_stripe, onboarding=True)

    transfer = pay_committed(onboarding.user, 300, "usd", "held")

    assert (transfer.status, transfer.account) == (Status.HELD, onboarding)
    assert transfer_posts(fake_stripe) == []
    assert [h["transfer"].pk for h in held] == [transfer.pk]


def test_a_user_without_an_account_is_held(fake_stripe):
    transfer = pay_committed(UserFactory(), 300, "usd", "no-account")
    assert (transfer.status, transfer.account) == (Status.HELD, None)
    assert transfer_posts(fake_stripe) == []


def test_a_lost_answer_is_retried_with_the_same_key_and_one_transfer_is_made(
    fake_stripe, payee, capture_signal
):
    sent = capture_signal(signals.transfer_sent)
    fake_stripe.drop_after_commit("POST /v1/transfers")

    transfer = pay_committed(payee.user, 700, "usd", "lost")

    # Stripe made it; the answer never arrived: outcome unknown, still pending.
    assert len(fake_stripe.transfers_made()) == 1
    assert transfer.status == Status.PENDING
    assert transfer.outcome_unknown
    key = transfer.idempotency_key

    again = send_committed(transfer.pk)

    assert again is not None
    assert (again.status, again.stripe_id) == (Status.SENT, fake_stripe.transfers_made()[0]["id"])
    posts = transfer_posts(fake_stripe)
    assert [p.header("Idempotency-Key") for p in posts] == [key, key]
    assert len(fake_stripe.transfers_made()) == 1
    assert len(sent) == 1


def test_a_worker_killed_after_stripes_answer_is_reconciled_by_the_retry(
    fake_stripe, fake_stripe_client, payee
):
    # As a worker killed between Stripe's answer and its commit: the request
    # went out with the row's key, nothing was recorded.
    with TestCase.captureOnCommitCallbacks(execute=False):
        row = payments.pay(payee.user, 900, "usd", "killed")
    _claimed, request = transfers._claim(database_alias(), row.pk)
    assert request is not None
    made = fake_stripe_client.v1.transfers.create(
        request.params, {"idempotency_key": request.key})
    # ... killed here. The retry (the command, a task run again):
    again = send_committed(row.pk)

    assert again is not None
    assert (again.status, again.stripe_id) == (Status.SENT, made.id)
    assert len(fake_stripe.transfers_made()) == 1


def test_after_the_key_window_stripe_is_asked_first(fake_stripe, payee):
    fake_stripe.drop_after_commit("POST /v1/transfers")
    transfer = pay_committed(payee.user, 800, "usd", "window")
    assert transfer.outcome_unknown
    # A day later: Stripe forgot the key, the row's key is past its window.
    fake_stripe.forget_idempotency_keys()
    Transfer.objects.filter(pk=transfer.pk).update(
        key_used_at=timezone.now() - datetime.timedelta(hours=25))

    again = send_committed(transfer.pk)

    made = fake_stripe.transfers_made()
    assert len(made) == 1
    assert again is not None
    assert (again.status, again.stripe_id) == (Status.SENT, made[0]["id"])
    assert len(transfer_posts(fake_stripe)) == 1  # found by listing, not sent again
    listed = fake_stripe.requests_to("/v1/transfers", "GET")
    assert listed[0].query["transfer_group"] == "window"


def test_after_the_key_window_with_nothing_at_stripe_it_is_sent_with_a_new_key(
    fake_stripe, payee
):
    fake_stripe.fail_next("POST /v1/transfers", status=500)  # saved: replayed for the key
    transfer = pay_committed(payee.user, 800, "usd", "nothing")
    assert transfer.outcome_unknown
    assert fake_stripe.transfers_made() == []
    old_key = transfer.idempotency_key
    Transfer.objects.filter(pk=transfer.pk).update(
        key_used_at=timezone.now() - datetime.timedelta(hours=25))

    again = send_committed(transfer.pk)

    assert again.status == Status.SENT
    keys = [p.header("Idempotency-Key") for p in transfer_posts(fake_stripe)]
    assert keys == [old_key, again.idempotency_key]
    assert old_key != again.idempotency_key
    assert len(fake_stripe.transfers_made()) == 1


def test_a_server_error_keeps_the_key_and_stripe_replays_it(fake_stripe, payee):
    fake_stripe.fail_next("POST /v1/transfers", status=500)
    transfer = pay_committed(payee.user, 800, "usd", "five-hundred")
    again = send_committed(transfer.pk)
    # Stripe saved the 500 for the key: the same answer, nothing made, still pending.
    assert again.status == Status.PENDING
    assert again.idempotency_key == transfer.idempotency_key
    assert fake_stripe.transfers_made() == []


def test_a_definite_refusal_fails_with_stripes_code_and_a_new_key(
    fake_stripe, payee, capture_signal
):
    failed = capture_signal(signals.transfer_failed)
    fake_stripe.fail_next("POST /v1/transfers", status=400, code="amount_too_large",
                          message="Amount too large.")
    transfer = pay_committed(payee.user, 800, "usd", "refused")

    assert (transfer.status, transfer.failure_code, transfer.failure_message) == (
        Status.FAILED, "amount_too_large", "Amount too large.")
    assert transfer.key_generation == 2
    assert transfer.key_used_at is None
    assert [f["transfer"].pk for f in failed] == [transfer.pk]

    transfer.retry()
    again = send_committed(transfer.pk)
    assert again.status == Status.SENT
    keys = [p.header("Idempotency-Key") for p in transfer_posts(fake_stripe)]
    assert len(set(keys)) == 2


def test_a_destination_stripe_refuses_is_held_not_failed(fake_stripe, payee):
    # Stripe knows first: the stored row still says active.
    fake_stripe.update_account(payee.stripe_id, capabilities={"transfers": "inactive"})
    transfer = pay_committed(payee.user, 800, "usd", "refused-destination")
    assert (transfer.status, transfer.failure_code) == (
        Status.HELD, "insufficient_capabilities_for_transfer")
    assert fake_stripe.transfers_made() == []


def test_send_leaves_what_is_not_pending_alone(fake_stripe, payee):
    transfer = pay_committed(payee.user, 800, "usd", "done")
    assert send_committed(transfer.pk).status == Status.SENT
    assert len(transfer_posts(fake_stripe)) == 1
