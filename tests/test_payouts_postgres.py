"""Payout events delivered concurrently, redelivered and shuffled, and manual
payouts asked for at once, on PostgreSQL (real row locks). Skipped on SQLite
(see conftest)."""

from __future__ import annotations

import copy
import random
import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from django.db import connection
from django.test import Client

from django_stripe_express import payments, signals
from django_stripe_express.models import ExpressAccount, Payout, WebhookEvent

from .payments_support import payable_account

URL = "/stripe/webhook/"
pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def payout_signals():
    counts: Counter[str] = Counter()
    lock = threading.Lock()

    def receiver(signal_name: str) -> Any:
        def on(sender: Any, payout: Payout, **kwargs: Any) -> None:
            with lock:
                counts[f"{signal_name}:{payout.stripe_id}"] += 1
        return on

    paid, failed = receiver("paid"), receiver("failed")
    signals.payout_paid.connect(paid, weak=False)
    signals.payout_failed.connect(failed, weak=False)
    yield counts
    signals.payout_paid.disconnect(paid)
    signals.payout_failed.disconnect(failed)


def deliver_all_at_once(fake: Any, events: list[dict[str, Any]]) -> list[int]:
    barrier = threading.Barrier(len(events))

    def deliver(event: dict[str, Any]) -> int:
        body, header = fake.signed(event)
        barrier.wait()
        try:
            return Client().post(URL, data=body, content_type="application/json",
                                 HTTP_STRIPE_SIGNATURE=header).status_code
        finally:
            connection.close()

    with ThreadPoolExecutor(len(events)) as pool:
        return list(pool.map(deliver, events))


def test_shuffled_concurrent_redeliveries_keep_one_row_at_its_newest_status(
    fake_stripe, payout_signals
):
    payee = payable_account(fake_stripe)
    created = fake_stripe.create_payout(payee.stripe_id, 4200)
    payout_id = created["data"]["object"]["id"]
    paid = copy.deepcopy(fake_stripe.settle_payout(payout_id))
    paid["created"] += 5
    # Another payout of the same account fails, later still.
    other = fake_stripe.create_payout(payee.stripe_id, 100)["data"]["object"]["id"]
    failed = copy.deepcopy(fake_stripe.settle_payout(other, "no_account"))
    failed["created"] += 10
    events = [created, paid, failed] * 3
    random.Random(26).shuffle(events)

    answers = deliver_all_at_once(fake_stripe, events)

    assert answers == [200] * len(events)
    rows = dict(Payout.objects.values_list("stripe_id", "status"))
    assert rows == {payout_id: "paid", other: "failed"}
    assert payout_signals == {f"paid:{payout_id}": 1, f"failed:{other}": 1}
    assert WebhookEvent.objects.count() == 3
    account = ExpressAccount.objects.get(pk=payee.pk)
    assert account.payout_failure_code == "no_account"


def test_a_late_created_racing_paid_never_turns_it_back(fake_stripe, payout_signals):
    payee = payable_account(fake_stripe)
    for _ in range(5):
        created = fake_stripe.create_payout(payee.stripe_id, 10)
        payout_id = created["data"]["object"]["id"]
        paid = copy.deepcopy(fake_stripe.settle_payout(payout_id))
        paid["created"] += 1
        assert deliver_all_at_once(fake_stripe, [paid, created, paid, created]) == [200] * 4
        assert Payout.objects.get(stripe_id=payout_id).status == "paid"
        assert payout_signals[f"paid:{payout_id}"] == 1


def test_the_same_manual_payout_asked_at_once_is_made_once(fake_stripe):
    payee = payable_account(fake_stripe)
    payments.set_payout_schedule(payee.user, "manual")
    fake_stripe.set_balance(payee.stripe_id, available=900, currency="usd")
    user = payee.user
    barrier = threading.Barrier(4)

    def ask(_: int) -> str:
        barrier.wait()
        try:
            try:
                return str(payments.payout(user, 300, "usd", reference="weekly").pk)
            except Exception as exc:  # Stripe's key in use: the caller retries
                return type(exc).__name__
        finally:
            connection.close()

    with ThreadPoolExecutor(4) as pool:
        answers = list(pool.map(ask, range(4)))

    row = Payout.objects.get()
    assert set(answers) <= {str(row.pk), "IdempotencyError"}, answers
    assert payments.payout(user, 300, "usd", reference="weekly").stripe_id
    assert len(fake_stripe.payouts[payee.stripe_id]) == 1
    assert fake_stripe.balances[payee.stripe_id]["available"] == 600
