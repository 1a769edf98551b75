"""Concurrent pay() and send() on PostgreSQL (real row locks and unique indexes).

Each thread has its own connection and its own transaction, released together
by a barrier: a double submit from two web workers, a task and the command
sending the same row. Skipped on SQLite (see conftest).
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from django.core.management import call_command
from django.db import connection, transaction

from django_stripe_express import payments, signals
from django_stripe_express.models import ExpressAccount, Transfer

from .payments_support import payable_account, transfer_posts

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]
THREADS = 8


@pytest.fixture
def sent_signals():
    counts: Counter[str] = Counter()
    lock = threading.Lock()

    def on_sent(sender: Any, transfer: Transfer, **kwargs: Any) -> None:
        with lock:
            counts[transfer.reference] += 1

    signals.transfer_sent.connect(on_sent, weak=False)
    yield counts
    signals.transfer_sent.disconnect(on_sent)


def all_at_once(work: Any, threads: int = THREADS) -> list[Any]:
    barrier = threading.Barrier(threads)

    def run(index: int) -> Any:
        barrier.wait()
        try:
            return work(index)
        except Exception as exc:  # the answer of that thread
            return exc
        finally:
            connection.close()

    with ThreadPoolExecutor(threads) as pool:
        return list(pool.map(run, range(threads)))


def test_concurrent_pay_with_one_reference_makes_one_row_and_one_transfer(
    fake_stripe, sent_signals
):
    fake_stripe.add_funds(100_000)
    payee = payable_account(fake_stripe)

    def pay(_: int) -> int:
        with transaction.atomic():
            return payments.pay(payee.user, 2500, "usd", "order:9").pk

    answers = all_at_once(pay)

    assert len(set(answers)) == 1, answers  # every caller got the same row
    transfer = Transfer.objects.get()
    assert transfer.status == Transfer.Status.SENT
    assert len(fake_stripe.transfers_made()) == 1
    assert sent_signals == {"order:9": 1}
    # Every caller's commit handed it over; all but one found it sent or in flight.
    assert len({p.header("Idempotency-Key") for p in transfer_posts(fake_stripe)}) == 1


def test_concurrent_pay_with_a_conflicting_amount_is_refused_without_a_call(fake_stripe):
    fake_stripe.add_funds(100_000)
    payee = payable_account(fake_stripe)

    def pay(index: int) -> int:
        with transaction.atomic():
            return payments.pay(payee.user, 100 + index, "usd", "order:10").pk

    answers = all_at_once(pay)

    conflicts = [a for a in answers if isinstance(a, payments.ReferenceConflict)]
    assert len(conflicts) == THREADS - 1
    assert Transfer.objects.count() == 1
    made = fake_stripe.transfers_made()
    assert [t["amount"] for t in made] == [Transfer.objects.get().amount]


def test_concurrent_sends_of_one_row_make_one_transfer(fake_stripe, sent_signals):
    fake_stripe.add_funds(100_000)
    payee = payable_account(fake_stripe)
    transfer = Transfer.objects.create(user=payee.user, reference="order:11", amount=700,
                                       currency="usd")
    # Stripe is slow: every sender is in flight at once with the row's key.
    fake_stripe.delay_next("POST /v1/transfers", 0.3, executing=True)

    answers = all_at_once(lambda _: payments.send(transfer.pk))

    assert not [a for a in answers if isinstance(a, Exception)]
    transfer.refresh_from_db()
    assert transfer.status == Transfer.Status.SENT
    assert len(fake_stripe.transfers_made()) == 1
    assert sent_signals == {"order:11": 1}
    keys = {p.header("Idempotency-Key") for p in transfer_posts(fake_stripe)}
    assert keys == {transfer.idempotency_key}


def test_many_references_from_many_threads_each_paid_once(fake_stripe, sent_signals):
    fake_stripe.add_funds(10_000_000)
    payees = [payable_account(fake_stripe) for _ in range(4)]
    # 10 % of the answers lost after Stripe made the transfer.
    fake_stripe.drop_after_commit("POST /v1/transfers", times=6)
    calls = [(payees[i % 50 % 4], f"batch:{i % 50}") for i in range(60)]  # 10 repeated

    def pay(index: int) -> None:
        for payee, reference in calls[index::THREADS]:
            with transaction.atomic():
                payments.pay(payee.user, 100, "usd", reference)

    assert all(a is None for a in all_at_once(pay))
    # What was left pending (lost answers) is sent by the command.
    call_command("stripe_express_transfers")

    assert set(Transfer.objects.values_list("status", flat=True)) == {"sent"}
    made = fake_stripe.transfers_made()
    references = [t["metadata"][payments.REFERENCE_KEY] for t in made]
    assert sorted(references) == sorted({r for _, r in calls})
    assert all(count == 1 for count in sent_signals.values())


def reversed_at_stripe(fake_stripe) -> int:
    return sum(t["amount_reversed"] for t in fake_stripe.transfers_made())


def test_concurrent_reversals_with_one_reference_reverse_once(fake_stripe, fake_stripe_client):
    fake_stripe.add_funds(100_000)
    payee = payable_account(fake_stripe)
    transfer = payments.pay(payee.user, 1000, "usd", "order:12")
    fake_stripe.delay_next(f"POST /v1/transfers/{Transfer.objects.get().stripe_id}/reversals",
                           0.3, executing=True)

    def reverse(_: int) -> int:
        return payments.reverse(transfer, 300, reference="return:12").pk

    answers = all_at_once(reverse)

    assert len(set(answers)) == 1, answers
    assert reversed_at_stripe(fake_stripe) == 300
    transfer.refresh_from_db()
    assert transfer.amount_reversed == 300


def test_concurrent_reversals_never_reverse_more_than_the_transfer(fake_stripe):
    fake_stripe.add_funds(100_000)
    payee = payable_account(fake_stripe)
    transfer = payments.pay(payee.user, 1000, "usd", "order:13")

    answers = all_at_once(lambda index: payments.reverse(transfer, 300).amount)

    refused = [a for a in answers if isinstance(a, payments.NotReversible)]
    assert (len(refused), len(answers) - len(refused)) == (THREADS - 3, 3), answers
    assert reversed_at_stripe(fake_stripe) == 900
    transfer.refresh_from_db()
    assert transfer.amount_reversed == 900


def test_concurrent_events_of_one_destination_charge_record_one_row(
    fake_stripe, fake_stripe_client, sent_signals
):
    payee = payable_account(fake_stripe)
    params = payments.destination_charge_params(payee.user, 1000, "usd",
                                                application_fee_amount=100)
    intent = fake_stripe_client.v1.payment_intents.create(
        {"amount": 1000, "currency": "usd", **params})
    objects = [e["data"]["object"] for e in fake_stripe.succeed_payment_intent(intent.id)
               if e["type"] != "transfer.created"]

    all_at_once(lambda index: payments.record_destination_charge(objects[index % 2]))

    transfer = Transfer.objects.get()
    assert (transfer.amount, transfer.stripe_id) == (900, fake_stripe.transfers_made()[0]["id"])
    assert sent_signals == {f"payment_intent:{intent.id}": 1}


def test_an_update_making_the_account_payable_while_a_send_decides_never_leaves_it_held(
    fake_stripe, capture_signal
):
    """The webhook's update to payable is committing while a worker decides: the
    worker waits for the account's row and reads the update, so it sends. (Read
    unlocked, it read the old state, held the transfer after the update's release
    had looked, and the transfer waited for the command.)"""
    held = capture_signal(signals.transfer_held)
    account = payable_account(fake_stripe, onboarding=True)
    fake_stripe.complete_onboarding(account.stripe_id)
    fake_stripe.add_funds(10_000)
    transfer = Transfer.objects.create(user=account.user, amount=700, currency="usd",
                                       reference="race:1")
    updating, done = threading.Event(), {}

    def update_to_payable() -> None:
        with transaction.atomic():
            locked = ExpressAccount.objects.select_for_update().get(pk=account.pk)
            locked.apply(fake_stripe.account(account.stripe_id))
            locked.save()
            updating.set()
            time.sleep(0.5)  # the worker decides meanwhile
        done["released"] = payments.release_held_for([locked])  # as on the commit
        connection.close()

    def worker_sends() -> None:
        updating.wait(5)
        sent = payments.send(transfer.pk)
        done["status"] = sent.status if sent is not None else None
        connection.close()

    threads = [threading.Thread(target=update_to_payable), threading.Thread(target=worker_sends)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)

    assert done == {"released": [], "status": Transfer.Status.SENT}
    assert held == []
    assert len(transfer_posts(fake_stripe)) == 1
