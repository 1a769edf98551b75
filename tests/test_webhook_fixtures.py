"""Real-shaped Express events, delivered as Stripe posts them.

Each event is built by the fake and first checked against stripe 16's typed
classes (``stripe.Event``, ``stripe.Account``, ``stripe.Application``): the
shape every install's library knows, with no file from outside the repository.
"""

from __future__ import annotations

import datetime
from typing import Any

import pytest
import stripe

from django_stripe_express.models import ExpressAccount, WebhookEvent
from django_stripe_express.testing import API_VERSION

from .factories import ExpressAccountFactory
from .stripe_types import problems

pytestmark = pytest.mark.django_db
URL = "/stripe/webhook/"
LONG_AGO = datetime.datetime(2021, 1, 1, tzinfo=datetime.timezone.utc)
MAY_2021 = 1621683300


def typed(fake_stripe_client: stripe.StripeClient, event: dict[str, Any]) -> stripe.Event:
    """The event as the library reads it from Stripe: it must fit stripe 16's classes."""
    read = fake_stripe_client.v1.events.retrieve(event["id"])
    assert isinstance(read, stripe.Event)
    assert problems(read, stripe.Event) == []
    cls = {"account": stripe.Account, "capability": stripe.Capability,
           "application": stripe.Application}[read.data.object.object]
    assert problems(read.data.object, cls) == []
    return read


def test_express_account_updated_is_applied(client, fake_stripe, fake_stripe_client):
    acct = fake_stripe.create_account(
        email="djstripe@example.com", capabilities={"transfers": "inactive"}
    )["id"]
    fake_stripe.complete_onboarding(acct)
    fake_stripe.update_account(
        acct, requirements={"eventually_due": ["individual.verification.document"]}
    )
    account = ExpressAccountFactory(stripe_id=acct, onboarding=True, connected_at=LONG_AGO)
    event = fake_stripe.build_event("account.updated", account=acct, created=MAY_2021)
    typed(fake_stripe_client, event)

    response = fake_stripe.post_event(client, event, path=URL)

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
        MAY_2021, tz=datetime.timezone.utc
    )
    stored = WebhookEvent.objects.get()
    assert (stored.stripe_id, stored.type, stored.account, stored.api_version) == (
        event["id"], "account.updated", acct, API_VERSION
    )
    assert stored.status == "processed"


def test_deauthorized_takes_the_account_from_the_envelope(client, fake_stripe, fake_stripe_client):
    acct = fake_stripe.create_account()["id"]
    account = ExpressAccountFactory(stripe_id=acct, connected_at=LONG_AGO)
    event = fake_stripe.build_event(
        "account.application.deauthorized", account=acct, created=1621742759
    )
    # The object is the platform's Application: only the envelope names the account.
    assert typed(fake_stripe_client, event).data.object.id == fake_stripe.client_id

    response = fake_stripe.post_event(client, event, path=URL)

    assert (response.status_code, response.content) == (200, b"processed")
    account.refresh_from_db()
    assert account.status == ExpressAccount.Status.DISCONNECTED
    assert account.deauthorized_at == datetime.datetime.fromtimestamp(
        1621742759, tz=datetime.timezone.utc
    )
    assert WebhookEvent.objects.get().account == acct


@pytest.mark.parametrize(
    "kind", ["account.updated", "capability.updated", "account.application.deauthorized"]
)
def test_every_event_for_an_unknown_account_is_accepted_and_recorded(
    client, fake_stripe, fake_stripe_client, kind
):
    # No account known here: each is recorded, answered 200, and not applied.
    acct = fake_stripe.create_account()["id"]
    event = fake_stripe.build_event(kind, account=acct)
    typed(fake_stripe_client, event)
    response = fake_stripe.post_event(client, event, path=URL)
    assert response.status_code == 200
    stored = WebhookEvent.objects.get()
    assert stored.status == "ignored"
    assert stored.account == acct
    assert stored.detail in {"unknown account", f"unhandled type {stored.type}"}
