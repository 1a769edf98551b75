"""The fake forwards every change it makes to an account to a webhook, as Stripe does.

`fake.forward_to(url)` (``--forward-to URL`` on the command line): onboarding
finished, requirements due, capability changes and deauthorization, whoever
makes them (the hosted page, the app's API calls, a test, the control page),
reach the URL as signed events (snapshot events for v1 accounts, thin events
for v2 ones), in order, from a background thread that never holds the
state's lock and whose failures never break the fake.
"""

from __future__ import annotations

import logging
import time

import pytest
import requests
from django.urls import reverse

from django_stripe_express.models import ExpressAccount, WebhookEvent
from django_stripe_express.testing import forwarding
from django_stripe_express.webhooks.receive import verify_signature

from .account_links_support import hosted_onboarding
from .factories import ExpressAccountFactory
from .forwarding_support import Receiver


def delivered(fake, endpoint, count: int) -> list[dict]:
    assert fake.forwarder.wait(10)
    assert len(endpoint.received) == count, endpoint.types
    return [r.event for r in endpoint.received]


def test_each_change_is_one_signed_delivery_in_order(forwarding_fake, endpoint):
    fake = forwarding_fake
    acct = fake.create_account()["id"]  # new: the app reads it when it makes it
    fake.complete_onboarding(acct)
    fake.require_verification(acct, fields=["individual.verification.document"])
    fake.deauthorize(acct)

    events = delivered(fake, endpoint, 5)
    assert [e["type"] for e in events] == [
        "account.updated", "capability.updated",  # onboarding finished
        "account.updated", "capability.updated",  # a document due: restricted
        "account.application.deauthorized",
    ]
    assert {e["account"] for e in events} == {acct}
    finished, _cap, restricted, _cap2, gone = events
    assert finished["data"]["object"]["charges_enabled"] is True
    assert finished["data"]["previous_attributes"]["details_submitted"] is False
    assert restricted["data"]["object"]["requirements"]["past_due"] == [
        "individual.verification.document"
    ]
    assert restricted["data"]["previous_attributes"]["charges_enabled"] is True
    assert gone["data"]["object"]["object"] == "application"
    for received in endpoint.received:  # signed exactly as Stripe signs
        assert received.path == "/stripe/webhook/"
        verify_signature(received.body.encode(), received.headers["Stripe-Signature"],
                         [fake.webhook_secret], 300)
        assert fake.events[received.event["id"]] == received.event  # /v1/events/{id}


def test_a_capability_change_says_what_it_was(forwarding_fake, endpoint):
    fake = forwarding_fake
    acct = fake.create_account(capabilities={"transfers": "active", "card_payments": "active"})
    fake.update_account(acct["id"], capabilities={"card_payments": "inactive"})

    account_updated, capability_updated = delivered(fake, endpoint, 2)
    assert account_updated["type"] == "account.updated"
    assert capability_updated["type"] == "capability.updated"
    assert capability_updated["data"]["object"]["id"] == "card_payments"
    assert capability_updated["data"]["object"]["status"] == "inactive"
    assert capability_updated["data"]["previous_attributes"] == {"status": "active"}


def test_changes_made_over_http_are_forwarded_too(forwarding_fake, endpoint, account_links_mode,
                                                  logged_in_client):
    # The hosted onboarding page changes accounts inside the fake's HTTP
    # server: the same forwarding, for the accounts either API creates.
    response = logged_in_client.post("/stripe/connect/")
    hosted_onboarding(response["Location"], outcome="pending_verification")
    assert forwarding_fake.forwarder.wait(10)
    if account_links_mode.api == "v1":
        assert endpoint.types == ["account.updated", "capability.updated"]
        event = endpoint.received[0].event
        assert event["data"]["object"]["requirements"]["pending_verification"]
    else:
        assert endpoint.types == [
            "v2.core.account[requirements].updated",
            "v2.core.account[identity].updated",
            "v2.core.account[configuration.recipient].capability_status_updated",
        ]


def test_nothing_is_sent_while_nothing_changes(forwarding_fake, endpoint):
    fake = forwarding_fake
    acct = fake.create_account()["id"]
    fake.update_account(acct, email=fake.accounts[acct]["email"])
    requests.get(f"{fake.url}/v1/accounts/{acct}", auth=(fake.secret_key, ""), timeout=5)
    assert delivered(fake, endpoint, 0) == []


def test_deliveries_never_hold_the_state_s_lock(forwarding_fake, endpoint):
    # The endpoint answers only once the gate opens; meanwhile the fake must
    # answer as usual (the app's webhook may call it back while it handles an event).
    fake = forwarding_fake
    acct = fake.create_account()["id"]
    endpoint.gate.clear()
    fake.complete_onboarding(acct)
    deadline = time.monotonic() + 5
    while not endpoint.received and time.monotonic() < deadline:
        time.sleep(0.01)
    assert endpoint.received, "nothing was posted"

    started = time.monotonic()
    answer = requests.get(f"{fake.url}/v1/accounts/{acct}", auth=(fake.secret_key, ""), timeout=5)
    fake.require_verification(acct)
    assert answer.status_code == 200
    assert time.monotonic() - started < 1

    endpoint.gate.set()
    assert [e["type"] for e in delivered(fake, endpoint, 4)].count("account.updated") == 2


def test_a_failed_delivery_is_retried_recorded_and_breaks_nothing(fake_stripe, caplog):
    caplog.set_level(logging.INFO, logger="django_stripe_express.testing")
    nowhere = Receiver()
    url = nowhere.url
    nowhere.close()  # connections refused from now on
    fake_stripe.forward_to(url, retries=1, backoff=0.01)
    acct = fake_stripe.create_account()["id"]

    fake_stripe.complete_onboarding(acct)
    assert fake_stripe.forwarder.wait(10)

    first = fake_stripe.forwarder.deliveries[0]
    assert (first.type, first.status_code, first.attempts, first.done) == (
        "account.updated", None, 2, True
    )
    assert "Connection refused" in first.error
    assert any(r.levelno == logging.WARNING and first.event_id in r.getMessage()
               for r in caplog.records)
    # The fake goes on: its API answers, and later changes are still forwarded.
    assert requests.get(f"{fake_stripe.url}/v1/accounts/{acct}",
                        auth=(fake_stripe.secret_key, ""), timeout=5).status_code == 200
    fake_stripe.require_verification(acct)
    assert fake_stripe.forwarder.wait(10)
    assert len(fake_stripe.forwarder.deliveries) == 4


@pytest.mark.parametrize(("status", "attempts"), [(500, 3), (400, 1), (200, 1)])
def test_only_server_errors_are_retried(fake_stripe, endpoint, status, attempts):
    endpoint.status = status
    fake_stripe.forward_to(endpoint.url, retries=2, backoff=0.01)
    acct = fake_stripe.create_account(capabilities={"transfers": "active"})["id"]
    fake_stripe.update_account(acct, email="new@example.com")
    assert fake_stripe.forwarder.wait(10)
    (delivery,) = fake_stripe.forwarder.deliveries
    assert (delivery.status_code, delivery.attempts) == (status, attempts)
    assert len(endpoint.received) == attempts


def test_stopping_drops_what_is_queued_and_retries_nothing(fake_stripe):
    # A slow retry plan towards a webhook that is down: stopping (the fixture's
    # reset between tests, Ctrl-C) must not wait for it.
    nowhere = Receiver()
    url = nowhere.url
    nowhere.close()
    fake_stripe.forward_to(url, retries=5, backoff=30)
    acct = fake_stripe.create_account()["id"]
    fake_stripe.complete_onboarding(acct)
    fake_stripe.require_verification(acct)

    started = time.monotonic()
    fake_stripe.stop_forwarding()

    assert time.monotonic() - started < 5
    assert fake_stripe.forwarder.wait(1)
    assert len(fake_stripe.forwarder.deliveries) <= 1  # at most the one in flight


def test_reset_stops_forwarding(fake_stripe, endpoint):
    fake_stripe.forward_to(endpoint.url)
    acct = fake_stripe.create_account()["id"]
    fake_stripe.reset()
    assert not fake_stripe.forwarder.watching
    fake_stripe.create_account(id=acct)
    fake_stripe.complete_onboarding(acct)
    assert endpoint.received == []


def test_v2_accounts_send_thin_events(forwarding_fake, endpoint):
    fake = forwarding_fake
    acct = fake.create_v2_account(merchant=True)["id"]

    fake.complete_onboarding(acct)
    fake.set_capability(acct, "card_payments", "restricted", code="requirements_past_due")
    fake.update_account(acct, display_name="Ann's shop")
    fake.close_account(acct)

    events = delivered(fake, endpoint, 7)
    assert [e["type"] for e in events] == [
        # onboarding finished
        "v2.core.account[requirements].updated",
        "v2.core.account[identity].updated",
        "v2.core.account[configuration.recipient].capability_status_updated",
        "v2.core.account[configuration.merchant].capability_status_updated",
        # card payments restricted
        "v2.core.account[configuration.merchant].capability_status_updated",
        # the display name
        "v2.core.account.updated",
        "v2.core.account.closed",
    ]
    for received in endpoint.received:
        event = received.event
        assert event["object"] == "v2.core.event"
        assert event["related_object"]["id"] == acct
        assert "data" not in event  # thin: the app fetches what changed
        verify_signature(received.body.encode(), received.headers["Stripe-Signature"],
                         [fake.webhook_secret], 300)
    full = fake.thin_events[events[2]["id"]]  # served at /v2/core/events/{id}
    assert full["data"] == {"updated_capability": "stripe_balance.stripe_transfers"}


def test_a_kind_without_a_builder_is_skipped_and_said_once(
    forwarding_fake, endpoint, caplog, monkeypatch
):
    caplog.set_level(logging.WARNING, logger="django_stripe_express.testing")
    monkeypatch.delitem(forwarding.EVENT_BUILDERS, "v2")
    fake = forwarding_fake
    acct = fake.create_v2_account()["id"]
    fake.complete_onboarding(acct)
    fake.close_account(acct)
    assert delivered(fake, endpoint, 0) == []
    said = [r.getMessage() for r in caplog.records if "v2 accounts" in r.getMessage()]
    assert said == ["fake Stripe: no events to forward for v2 accounts"]


# -- end to end: the app's webhook, served for real ---------------------------------------


@pytest.fixture
def app_webhook(live_server, fake_stripe):
    fake_stripe.forward_to(live_server.url + reverse("stripe_express:webhook"), backoff=0.05)
    yield fake_stripe
    fake_stripe.stop_forwarding()


@pytest.mark.parametrize("refetch", [False, True])
def test_the_app_s_status_changes_by_forwarded_webhook(app_webhook, settings, refetch):
    # With WEBHOOK_REFETCH_ACCOUNT the webhook calls the fake back while the
    # fake delivers: that only works because the delivery holds no lock.
    settings.STRIPE_EXPRESS = {**settings.STRIPE_EXPRESS, "WEBHOOK_REFETCH_ACCOUNT": refetch}
    fake = app_webhook
    acct = fake.create_account()["id"]
    fake.complete_onboarding(acct)
    # The live server shares the test's in-memory SQLite connection: no write
    # of the test's may run beside one of the webhook's.
    assert fake.forwarder.wait(15)
    account = ExpressAccountFactory(stripe_id=acct)

    fake.require_verification(acct)
    assert fake.forwarder.wait(15)
    account.refresh_from_db()
    assert account.status == ExpressAccount.Status.RESTRICTED
    fake.deauthorize(acct)
    assert fake.forwarder.wait(15)
    account.refresh_from_db()
    assert account.status == ExpressAccount.Status.DISCONNECTED
    # Onboarding (before the row existed: recorded as ignored), restriction, deauthorization.
    assert [d.status_code for d in fake.forwarder.deliveries] == [200] * 5
    assert set(WebhookEvent.objects.values_list("type", flat=True)) == {
        "account.updated", "capability.updated", "account.application.deauthorized"
    }


def test_a_v2_account_changes_by_forwarded_thin_events(app_webhook):
    # Each thin event makes the app fetch the account from the fake while the
    # fake delivers: the delivery holds no lock.
    from .test_webhook_thin import stored_v2_account

    fake = app_webhook
    account = stored_v2_account(fake)
    assert account.status == ExpressAccount.Status.ONBOARDING

    fake.complete_onboarding(account.stripe_id)
    assert fake.forwarder.wait(15)
    account.refresh_from_db()
    assert account.status == ExpressAccount.Status.ENABLED
    fake.require_verification(account.stripe_id)
    assert fake.forwarder.wait(15)
    account.refresh_from_db()
    assert account.status == ExpressAccount.Status.RESTRICTED
    fake.close_account(account.stripe_id)
    assert fake.forwarder.wait(15)
    account.refresh_from_db()
    assert account.status == ExpressAccount.Status.DISCONNECTED
    assert {d.status_code for d in fake.forwarder.deliveries} == {200}
    assert "v2.core.account.closed" in WebhookEvent.objects.values_list("type", flat=True)


def test_the_trigger_command_says_whether_the_app_processed_or_ignored_it(
    app_webhook, capsys
):
    from django_stripe_express.testing.__main__ import main

    fake = app_webhook
    acct = fake.create_account()["id"]
    assert fake.forwarder.wait(15)  # its creation's event, if any, is answered

    unknown = main(["trigger", "account.updated", "--account", acct, "--fake", fake.url])
    said = capsys.readouterr().out
    assert unknown == 0, said
    assert "answered 200 after 1 tries: the app ignored it (" in said

    ExpressAccountFactory(stripe_id=acct)
    known = main(["trigger", "account.updated", "--account", acct, "--fake", fake.url])
    said = capsys.readouterr().out
    assert known == 0, said
    assert "answered 200 after 1 tries: the app processed it" in said
