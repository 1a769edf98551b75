"""``PAYMENTS_PROCESSING = "task"``: the caller's transaction writes the row and
enqueues after commit; a task of Django's Tasks framework sends it.

Django's ImmediateBackend (runs the task at enqueue), and django-tasks-db with
its real worker (``db_worker --batch`` in this process), as the webhook's task
mode is tested.
"""

from __future__ import annotations

from importlib.util import find_spec

import pytest
from django.core.management import call_command
from django.db import transaction
from django_tasks_db.models import DBTaskResult

from django_stripe_express import payments
from django_stripe_express.models import Transfer
from django_stripe_express.tasks import send_transfer

from .payments_support import payable_account, transfer_posts

TASKS_PACKAGE = "django.tasks" if find_spec("django.tasks") else "django_tasks"
IMMEDIATE = {"default": {"BACKEND": f"{TASKS_PACKAGE}.backends.immediate.ImmediateBackend"}}
DATABASE = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
# Committed transactions, as in production: the row commits before the task runs.
pytestmark = pytest.mark.django_db(transaction=True)

Status = Transfer.Status


@pytest.fixture
def task_mode(settings, fake_stripe):
    settings.STRIPE_EXPRESS = {**settings.STRIPE_EXPRESS, "PAYMENTS_PROCESSING": "task"}
    fake_stripe.add_funds(100_000)


def test_immediate_backend_sends_after_the_callers_commit(settings, task_mode, fake_stripe):
    settings.TASKS = IMMEDIATE
    payee = payable_account(fake_stripe)
    with transaction.atomic():
        transfer = payments.pay(payee.user, 1200, "usd", "task:1")
        assert transfer_posts(fake_stripe) == []  # not before the commit
    transfer.refresh_from_db()
    assert transfer.status == Status.SENT
    assert len(fake_stripe.transfers_made()) == 1


def test_database_backend_queues_and_its_worker_sends_once(settings, task_mode, fake_stripe):
    settings.TASKS = DATABASE
    payee = payable_account(fake_stripe)
    with transaction.atomic():
        transfer = payments.pay(payee.user, 1300, "usd", "task:2")
    assert [r.args_kwargs["args"] for r in DBTaskResult.objects.all()] == [[transfer.pk]]
    assert transfer_posts(fake_stripe) == []
    # A repeated call while the task waits hands the transfer over again:
    # the row decides, one transfer in all.
    payments.pay(payee.user, 1300, "usd", "task:2")

    call_command("db_worker", batch=True, startup_delay=False, reload=False, interval=0,
                 verbosity=0)

    transfer.refresh_from_db()
    assert transfer.status == Status.SENT
    assert len(fake_stripe.transfers_made()) == 1
    assert {r.status for r in DBTaskResult.objects.all()} == {"SUCCESSFUL"}
    assert [r.return_value for r in DBTaskResult.objects.order_by("enqueued_at")] == [
        "sent", "sent"]


def test_the_task_retried_after_a_lost_answer_makes_one_transfer(
    settings, task_mode, fake_stripe
):
    settings.TASKS = DATABASE
    payee = payable_account(fake_stripe)
    fake_stripe.drop_after_commit("POST /v1/transfers")
    transfer = payments.pay(payee.user, 1400, "usd", "task:3")
    call_command("db_worker", batch=True, startup_delay=False, reload=False, interval=0,
                 verbosity=0)
    transfer.refresh_from_db()
    assert transfer.outcome_unknown

    send_transfer.enqueue(transfer.pk)  # the task again
    call_command("db_worker", batch=True, startup_delay=False, reload=False, interval=0,
                 verbosity=0)

    transfer.refresh_from_db()
    assert transfer.status == Status.SENT
    assert len(fake_stripe.transfers_made()) == 1
    keys = {p.header("Idempotency-Key") for p in transfer_posts(fake_stripe)}
    assert keys == {transfer.idempotency_key}


def test_reversals_and_refunds_are_asked_by_the_worker_once(settings, task_mode, fake_stripe):
    settings.TASKS = DATABASE
    payee = payable_account(fake_stripe)
    transfer = payments.pay(payee.user, 1500, "usd", "task:4")
    call_command("db_worker", batch=True, startup_delay=False, reload=False, interval=0,
                 verbosity=0)
    transfer.refresh_from_db()

    with transaction.atomic():
        row = payments.reverse(transfer, 500, reference="task-return")
    again = payments.reverse(transfer, 500, reference="task-return")  # before the worker

    assert (row.status, again.pk) == ("pending", row.pk)
    reversals = f"/v1/transfers/{transfer.stripe_id}/reversals"
    assert fake_stripe.requests_to(reversals, "POST") == []
    call_command("db_worker", batch=True, startup_delay=False, reload=False, interval=0,
                 verbosity=0)

    row.refresh_from_db()
    assert row.status == "done"
    assert fake_stripe.transfers_made()[0]["amount_reversed"] == 500
    assert len(fake_stripe.requests_to(reversals, "POST")) == 1
    transfer.refresh_from_db()
    assert transfer.amount_reversed == 500
