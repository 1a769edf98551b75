"""Real-shaped Express events captured from Stripe (dj-stripe's fixtures).

They live outside the repository (licence), in ``../shared/stripe/``; the tests
skip with a reason when the folder is absent.
"""

from __future__ import annotations

import datetime
from pathlib import Path
from typing import Any

import pytest

from django_stripe_express.models import ExpressAccount, WebhookEvent

from .factories import ExpressAccountFactory

FIXTURES = Path(__file__).resolve().parents[2] / "shared" / "stripe" / "dj-stripe-fixtures"
pytestmark = pytest.mark.skipif(
    not FIXTURES.is_dir(), reason=f"Stripe reference fixtures not found at {FIXTURES}"
)
URL = "/stripe/webhook/"
LONG_AGO = datetime.datetime(2021, 1, 1, tzinfo=datetime.timezone.utc)


def deliver(fake_stripe, client, name: str) -> Any:
    # The file's exact bytes, signed now: what Stripe would post.
    return fake_stripe.post_event(client, (FIXTURES / name).read_text(), path=URL)


def test_express_account_updated_is_applied(client, fake_stripe, db):
    account = ExpressAccountFactory(
        stripe_id="acct_1IuHosQveW0ONQsd", onboarding=True, connected_at=LONG_AGO
    )
    response = deliver(fake_stripe, client, "event_account_updated_express.json")

    assert (response.status_code, response.content) == (200, b"processed")
    account.refresh_from_db()
    assert account.status == ExpressAccount.Status.ENABLED
    assert account.charges_enabled
    assert account.payouts_enabled
    assert account.details_submitted
    assert account.email == "djstripe@example.com"
    assert (account.country, account.default_currency) == ("US", "usd")
    assert account.capabilities == {"transfers": "active"}
    assert account.requirements["eventually_due"] == ["individual.verification.document"]
    assert account.disabled_reason == ""
    assert account.last_event_created == datetime.datetime.fromtimestamp(
        1621683300, tz=datetime.timezone.utc
    )
    stored = WebhookEvent.objects.get()
    assert (stored.stripe_id, stored.type, stored.account, stored.api_version) == (
        "evt_1Itt6eB9wPxT0ovY3LLhi5bw", "account.updated", account.stripe_id, "2020-08-27"
    )
    assert stored.status == "processed"


def test_deauthorized_takes_the_account_from_the_envelope(client, fake_stripe, db):
    account = ExpressAccountFactory(stripe_id="acct_1Fg9jUA3kq9o1aTc", connected_at=LONG_AGO)
    response = deliver(fake_stripe, client, "event_account_application_deauthorized.json")

    assert (response.status_code, response.content) == (200, b"processed")
    account.refresh_from_db()
    assert account.status == ExpressAccount.Status.DISCONNECTED
    assert account.deauthorized_at == datetime.datetime.fromtimestamp(
        1621742759, tz=datetime.timezone.utc
    )
    assert WebhookEvent.objects.get().account == "acct_1Fg9jUA3kq9o1aTc"


@pytest.mark.parametrize("path", sorted(FIXTURES.glob("event_*.json")) if FIXTURES.is_dir() else [])
def test_every_captured_event_is_accepted_and_recorded(client, fake_stripe, db, path):
    # No account known here: each is recorded, answered 200, and not applied.
    response = deliver(fake_stripe, client, path.name)
    assert response.status_code == 200
    stored = WebhookEvent.objects.get()
    assert stored.status == "ignored"
    assert stored.account.startswith("acct_")
    assert stored.detail in {"unknown account", f"unhandled type {stored.type}"}
