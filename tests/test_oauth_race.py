"""Two callbacks with the same state at the same moment: exactly one wins.

Runs on PostgreSQL (real concurrent connections); each thread has its own
database connection, so the conditional UPDATE is what decides.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection
from django.test import Client, RequestFactory

from django_stripe_express.models import ConnectAttempt, ExpressAccount
from django_stripe_express.onboarding.oauth import StateError, consume_state

from .factories import ConnectAttemptFactory, UserFactory

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def run_together(n: int, work: Callable[[], Any]) -> list[Any]:
    """Run `work` in `n` threads released at once; their results (or exceptions)."""
    barrier = threading.Barrier(n)
    results: list[Any] = [None] * n

    def target(i: int) -> None:
        try:
            barrier.wait()
            results[i] = work()
        except Exception as exc:  # collected for the assertions
            results[i] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=target, args=(i,)) for i in range(n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return results


def test_state_is_consumed_by_exactly_one_of_many():
    user = UserFactory()
    attempt = ConnectAttemptFactory(user=user)

    def consume() -> ConnectAttempt:
        request = RequestFactory().get("/")
        request.user = user
        return consume_state(request, attempt.state)

    results = run_together(8, consume)

    winners = [r for r in results if isinstance(r, ConnectAttempt)]
    losers = [r for r in results if isinstance(r, StateError)]
    assert len(winners) == 1, results
    assert len(losers) == 7, results
    assert {e.outcome for e in losers} == {ConnectAttempt.Outcome.STATE_REUSED}


def test_concurrent_callbacks_connect_once(fake_stripe):
    user = UserFactory()
    attempt = ConnectAttemptFactory(user=user)
    code = fake_stripe.issue_code()
    fake_stripe.delay_next("/oauth/token", 0.3)  # keep the winner busy while others arrive

    def call() -> int:
        client = Client()
        client.force_login(user)
        response = client.get("/stripe/oauth/callback/", {"code": code, "state": attempt.state})
        return response.status_code

    statuses = run_together(4, call)

    assert sorted(statuses) == [302, 400, 400, 400], statuses
    assert len(fake_stripe.requests_to("/oauth/token")) == 1
    account = ExpressAccount.objects.get()
    assert account.user == user
    attempt.refresh_from_db()
    assert (attempt.outcome, attempt.account) == (ConnectAttempt.Outcome.CONNECTED, account)


def test_same_stripe_account_for_two_users_at_once_links_one(settings, fake_stripe):
    settings.STRIPE_EXPRESS = {**settings.STRIPE_EXPRESS, "FAILURE_URL": "/failed/"}
    # Two different users, each with a valid attempt, come back with the same
    # Stripe account at the same moment: one gets it, the other is refused.
    users = [UserFactory(), UserFactory()]
    attempts = [ConnectAttemptFactory(user=u) for u in users]
    acct = fake_stripe.create_account()
    codes = [fake_stripe.issue_code(acct["id"]) for _ in users]
    turn = iter(range(2))
    lock = threading.Lock()

    def call() -> str:
        with lock:
            i = next(turn)
        client = Client()
        client.force_login(users[i])
        response = client.get(
            "/stripe/oauth/callback/", {"code": codes[i], "state": attempts[i].state}
        )
        return str(response["Location"])

    locations = run_together(2, call)

    assert sorted(locations) == ["/dashboard/", "/failed/"], locations
    account = ExpressAccount.objects.get()
    outcomes = {a.user_id: a.outcome for a in ConnectAttempt.objects.all()}
    assert outcomes[account.user_id] == ConnectAttempt.Outcome.CONNECTED
    loser = next(u for u in users if u.pk != account.user_id)
    assert outcomes[loser.pk] == ConnectAttempt.Outcome.ACCOUNT_ALREADY_LINKED
