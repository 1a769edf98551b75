"""`fake_stripe.deliver`: a webhook delivery whose on-commit signals reach the test.

The webhook sends its signals once its transaction commits; a test's own
transaction never commits, so receivers saw nothing and a host project's test
of its receiver could not pass without knowing about
``captureOnCommitCallbacks``. The fixture also gives database access.
"""

from __future__ import annotations

import pytest
from django.dispatch import receiver

from django_stripe_express.models import ExpressAccount
from django_stripe_express.signals import account_updated, webhook_event
from django_stripe_express.testing import FakeStripeError

from .factories import ExpressAccountFactory


@pytest.fixture
def heard():
    """What the receivers of `account_updated` and `webhook_event` were told."""
    seen: list[tuple[str, str]] = []

    @receiver(account_updated, weak=False)
    def on_update(sender, account, previous_status, **kwargs):
        seen.append(("account_updated", f"{previous_status}->{account.status}"))

    @receiver(webhook_event, weak=False)
    def on_event(sender, event, data, applied, **kwargs):
        seen.append(("webhook_event", data["type"]))

    yield seen
    account_updated.disconnect(on_update)
    webhook_event.disconnect(on_event)


def restricted_event(fake_stripe):
    acct = fake_stripe.create_account()
    fake_stripe.complete_onboarding(acct["id"])
    ExpressAccountFactory(stripe_id=acct["id"])
    fake_stripe.require_verification(acct["id"])
    return fake_stripe.build_event("account.updated", account=acct["id"])


def test_deliver_runs_the_signals_the_webhook_sends_on_commit(client, fake_stripe, heard):
    event = restricted_event(fake_stripe)

    response = fake_stripe.deliver(client, event)

    assert response.status_code == 200
    assert heard == [
        ("account_updated", "enabled->restricted"),
        ("webhook_event", "account.updated"),
    ]


def test_post_event_alone_leaves_them_waiting_for_a_commit(client, fake_stripe, heard):
    # Why `deliver` exists: the account changed, but no receiver heard of it.
    event = restricted_event(fake_stripe)
    assert fake_stripe.post_event(client, event).status_code == 200
    assert ExpressAccount.objects.get().status == "restricted"
    assert heard == []


def test_deliver_after_a_duplicate_sends_nothing_twice(client, fake_stripe, heard):
    event = restricted_event(fake_stripe)
    fake_stripe.deliver(client, event)
    assert fake_stripe.deliver(client, event).content == b"duplicate"
    assert [name for name, _ in heard] == ["account_updated", "webhook_event"]


def test_the_fixture_gives_database_access(client, fake_stripe):
    # No `db` fixture and no django_db mark: the fixture enables it.
    acct = fake_stripe.create_account()
    user = ExpressAccountFactory(stripe_id=acct["id"], onboarding=True).user
    assert ExpressAccount.objects.get(user=user).stripe_id == acct["id"]


@pytest.mark.django_db(transaction=True)
def test_deliver_in_a_transactional_test(client, fake_stripe, heard):
    # Callbacks run at once outside a transaction: deliver runs none twice.
    event = restricted_event(fake_stripe)
    fake_stripe.deliver(client, event)
    assert [name for name, _ in heard] == ["account_updated", "webhook_event"]


@pytest.mark.parametrize("url", ["http://127.0.0.1:8000", "http://127.0.0.1:8000/"])
def test_post_event_to_a_site_s_address_says_it_needs_the_webhook_url(fake_stripe, url):
    event = fake_stripe.build_event("account.updated", data_object={"id": "acct_1"})
    with pytest.raises(FakeStripeError, match=r"full URL.*/stripe/webhook/"):
        fake_stripe.post_event(url, event)
