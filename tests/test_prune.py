"""``stripe_express_prune``: old processed events and finished attempts go, in batches."""

from __future__ import annotations

import datetime
import io

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from django_stripe_express.models import ConnectAttempt, WebhookEvent

from .factories import ConnectAttemptFactory, WebhookEventFactory

pytestmark = pytest.mark.django_db

Status = WebhookEvent.Status
Outcome = ConnectAttempt.Outcome


def days_ago(days: float) -> datetime.datetime:
    return timezone.now() - datetime.timedelta(days=days)


def prune(*args: str) -> str:
    out = io.StringIO()
    call_command("stripe_express_prune", *args, stdout=out)
    return out.getvalue()


@pytest.fixture
def rows():
    """Old and recent rows of every kind that matters, by name."""
    old, recent = days_ago(100), days_ago(10)
    events = {
        "old_processed": WebhookEventFactory(status=Status.PROCESSED, received_at=old),
        "old_ignored": WebhookEventFactory(status=Status.IGNORED, received_at=old),
        "old_failed": WebhookEventFactory(status=Status.FAILED, received_at=old),
        "old_received": WebhookEventFactory(status=Status.RECEIVED, received_at=old),
        "recent_processed": WebhookEventFactory(status=Status.PROCESSED, received_at=recent),
    }
    attempts = {
        "old_connected": ConnectAttemptFactory(
            outcome=Outcome.CONNECTED, created_at=old, finished_at=old
        ),
        "old_declined": ConnectAttemptFactory(outcome=Outcome.DECLINED, created_at=old),
        "old_expired_pending": ConnectAttemptFactory(created_at=old, expires_at=days_ago(99)),
        # Pending and still valid (a very long STATE_MAX_AGE): never pruned.
        "old_valid_pending": ConnectAttemptFactory(
            created_at=old, expires_at=timezone.now() + datetime.timedelta(hours=1)
        ),
        "recent_connected": ConnectAttemptFactory(outcome=Outcome.CONNECTED, created_at=recent),
    }
    return events, attempts


def remaining(model, named: dict) -> set[str]:
    pks = set(model.objects.values_list("pk", flat=True))
    return {name for name, row in named.items() if row.pk in pks}


def test_default_age_keeps_failed_pending_and_recent_rows(rows):
    events, attempts = rows

    out = prune()

    assert "Deleted 2 webhook event(s) and 3 connect attempt(s) older than 90 day(s)." in out
    assert remaining(WebhookEvent, events) == {"old_failed", "old_received", "recent_processed"}
    assert remaining(ConnectAttempt, attempts) == {"old_valid_pending", "recent_connected"}


def test_include_failed_and_days_option(rows):
    events, attempts = rows

    out = prune("--days", "5", "--include-failed")

    assert "Deleted 4 webhook event(s) and 4 connect attempt(s) older than 5 day(s)." in out
    assert remaining(WebhookEvent, events) == {"old_received"}
    assert remaining(ConnectAttempt, attempts) == {"old_valid_pending"}


def test_setting_gives_the_default_age(rows, settings):
    events, _attempts = rows
    settings.STRIPE_EXPRESS = {**settings.STRIPE_EXPRESS, "PRUNE_AFTER_DAYS": 5}

    out = prune()

    assert "older than 5 day(s)" in out
    assert "recent_processed" not in remaining(WebhookEvent, events)


def test_dry_run_counts_and_deletes_nothing(rows):
    out = prune("--dry-run")

    assert "Dry run: would delete 2 webhook event(s) and 3 connect attempt(s)" in out
    assert WebhookEvent.objects.count() == 5
    assert ConnectAttempt.objects.count() == 5


def test_deletes_in_batches(django_assert_num_queries):
    WebhookEventFactory.create_batch(5, received_at=days_ago(100))
    # Batches of 2 for 5 rows: 3 batches of (select pks + delete), a final
    # empty select, then one select for the (no) attempts.
    with django_assert_num_queries(3 * 2 + 1 + 1):
        out = prune("--batch-size", "2")
    assert "Deleted 5 webhook event(s)" in out
    assert WebhookEvent.objects.count() == 0


@pytest.mark.parametrize("args", [("--days", "-1"), ("--batch-size", "0")])
def test_rejects_bad_options(args):
    with pytest.raises(CommandError):
        prune(*args)
