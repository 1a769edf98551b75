"""Concurrent deliveries on PostgreSQL (real row-level concurrency).

Stripe retries, and several of its servers may deliver the same event at once;
bursts for many accounts arrive shuffled. Skipped on SQLite (see conftest).
"""

from __future__ import annotations

import random
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from django.db import connection, transaction
from django.test import Client
from django.utils import timezone

from django_stripe_express import signals
from django_stripe_express.models import ExpressAccount, WebhookEvent

from .burst_support import account_histories
from .factories import ExpressAccountFactory

URL = "/stripe/webhook/"
T0 = 1_700_000_000
pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def signalled():
    counts: Counter[str] = Counter()
    lock = threading.Lock()

    def on_updated(sender: Any, event: Any, **kwargs: Any) -> None:
        with lock:
            counts[f"account_updated:{event.stripe_id}"] += 1

    def on_event(sender: Any, event: Any, **kwargs: Any) -> None:
        with lock:
            counts[f"webhook_event:{event.stripe_id}"] += 1

    signals.account_updated.connect(on_updated, weak=False)
    signals.webhook_event.connect(on_event, weak=False)
    yield counts
    signals.account_updated.disconnect(on_updated)
    signals.webhook_event.disconnect(on_event)


def post(body: str, header: str) -> tuple[int, bytes]:
    try:
        response = Client().post(
            URL, data=body, content_type="application/json", HTTP_STRIPE_SIGNATURE=header
        )
        return response.status_code, response.content
    finally:
        connection.close()  # each worker thread has its own connection


def all_at_once(threads: int, body: str, header: str) -> list[tuple[int, bytes]]:
    """The same delivery from `threads` threads released together; their answers."""
    barrier = threading.Barrier(threads)

    def deliver(_: int) -> tuple[int, bytes]:
        barrier.wait()
        return post(body, header)

    with ThreadPoolExecutor(threads) as pool:
        return list(pool.map(deliver, range(threads)))


def test_the_same_event_delivered_concurrently_is_applied_once(fake_stripe, signalled):
    account = ExpressAccountFactory(onboarding=True)
    fake_stripe.create_account(id=account.stripe_id)
    fake_stripe.complete_onboarding(account.stripe_id)
    event = fake_stripe.build_event("account.updated", account=account.stripe_id, created=T0)
    threads = 8
    answers = all_at_once(threads, *fake_stripe.signed(event))

    assert Counter(answers) == {(200, b"processed"): 1, (200, b"duplicate"): threads - 1}
    assert signalled == {
        f"account_updated:{event['id']}": 1,
        f"webhook_event:{event['id']}": 1,
    }
    stored = WebhookEvent.objects.get()
    assert (stored.status, stored.attempts) == ("processed", 1)
    assert ExpressAccount.objects.get(pk=account.pk).status == "enabled"


def test_a_shuffled_burst_with_duplicates_ends_at_each_accounts_newest_state(
    fake_stripe, signalled
):
    rng = random.Random(6)
    accounts = [ExpressAccountFactory(onboarding=True) for _ in range(6)]
    burst = account_histories(fake_stripe, accounts, rng)
    newest, event_ids = burst.newest, burst.event_ids
    deliveries = [d for d in burst.signed for _ in range(rng.choice([1, 1, 2, 3]))]  # redelivered
    rng.shuffle(deliveries)

    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(lambda d: post(*d), deliveries))

    assert {status for status, _ in answers} == {200}
    for account in accounts:
        account.refresh_from_db()
        created, email = newest[account.stripe_id]
        assert account.email == email
        assert account.status == "enabled"
        assert int(account.last_event_created.timestamp()) == created
    # Every event recorded once, applied or found stale, and announced once.
    assert sorted(WebhookEvent.objects.values_list("stripe_id", flat=True)) == sorted(event_ids)
    assert set(WebhookEvent.objects.values_list("status", flat=True)) <= {"processed", "ignored"}
    ignored = WebhookEvent.objects.filter(status="ignored")
    assert set(ignored.values_list("detail", flat=True)) <= {"stale"}
    assert all(signalled[f"webhook_event:{evt}"] == 1 for evt in event_ids)
    processed = set(
        WebhookEvent.objects.filter(status="processed").values_list("stripe_id", flat=True)
    )
    applied = {key.split(":")[1] for key in signalled if key.startswith("account_updated")}
    assert applied == processed
    assert all(signalled[f"account_updated:{evt}"] == 1 for evt in processed)


def test_a_change_committed_while_waiting_for_the_row_is_not_overwritten(fake_stripe):
    """A delivery decides from the row as the previous writer left it.

    Another transaction holds the account's row (as a concurrent delivery
    would) and commits a change while this delivery waits for it. The
    delivery's SELECT ... FOR UPDATE then returns the new row: the event is
    decided from it, and the signal reports the status really replaced.
    """
    account = ExpressAccountFactory(onboarding=True)
    fake_stripe.create_account(id=account.stripe_id, email="maker@example.com")
    fake_stripe.complete_onboarding(account.stripe_id)
    event = fake_stripe.build_event("account.updated", account=account.stripe_id, created=T0)
    body, header = fake_stripe.signed(event)
    previous: list[str] = []

    def on_updated(sender: Any, previous_status: str, **kwargs: Any) -> None:
        previous.append(previous_status)

    signals.account_updated.connect(on_updated, weak=False)
    try:
        with ThreadPoolExecutor(1) as pool, transaction.atomic():
            ExpressAccount.objects.filter(pk=account.pk).update(
                status="restricted", email="support@example.com", updated_at=timezone.now()
            )
            answer = pool.submit(post, body, header)
            wait_for_a_lock_wait()
            assert not answer.done()
        assert answer.result() == (200, b"processed")
    finally:
        signals.account_updated.disconnect(on_updated)

    assert previous == ["restricted"]
    account.refresh_from_db()
    assert (account.status, account.email) == ("enabled", "maker@example.com")
    assert WebhookEvent.objects.get().status == "processed"


def wait_for_a_lock_wait(timeout: float = 10.0) -> None:
    """Until another backend of this database is waiting for a row lock."""
    deadline = time.monotonic() + timeout
    with connection.cursor() as cursor:
        while time.monotonic() < deadline:
            cursor.execute("SELECT pg_stat_clear_snapshot()")  # fresh figures in a transaction
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity "
                "WHERE datname = current_database() AND wait_event_type = 'Lock'"
            )
            if cursor.fetchone()[0]:
                return
            time.sleep(0.01)
    raise AssertionError("no delivery ever waited for the account's row")


# -- thin events (Accounts v2): fetched outside any transaction -----------------------


def test_an_older_thin_event_whose_fetch_is_answered_last_does_not_overwrite(
    fake_stripe, signalled
):
    """Two deliveries for one account at once; the older event's fetch is sent
    first, read by Stripe first (the account still onboarding), and answered
    last. The newer event's fetch (the account enabled) is applied; the older
    one, whose UPDATE finds the row changed since it read it, is decided again
    under the lock and recorded as stale."""
    from .test_webhook_thin import UPDATED, stored_v2_account, thin

    account = stored_v2_account(fake_stripe)
    acct = account.stripe_id
    older = thin(fake_stripe, UPDATED, acct, 1)
    newer = thin(fake_stripe, "v2.core.account[requirements].updated", acct, 2)
    fake_stripe.delay_next(f"GET /v2/core/accounts/{acct}", 1.5, answer=True)
    reads = f"/v2/core/accounts/{acct}"

    with ThreadPoolExecutor(2) as pool:
        first = pool.submit(post, *fake_stripe.signed(older))
        deadline = time.monotonic() + 10
        while not fake_stripe.requests_to(reads) and time.monotonic() < deadline:
            time.sleep(0.01)
        fake_stripe.complete_onboarding(acct)  # Stripe's state moves on
        second = pool.submit(post, *fake_stripe.signed(newer))
        assert second.result() == (200, b"processed")
        assert not first.done()  # its answer is still on the way
        assert first.result() == (200, b"ignored: stale")

    account.refresh_from_db()
    assert account.status == "enabled"
    assert account.last_event_created.timestamp() == T0 + 2
    assert len(fake_stripe.requests_to(reads)) == 2
    statuses = dict(WebhookEvent.objects.values_list("stripe_id", "status"))
    assert statuses == {older["id"]: "ignored", newer["id"]: "processed"}
    assert signalled[f"account_updated:{newer['id']}"] == 1
    assert signalled[f"account_updated:{older['id']}"] == 0


def test_the_same_thin_event_delivered_concurrently_is_applied_once(fake_stripe, signalled):
    from .test_webhook_thin import UPDATED, stored_v2_account, thin

    account = stored_v2_account(fake_stripe)
    fake_stripe.complete_onboarding(account.stripe_id)
    event = thin(fake_stripe, UPDATED, account.stripe_id, 1)
    threads = 6
    answers = all_at_once(threads, *fake_stripe.signed(event))

    assert Counter(answers) == {(200, b"processed"): 1, (200, b"duplicate"): threads - 1}
    assert sum(signalled.values()) == 2  # account_updated and webhook_event, once each
    assert ExpressAccount.objects.get(pk=account.pk).status == "enabled"
    # Deliveries that read the event as new before the first one committed each
    # fetched; one applied it. (A duplicate that comes after costs no call.)
    assert 1 <= len(fake_stripe.requests) <= threads
