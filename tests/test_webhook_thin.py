"""Thin events (Accounts v2) through the webhook view: real signatures, the real
database, the fake Stripe's own notifications and its /v2 answers.

A thin event carries no data: the app records it once, fetches the account
(one call, with the ``include`` it reads) and applies it under the same
ordering rule as snapshot events.
"""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from django.urls import reverse

from django_stripe_express import signals
from django_stripe_express.models import ExpressAccount, WebhookEvent
from django_stripe_express.testing import objects_v2
from django_stripe_express.webhooks.store import process_event

from .account_links_support import INCLUDE
from .factories import ExpressAccountFactory, UserFactory
from .test_webhooks import T0, at, data_queries

THIN_URL = "/stripe/webhook/thin/"
URL = "/stripe/webhook/"
UPDATED = "v2.core.account.updated"
REQUIREMENTS = "v2.core.account[requirements].updated"
RECIPIENT = "v2.core.account[configuration.recipient].capability_status_updated"
MERCHANT = "v2.core.account[configuration.merchant].capability_status_updated"
CLOSED = "v2.core.account.closed"
RETURNED = "v2.core.account_link.returned"
Status = ExpressAccount.Status
pytestmark = pytest.mark.django_db


def stored_v2_account(fake) -> ExpressAccount:
    """A v2 account at the fake, not onboarded, stored as the flow stores it."""
    user = UserFactory()
    data = fake.create_v2_account(contact_email=user.email, merchant=True)
    account = ExpressAccount(
        user=user, stripe_id=data["id"], accounts_api="v2", connected_at=at(T0 - 3600)
    )
    account.apply(objects_v2.answer(data, INCLUDE))
    account.save()
    return account


@pytest.fixture
def v2_account(fake_stripe) -> ExpressAccount:
    return stored_v2_account(fake_stripe)


@pytest.fixture
def signalled(capture_signal) -> dict[str, list[dict[str, Any]]]:
    return {
        "updated": capture_signal(signals.account_updated),
        "deauthorized": capture_signal(signals.account_deauthorized),
        "event": capture_signal(signals.webhook_event),
    }


def thin(fake, type_: str, account: str | None, seconds: float, **kwargs: Any) -> dict[str, Any]:
    return fake.build_thin_event(type_, account=account, created=T0 + seconds, **kwargs)


def deliver(fake, client, event: dict[str, Any], path: str = THIN_URL, **kwargs: Any):
    return fake.post_event(client, event, path=path, **kwargs)


def reads(fake, acct: str) -> int:
    """The fake's reads of the account through /v2 (each with the app's include)."""
    found = fake.requests_to(f"/v2/core/accounts/{acct}", "GET")
    assert all(request.query == {"include": INCLUDE} for request in found)
    return len(found)


def stored(account: ExpressAccount) -> ExpressAccount:
    return ExpressAccount.objects.get(pk=account.pk)


def test_thin_webhook_is_the_same_view_under_its_own_name():
    assert reverse("stripe_express:thin_webhook") == THIN_URL


def test_thin_events_move_an_account_from_onboarding_to_closed(
    client, fake_stripe, v2_account, signalled, django_capture_on_commit_callbacks
):
    acct = v2_account.stripe_id
    journey = [
        # (what happens at Stripe, the thin event it sends, the URL, the status)
        (lambda: None, UPDATED, THIN_URL, Status.ONBOARDING),
        (lambda: (fake_stripe.complete_onboarding(acct),
                  fake_stripe.require_verification(acct, None)),
         REQUIREMENTS, URL, Status.RESTRICTED),
        (lambda: fake_stripe.complete_onboarding(acct), RECIPIENT, THIN_URL, Status.ENABLED),
        (lambda: fake_stripe.close_account(acct), CLOSED, URL, Status.DISCONNECTED),
    ]
    seen = []
    for step, (change, type_, path, _status) in enumerate(journey):
        change()
        event = thin(fake_stripe, type_, acct, step)
        with django_capture_on_commit_callbacks(execute=True):
            response = deliver(fake_stripe, client, event, path)
        assert (response.status_code, response.content) == (200, b"processed")
        seen.append(stored(v2_account).status)

    assert seen == [status for *_, status in journey]
    account = stored(v2_account)
    assert account.deauthorized_at is not None
    assert account.last_event_created == at(T0 + 3)
    assert reads(fake_stripe, acct) == 4  # one per event
    assert [e.status for e in WebhookEvent.objects.order_by("created")] == ["processed"] * 4
    # Signals: account_updated for each change of state but the closing, which
    # disconnects; webhook_event for all four, with the account as fetched.
    assert [(s["previous_status"], s["account"].status) for s in signalled["updated"]] == [
        ("onboarding", "onboarding"), ("onboarding", "restricted"), ("restricted", "enabled")
    ]
    assert [s["account"].stripe_id for s in signalled["deauthorized"]] == [acct]
    events = signalled["event"]
    assert [e["data"]["type"] for e in events] == [UPDATED, REQUIREMENTS, RECIPIENT, CLOSED]
    assert all(e["applied"] for e in events)
    assert all(e["fetched"]["object"] == "v2.core.account" for e in events)
    assert all(e["fetched"]["id"] == acct for e in events)
    assert events[-1]["fetched"]["closed"] is True
    assert events[2]["fetched"]["configuration"]["recipient"]["capabilities"][
        "stripe_balance"]["stripe_transfers"]["status"] == "active"


def test_queries_and_stripe_calls_per_thin_event(client, fake_stripe, v2_account):
    acct = v2_account.stripe_id
    fake_stripe.complete_onboarding(acct)
    new = thin(fake_stripe, REQUIREMENTS, acct, 10)
    stale = thin(fake_stripe, UPDATED, acct, 5)
    new_body, new_header = fake_stripe.signed(new)
    stale_body, stale_header = fake_stripe.signed(stale)

    def post(body: str, header: str):
        return client.post(THIN_URL, data=body, content_type="application/json",
                           HTTP_STRIPE_SIGNATURE=header)

    # The account with the event's stored status (no lock); the fetch; the
    # account's conditional UPDATE and the event's INSERT.
    with data_queries(["SELECT", "UPDATE", "INSERT"]):
        assert post(new_body, new_header).content == b"processed"
    assert reads(fake_stripe, acct) == 1
    with data_queries(["SELECT"]):
        assert post(new_body, new_header).content == b"duplicate"
    with data_queries(["SELECT", "INSERT"]):  # older than the one applied: not fetched
        assert post(stale_body, stale_header).content == b"ignored: stale"
    with data_queries(["SELECT"]):
        assert post(stale_body, stale_header).content == b"duplicate"
    assert reads(fake_stripe, acct) == 1
    assert len(fake_stripe.requests) == 1
    assert stored(v2_account).status == Status.ENABLED


def test_a_returned_account_link_is_read_through_its_event(
    client, fake_stripe, v2_account, signalled, django_capture_on_commit_callbacks
):
    """Its notification has no related_object: the account is in the event's data."""
    acct = v2_account.stripe_id
    fake_stripe.complete_onboarding(acct)
    event = thin(fake_stripe, RETURNED, acct, 1)
    assert "related_object" not in event

    with django_capture_on_commit_callbacks(execute=True):
        assert deliver(fake_stripe, client, event).content == b"processed"
    assert stored(v2_account).status == Status.ENABLED
    stored_event = WebhookEvent.objects.get()
    assert (stored_event.type, stored_event.account) == (RETURNED, acct)
    # Two calls: the event (for its account), then the account.
    assert [r.path for r in fake_stripe.requests] == [
        f"/v2/core/events/{event['id']}", f"/v2/core/accounts/{acct}"
    ]
    assert signalled["event"][0]["fetched"]["id"] == acct
    with data_queries(["SELECT"]):  # a duplicate: no call to Stripe
        assert deliver(fake_stripe, client, event).content == b"duplicate"
    assert len(fake_stripe.requests) == 2


def test_unknown_account_other_mode_and_unknown_type_are_recorded_with_the_reason(
    client, fake_stripe, v2_account
):
    stranger = fake_stripe.create_v2_account(contact_email="x@example.com")["id"]
    cases = [
        (thin(fake_stripe, UPDATED, stranger, 1), "unknown account"),
        (thin(fake_stripe, UPDATED, v2_account.stripe_id, 2, livemode=True),
         "live-mode event, other mode configured"),
        (thin(fake_stripe, "v2.core.account_person.created", v2_account.stripe_id, 3),
         "unhandled type v2.core.account_person.created"),
    ]
    for event, reason in cases:
        response = deliver(fake_stripe, client, event)
        assert (response.status_code, response.content) == (200, f"ignored: {reason}".encode())
        row = WebhookEvent.objects.get(stripe_id=event["id"])
        assert (row.status, row.detail) == ("ignored", reason)
    assert fake_stripe.requests == []  # nothing fetched for any of them
    assert stored(v2_account).status == Status.ONBOARDING


@pytest.mark.parametrize(
    ("case", "secret", "timestamp"),
    [
        ("forged", "whsec_someone_else", None),
        ("stale", None, T0),
        ("unsigned", None, None),
    ],
)
def test_forged_stale_or_unsigned_thin_events_are_refused(
    client, fake_stripe, v2_account, case, secret, timestamp
):
    event = thin(fake_stripe, UPDATED, v2_account.stripe_id, 1)
    body, header = fake_stripe.signed(event, secret, timestamp)
    headers = {} if case == "unsigned" else {"HTTP_STRIPE_SIGNATURE": header}

    response = client.post(THIN_URL, data=body, content_type="application/json", **headers)

    assert response.status_code == 400
    assert not WebhookEvent.objects.exists()
    assert fake_stripe.requests == []


def test_a_malformed_thin_event_is_refused(client, fake_stripe, v2_account):
    event = thin(fake_stripe, UPDATED, v2_account.stripe_id, 1)
    event["created"] = "yesterday"

    assert deliver(fake_stripe, client, event).status_code == 400
    assert not WebhookEvent.objects.exists()


def test_each_destination_has_its_own_secret(client, fake_stripe, v2_account, settings):
    """A Connect webhook endpoint and the thin event destination sign differently."""
    settings.STRIPE_EXPRESS = {
        **settings.STRIPE_EXPRESS,
        "WEBHOOK_SECRETS": ["whsec_connect_endpoint", "whsec_thin_destination"],
    }
    event = thin(fake_stripe, UPDATED, v2_account.stripe_id, 1)

    assert deliver(fake_stripe, client, event, secret="whsec_unknown").status_code == 400
    response = deliver(fake_stripe, client, event, secret="whsec_thin_destination")
    assert response.content == b"processed"


def test_stripe_unreachable_during_the_fetch_fails_and_the_retry_applies(
    client, fake_stripe, v2_account, signalled, django_capture_on_commit_callbacks
):
    acct = v2_account.stripe_id
    fake_stripe.complete_onboarding(acct)
    event = thin(fake_stripe, UPDATED, acct, 1)

    with fake_stripe.refuse_connections(), django_capture_on_commit_callbacks(execute=True):
        response = deliver(fake_stripe, client, event)
    assert response.status_code == 500
    failed = WebhookEvent.objects.get()
    assert (failed.status, failed.attempts) == ("failed", 1)
    assert "APIConnectionError" in failed.detail
    assert stored(v2_account).status == Status.ONBOARDING
    assert signalled["event"] == []

    with django_capture_on_commit_callbacks(execute=True):
        retried = deliver(fake_stripe, client, event)
    assert (retried.status_code, retried.content) == (200, b"processed")
    failed.refresh_from_db()
    assert (failed.status, failed.attempts) == ("processed", 2)
    assert stored(v2_account).status == Status.ENABLED
    assert len(signalled["updated"]) == 1


def test_a_server_error_during_the_fetch_fails(client, fake_stripe, v2_account):
    acct = v2_account.stripe_id
    fake_stripe.fail_next(f"GET /v2/core/accounts/{acct}", status=500)

    assert deliver(fake_stripe, client, thin(fake_stripe, UPDATED, acct, 1)).status_code == 500
    assert WebhookEvent.objects.get().status == "failed"


def test_an_account_stripe_no_longer_has_is_disconnected_not_retried(
    client, fake_stripe, v2_account, signalled, django_capture_on_commit_callbacks
):
    acct = v2_account.stripe_id
    del fake_stripe.accounts[acct]  # deleted at Stripe: 404 resource_missing

    with django_capture_on_commit_callbacks(execute=True):
        response = deliver(fake_stripe, client, thin(fake_stripe, UPDATED, acct, 1))

    assert (response.status_code, response.content) == (200, b"processed")
    account = stored(v2_account)
    assert (account.status, account.is_connected) == (Status.DISCONNECTED, False)
    row = WebhookEvent.objects.get()
    assert row.status == "processed"
    assert "resource_missing" in row.detail
    assert [s["account"].stripe_id for s in signalled["deauthorized"]] == [acct]
    assert signalled["event"][0]["fetched"] is None
    # Later events about it are not fetched again.
    assert deliver(fake_stripe, client, thin(fake_stripe, UPDATED, acct, 2)).content == (
        b"ignored: account disconnected"
    )
    assert len(fake_stripe.requests) == 1


def test_refetch_of_a_revoked_v1_account_disconnects_it(
    client, fake_stripe, settings, signalled, django_capture_on_commit_callbacks
):
    """A 403 while WEBHOOK_REFETCH_ACCOUNT reads a v1 account is not a 500 loop."""
    settings.STRIPE_EXPRESS = {**settings.STRIPE_EXPRESS, "WEBHOOK_REFETCH_ACCOUNT": True}
    account = ExpressAccountFactory(onboarding=True, connected_at=at(T0 - 3600))
    fake_stripe.create_account(id=account.stripe_id)
    event = fake_stripe.build_event("account.updated", account=account.stripe_id, created=T0)
    fake_stripe.deauthorize(account.stripe_id)  # the user revoked the platform's access

    with django_capture_on_commit_callbacks(execute=True):
        response = fake_stripe.post_event(client, event, path=URL)

    assert (response.status_code, response.content) == (200, b"processed")
    assert stored(account).status == Status.DISCONNECTED
    assert "account_invalid" in WebhookEvent.objects.get().detail
    assert len(signalled["deauthorized"]) == 1


def test_v1_snapshots_of_a_v2_account_are_ignored(client, fake_stripe, v2_account):
    """Stripe sends them in v1 shape: applied, they would mix v1 names into the v2 row."""
    acct = v2_account.stripe_id
    fake_stripe.complete_onboarding(acct)
    reason = "v1 snapshot of an Accounts v2 account: its thin events keep it"
    for event in (
        fake_stripe.build_event("account.updated", account=acct, created=T0),
        fake_stripe.build_event("capability.updated", account=acct, created=T0),
    ):
        assert event["data"]["object"].get("object") in ("account", "capability")
        response = fake_stripe.post_event(client, event, path=URL)
        assert response.content == f"ignored: {reason}".encode()

    account = stored(v2_account)
    assert account.status == Status.ONBOARDING
    assert "transfers" not in account.capabilities
    assert fake_stripe.requests == []


def test_a_thin_event_about_a_v1_account_is_ignored(client, fake_stripe):
    account = ExpressAccountFactory(onboarding=True)
    fake_stripe.create_account(id=account.stripe_id)

    response = deliver(fake_stripe, client, thin(fake_stripe, UPDATED, account.stripe_id, 1))

    assert response.content == (
        b"ignored: thin event about an Accounts v1 account: its snapshot events keep it"
    )
    assert fake_stripe.requests == []


def test_an_older_thin_event_fetched_later_does_not_overwrite(client, fake_stripe, v2_account):
    """Marks are the events' times (milliseconds), whatever the order of delivery."""
    acct = v2_account.stripe_id
    older = thin(fake_stripe, UPDATED, acct, 0.250)
    fake_stripe.complete_onboarding(acct)
    newer = thin(fake_stripe, MERCHANT, acct, 0.500)

    assert deliver(fake_stripe, client, newer).content == b"processed"
    assert deliver(fake_stripe, client, older).content == b"ignored: stale"
    account = stored(v2_account)
    assert account.status == Status.ENABLED
    assert account.last_event_created == at(T0) + datetime.timedelta(milliseconds=500)


def test_a_failed_thin_event_is_processed_again_from_its_record(
    client, fake_stripe, v2_account
):
    """As the admin's "Process failed events again" and the task do."""
    acct = v2_account.stripe_id
    with fake_stripe.refuse_connections():
        assert deliver(fake_stripe, client, thin(fake_stripe, UPDATED, acct, 1)).status_code == 500
    fake_stripe.complete_onboarding(acct)

    answer = process_event(WebhookEvent.objects.get())

    assert (answer.status_code, answer.message) == (200, "processed")
    assert stored(v2_account).status == Status.ENABLED
