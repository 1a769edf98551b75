"""A router that sends reads to a replica changes nothing for the webhook.

Deciding an event from a replica's copy could take a processed event for a
new one, or miss the row just written. So the webhook reads and writes where
the ORM writes (`router.db_for_write`). Here the "replica" is a separate,
empty database: the worst replication lag there is. Any read that went there
would find nothing.
"""

from __future__ import annotations

from typing import Any

import pytest

from django_stripe_express.models import ExpressAccount, WebhookEvent

from .factories import ExpressAccountFactory
from .test_webhooks import T0, deliver

pytestmark = pytest.mark.django_db(databases=["default", "replica"])


class ReadsFromAReplica:
    def db_for_read(self, model: Any, **hints: Any) -> str:
        return "replica"

    def db_for_write(self, model: Any, **hints: Any) -> str:
        return "default"


@pytest.fixture(autouse=True)
def replica_router(settings):
    settings.DATABASE_ROUTERS = [f"{__name__}.ReadsFromAReplica"]


def on_default(model: type[Any]) -> Any:
    return model.objects.using("default")


def test_every_kind_of_delivery_is_decided_on_the_primary(client, fake_stripe, settings):
    account = ExpressAccountFactory(onboarding=True)
    acct = account.stripe_id
    fake_stripe.create_account(id=acct)
    fake_stripe.complete_onboarding(acct)
    new = fake_stripe.build_event("account.updated", account=acct, created=T0 + 10)
    stale = fake_stripe.build_event("account.updated", account=acct, created=T0)
    capability = fake_stripe.build_event(
        "capability.updated", account=acct, capability="transfers", created=T0 + 20
    )
    stranger = fake_stripe.create_account()
    unknown = fake_stripe.build_event("account.updated", account=stranger["id"], created=T0)

    assert deliver(fake_stripe, client, new).content == b"processed"
    assert deliver(fake_stripe, client, new).content == b"duplicate"
    assert deliver(fake_stripe, client, stale).content == b"ignored: stale"
    assert deliver(fake_stripe, client, capability).content == b"processed"
    assert deliver(fake_stripe, client, unknown).content == b"ignored: unknown account"
    assert deliver(fake_stripe, client, unknown).content == b"duplicate"

    assert on_default(ExpressAccount).get(pk=account.pk).status == "enabled"
    assert dict(on_default(WebhookEvent).values_list("stripe_id", "status")) == {
        new["id"]: "processed",
        stale["id"]: "ignored",
        capability["id"]: "processed",
        unknown["id"]: "ignored",
    }
    assert not WebhookEvent.objects.using("replica").exists()


def test_a_failed_event_is_processed_again_on_the_primary(client, fake_stripe, settings):
    settings.STRIPE_EXPRESS = {**settings.STRIPE_EXPRESS, "WEBHOOK_REFETCH_ACCOUNT": True}
    account = ExpressAccountFactory(onboarding=True)
    acct = account.stripe_id
    fake_stripe.create_account(id=acct)
    fake_stripe.complete_onboarding(acct)
    event = fake_stripe.build_event("account.updated", account=acct, created=T0)
    fake_stripe.fail_next(f"GET /v1/accounts/{acct}", status=500, message="Stripe is down")

    assert deliver(fake_stripe, client, event).status_code == 500
    assert deliver(fake_stripe, client, event).content == b"processed"
    stored = on_default(WebhookEvent).get()
    assert (stored.status, stored.attempts) == ("processed", 2)
    assert on_default(ExpressAccount).get(pk=account.pk).status == "enabled"
