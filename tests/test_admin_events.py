"""The webhook event admin: read-only, readable payloads, and "process again"."""

from __future__ import annotations

import datetime
import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from django_stripe_express.models import ExpressAccount, WebhookEvent

from .admin_support import action_names, messages_of, staff_client
from .factories import ExpressAccountFactory, WebhookEventFactory

pytestmark = pytest.mark.django_db

Status = WebhookEvent.Status


def url(name: str, *args) -> str:
    return reverse(f"admin:django_stripe_express_webhookevent_{name}", args=args)


def process_again(client, events):
    data = {"action": "process_again", "_selected_action": [e.pk for e in events]}
    return client.post(url("changelist"), data, follow=True)


def stored_failure(fake, account: ExpressAccount) -> WebhookEvent:
    """A genuine ``account.updated`` for ``account`` that failed when it arrived."""
    event = fake.build_event("account.updated", account=account.stripe_id)
    return WebhookEventFactory(
        stripe_id=event["id"],
        account=account.stripe_id,
        status=Status.FAILED,
        detail="OperationalError: database is locked",
        attempts=1,
        created=datetime.datetime.fromtimestamp(event["created"], tz=datetime.timezone.utc),
        payload=event,
    )


def test_payload_is_pretty_printed_and_escaped():
    event = WebhookEventFactory(
        payload={"id": "evt_1", "data": {"object": {"business_profile": {"name": "<b>x</b>"}}}}
    )
    client = staff_client("view_webhookevent")

    response = client.get(url("change", event.pk))

    assert response.status_code == 200
    html = response.content.decode()
    assert '<pre class="stripe-express-payload">' in html
    assert "&lt;b&gt;x&lt;/b&gt;" in html
    assert "<b>x</b>" not in html
    assert '{\n  &quot;data&quot;: {\n    &quot;object&quot;' in html
    assert 'name="_save"' not in html


def test_read_only_for_staff():
    event = WebhookEventFactory()
    client = staff_client("view_webhookevent", "change_webhookevent", "delete_webhookevent")
    assert client.post(url("change", event.pk), {"status": "failed"}).status_code == 403
    assert client.get(url("add")).status_code == 403
    assert client.post(url("delete", event.pk), {"post": "yes"}).status_code == 403
    event.refresh_from_db()
    assert event.status == Status.PROCESSED


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"status__exact": "failed"}, {"failed"}),
        ({"type": "capability.updated"}, {"capability"}),
        ({"livemode__exact": "1"}, {"live"}),
        ({"q": "evt_findme"}, {"failed"}),
        ({"q": "acct_findme"}, {"capability"}),
    ],
)
def test_filters_and_search(query, expected):
    rows = {
        "failed": WebhookEventFactory(stripe_id="evt_findme", status=Status.FAILED),
        "capability": WebhookEventFactory(type="capability.updated", account="acct_findme"),
        "live": WebhookEventFactory(livemode=True),
    }
    response = staff_client("view_webhookevent").get(url("changelist"), query)
    assert response.status_code == 200
    shown = {e.pk for e in response.context["cl"].result_list}
    assert {name for name, e in rows.items() if e.pk in shown} == expected


def test_process_again_needs_the_change_permission(fake_stripe):
    account = ExpressAccountFactory(stripe_id=fake_stripe.create_account()["id"], onboarding=True)
    event = stored_failure(fake_stripe, account)
    client = staff_client("view_webhookevent")

    response = process_again(client, [event])

    assert action_names(response) == []
    event.refresh_from_db()
    assert event.status == Status.FAILED


def test_process_again_applies_a_failed_event(fake_stripe):
    data = fake_stripe.create_account()
    account = ExpressAccountFactory(stripe_id=data["id"], onboarding=True)
    fake_stripe.complete_onboarding(data["id"])
    failed = stored_failure(fake_stripe, account)
    done = WebhookEventFactory(status=Status.PROCESSED)
    client = staff_client("view_webhookevent", "change_webhookevent")

    response = process_again(client, [failed, done])

    assert "process_again" in action_names(response)
    msgs = messages_of(response)
    assert "1 selected event(s) were already processed or ignored and were left alone." in msgs
    assert f"Event {failed.stripe_id}: Processed." in msgs
    failed.refresh_from_db()
    assert failed.status == Status.PROCESSED
    account.refresh_from_db()
    assert account.status == ExpressAccount.Status.ENABLED


def test_process_again_applies_an_event_still_waiting_for_its_task(fake_stripe):
    # WEBHOOK_PROCESSING = "task", and the task was lost (a broker emptied, a
    # worker killed): staff can apply the event from here.
    data = fake_stripe.create_account()
    account = ExpressAccountFactory(stripe_id=data["id"], onboarding=True)
    fake_stripe.complete_onboarding(data["id"])
    waiting = stored_failure(fake_stripe, account)
    WebhookEvent.objects.filter(pk=waiting.pk).update(status=Status.RECEIVED, attempts=0, detail="")

    response = process_again(staff_client("view_webhookevent", "change_webhookevent"), [waiting])

    assert messages_of(response) == [f"Event {waiting.stripe_id}: Processed."]
    waiting.refresh_from_db()
    assert (waiting.status, waiting.attempts) == (Status.PROCESSED, 1)
    account.refresh_from_db()
    assert account.status == ExpressAccount.Status.ENABLED


def test_process_again_reports_a_new_failure(fake_stripe, settings):
    settings.STRIPE_EXPRESS = {**settings.STRIPE_EXPRESS, "WEBHOOK_REFETCH_ACCOUNT": True}
    data = fake_stripe.create_account()
    account = ExpressAccountFactory(stripe_id=data["id"], onboarding=True)
    failed = stored_failure(fake_stripe, account)
    client = staff_client("view_webhookevent", "change_webhookevent")

    with fake_stripe.refuse_connections():
        response = process_again(client, [failed])

    assert response.status_code == 200
    assert messages_of(response) == [f"Event {failed.stripe_id}: Failed."]
    failed.refresh_from_db()
    assert failed.status == Status.FAILED
    assert failed.attempts == 2


def test_query_count_does_not_grow_with_rows():
    client = staff_client("view_webhookevent")
    WebhookEventFactory.create_batch(3)
    with CaptureQueriesContext(connection) as few:
        assert client.get(url("changelist")).status_code == 200

    now = timezone.now()
    WebhookEvent.objects.bulk_create(
        WebhookEvent(
            stripe_id=f"evt_bulk{i}", type="account.updated", account=f"acct_{i}",
            created=now, payload=json.loads('{"id": "x"}'),
        )
        for i in range(300)
    )
    with CaptureQueriesContext(connection) as many:
        response = client.get(url("changelist"))
    assert len(response.context["cl"].result_list) == 100
    assert len(many) == len(few), [q["sql"] for q in many]
    print(f"\nWebhookEvent changelist: {len(few)} queries for 3 rows, {len(many)} for 303")
