"""Racing first visits create exactly one account (PostgreSQL: real concurrent writes)."""

from __future__ import annotations

import threading

import pytest
from django.db import connections
from django.test import Client

from django_stripe_express.models import ConnectAttempt, ExpressAccount

from .account_links_support import header
from .factories import UserFactory

RACERS = 4


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_racing_first_visits_create_exactly_one_account(
    account_links_mode, network_retries, signals_received
):
    fake = account_links_mode
    user = UserFactory()
    # All but one create call wait at the fake, so every request reads "no
    # account yet" and sends its create before any of them stores a row; the
    # slow ones then hit the unique constraint and must re-read the winner.
    fake.delay_next(f"POST {fake.create_path}", 0.4, times=RACERS - 1)
    barrier = threading.Barrier(RACERS)
    results: list[tuple[int, str]] = []
    errors: list[BaseException] = []

    def visit() -> None:
        try:
            client = Client(raise_request_exception=True)
            client.force_login(user)
            barrier.wait(timeout=10)
            response = client.post("/stripe/connect/")
            results.append((response.status_code, response.get("Location", "")))
        except BaseException as exc:  # reported below, in the test's thread
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=visit) for _ in range(RACERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert errors == []
    account = ExpressAccount.objects.get()
    assert list(fake.accounts) == [account.stripe_id]
    creates = fake.creates()
    assert len(creates) == RACERS
    (key,) = {header(r, "Idempotency-Key") for r in creates}
    action = "create-v2-account" if fake.api == "v2" else "create-account"
    assert key.startswith(f"django-stripe-express:{action}:test:{user.pk}:params:")
    # Every racer was sent on to a link for that one account.
    assert len(results) == RACERS
    for status, location in results:
        assert status == 302
        assert location.startswith(f"{fake.url}/setup/e/{account.stripe_id}/")
    assert ConnectAttempt.objects.filter(outcome="connected", account=account).count() == RACERS
    assert [name for name, _kw in signals_received] == ["account_connected"]
