"""``WEBHOOK_PROCESSING = "task"``: the request verifies and records, a task applies.

A real backend (django-tasks-db) and its real worker (the ``db_worker``
command, here in this process with ``--batch``; tests/test_webhook_worker.py
runs worker processes on PostgreSQL).
"""

from __future__ import annotations

import datetime
import io
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from django_stripe_express import signals
from django_stripe_express.models import ExpressAccount, WebhookEvent

from .factories import ExpressAccountFactory
from .test_webhooks import T0, data_queries, deliver

DB_BACKEND = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
# Committed transactions, as in production: the request's INSERT commits
# before the task is handed over, and signals follow each commit.
pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def task_mode(settings, fake_stripe):
    settings.STRIPE_EXPRESS = {**settings.STRIPE_EXPRESS, "WEBHOOK_PROCESSING": "task"}
    settings.TASKS = DB_BACKEND


@pytest.fixture
def account(fake_stripe, db) -> ExpressAccount:
    account = ExpressAccountFactory(onboarding=True)
    fake_stripe.create_account(id=account.stripe_id)
    fake_stripe.complete_onboarding(account.stripe_id)
    return account


@pytest.fixture
def applied(capture_signal) -> list[dict[str, Any]]:
    return capture_signal(signals.account_updated)


def run_worker() -> None:
    """The backend's own worker: run every queued task, then exit."""
    call_command(
        "db_worker", batch=True, startup_delay=False, reload=False, interval=0, verbosity=0
    )


def task_states() -> list[tuple[str, list[Any]]]:
    return [(t.status, t.args_kwargs["args"]) for t in DBTaskResult.objects.order_by("enqueued_at")]


def test_the_request_records_and_queues_and_the_worker_applies(
    client, fake_stripe, task_mode, account, applied
):
    event = fake_stripe.build_event("account.updated", account=account.stripe_id, created=T0)
    body, header = fake_stripe.signed(event)

    # The request: one INSERT of the event, and the backend's INSERT of the task.
    with data_queries(["INSERT", "INSERT"]):
        response = client.post("/stripe/webhook/", data=body, content_type="application/json",
                               HTTP_STRIPE_SIGNATURE=header)
    assert (response.status_code, response.content) == (200, b"queued")
    row = WebhookEvent.objects.get()
    assert (row.status, row.attempts, row.payload) == ("received", 0, event)
    assert ExpressAccount.objects.get(pk=account.pk).status == "onboarding"
    assert task_states() == [("READY", [event["id"]])]

    run_worker()

    row.refresh_from_db()
    assert (row.status, row.attempts) == ("processed", 1)
    assert ExpressAccount.objects.get(pk=account.pk).status == "enabled"
    assert [kwargs["event"].stripe_id for kwargs in applied] == [event["id"]]
    assert task_states() == [("SUCCESSFUL", [event["id"]])]


def test_redeliveries_while_queued_apply_once(
    client, fake_stripe, task_mode, account, applied
):
    event = fake_stripe.build_event("account.updated", account=account.stripe_id, created=T0)
    # Not yet applied: each delivery is handed over (a lost task cannot strand it).
    assert deliver(fake_stripe, client, event).content == b"queued"
    assert deliver(fake_stripe, client, event).content == b"queued"

    run_worker()

    assert len(applied) == 1
    row = WebhookEvent.objects.get()
    assert (row.status, row.attempts) == ("processed", 1)
    assert [state for state, _ in task_states()] == ["SUCCESSFUL", "SUCCESSFUL"]
    # Once applied, a redelivery is a duplicate, answered from the database alone.
    with data_queries(["INSERT", "SELECT"]):
        assert deliver(fake_stripe, client, event).content == b"duplicate"
    assert DBTaskResult.objects.count() == 2


def test_a_failed_task_leaves_the_event_failed_and_stripes_retry_applies_it(
    client, fake_stripe, task_mode, account, settings, applied
):
    settings.STRIPE_EXPRESS = {**settings.STRIPE_EXPRESS, "WEBHOOK_REFETCH_ACCOUNT": True}
    acct = account.stripe_id
    event = fake_stripe.build_event("account.updated", account=acct, created=T0)
    assert deliver(fake_stripe, client, event).content == b"queued"

    fake_stripe.fail_next(f"GET /v1/accounts/{acct}", status=500, message="Stripe had a bad day")
    run_worker()

    row = WebhookEvent.objects.get()
    assert (row.status, row.attempts) == ("failed", 1)
    assert "Stripe had a bad day" in row.detail
    assert [state for state, _ in task_states()] == ["FAILED"]
    assert ExpressAccount.objects.get(pk=account.pk).status == "onboarding"
    assert applied == []

    # Stripe delivers it again: queued again, and this time applied.
    assert deliver(fake_stripe, client, event).content == b"queued"
    run_worker()
    row.refresh_from_db()
    assert (row.status, row.attempts) == ("processed", 2)
    assert ExpressAccount.objects.get(pk=account.pk).status == "enabled"
    assert len(applied) == 1


def test_a_failed_enqueue_answers_500_so_stripe_retries(
    client, fake_stripe, task_mode, account, settings, caplog
):
    settings.TASKS = {"default": {**DB_BACKEND["default"], "QUEUES": ["elsewhere"]}}
    event = fake_stripe.build_event("account.updated", account=account.stripe_id, created=T0)

    response = deliver(fake_stripe, client, event)

    assert response.status_code == 500
    row = WebhookEvent.objects.get()
    assert row.status == "failed"
    assert "InvalidTask" in row.detail
    assert not DBTaskResult.objects.exists()
    settings.TASKS = DB_BACKEND
    assert deliver(fake_stripe, client, event).content == b"queued"


def test_the_task_only_reads_a_duplicate(fake_stripe, task_mode, account):
    from django_stripe_express.tasks import process_webhook_event

    event = fake_stripe.build_event("account.updated", account=account.stripe_id, created=T0)
    WebhookEvent.objects.create(
        stripe_id=event["id"], type="account.updated", account=account.stripe_id,
        created=account.connected_at, status="processed", attempts=1, payload=event,
    )
    with data_queries(["SELECT"]):
        assert process_webhook_event.call(event["id"]) == "duplicate"
    assert process_webhook_event.call("evt_pruned_long_ago") == "duplicate"


def test_thin_events_go_through_the_task_like_snapshot_events(
    client, fake_stripe, task_mode, applied
):
    """The request records the notification; the worker fetches the account and applies it."""
    from .test_webhook_thin import REQUIREMENTS, THIN_URL, stored_v2_account, thin

    account = stored_v2_account(fake_stripe)
    acct = account.stripe_id
    fake_stripe.complete_onboarding(acct)
    event = thin(fake_stripe, REQUIREMENTS, acct, 1)
    body, header = fake_stripe.signed(event)

    with data_queries(["INSERT", "INSERT"]):  # the event, the task: no call to Stripe yet
        response = client.post(THIN_URL, data=body, content_type="application/json",
                               HTTP_STRIPE_SIGNATURE=header)
    assert (response.status_code, response.content) == (200, b"queued")
    assert fake_stripe.requests == []
    assert WebhookEvent.objects.get().status == "received"

    run_worker()

    row = WebhookEvent.objects.get()
    assert (row.status, row.attempts, row.account) == ("processed", 1, acct)
    assert ExpressAccount.objects.get(pk=account.pk).status == "enabled"
    assert [r.path for r in fake_stripe.requests] == [f"/v2/core/accounts/{acct}"]
    assert [kwargs["event"].stripe_id for kwargs in applied] == [event["id"]]
    assert task_states() == [("SUCCESSFUL", [event["id"]])]


def process_waiting(*args: str) -> tuple[str, str | None]:
    out = io.StringIO()
    try:
        call_command("stripe_express_webhooks", "--process-waiting", *args, stdout=out)
    except CommandError as exc:
        return out.getvalue(), str(exc)
    return out.getvalue(), None


def test_an_event_whose_task_was_lost_is_applied_by_the_command_once_it_is_old_enough(
    client, fake_stripe, task_mode, account, applied
):
    event = fake_stripe.build_event("account.updated", account=account.stripe_id, created=T0)
    assert deliver(fake_stripe, client, event).content == b"queued"
    DBTaskResult.objects.all().delete()  # the worker that took it was killed

    # Young, it may still be on its way to a worker: left alone.
    assert process_waiting() == ("0 waiting event(s) processed, 0 failed again.\n", None)
    WebhookEvent.objects.update(received_at=timezone.now() - datetime.timedelta(minutes=16))
    out, error = process_waiting()

    assert error is None
    assert out == (f"{event['id']} account.updated: processed\n"
                   "1 waiting event(s) processed, 0 failed again.\n")
    assert ExpressAccount.objects.get(pk=account.pk).status == "enabled"
    assert len(applied) == 1
    # Applied, it is waiting no more; nor is the task's late run a second application.
    assert process_waiting("0")[0] == "0 waiting event(s) processed, 0 failed again.\n"
    assert len(applied) == 1


def test_an_event_that_fails_again_makes_the_command_fail(
    client, fake_stripe, settings, task_mode, account, applied
):
    settings.STRIPE_EXPRESS = {**settings.STRIPE_EXPRESS, "WEBHOOK_REFETCH_ACCOUNT": True}
    event = fake_stripe.build_event("account.updated", account=account.stripe_id, created=T0)
    assert deliver(fake_stripe, client, event).content == b"queued"
    DBTaskResult.objects.all().delete()
    WebhookEvent.objects.update(received_at=timezone.now() - datetime.timedelta(hours=1))
    fake_stripe.fail_next(f"GET /v1/accounts/{account.stripe_id}", status=500, times=10)

    out, error = process_waiting()

    assert out.endswith("1 waiting event(s) processed, 1 failed again.\n")
    assert error == "1 event(s) failed again; see their records in the admin."
    assert WebhookEvent.objects.get().status == "failed"
    assert applied == []
