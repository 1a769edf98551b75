"""``manage.py stripe_express_prune``: keep the webhook and attempt tables small.

Deletes, older than ``--days`` (default ``PRUNE_AFTER_DAYS``): webhook events
that were processed or ignored (failed ones only with ``--include-failed``:
support may still need them), and connect attempts that are finished or whose
state has expired (a pending, still valid attempt is never touched). Deletes in
batches of primary keys so no single statement locks a large table for long.
"""

from __future__ import annotations

import datetime
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db.models import Q, QuerySet
from django.utils import timezone

from ...conf import app_settings
from ...models import ConnectAttempt, WebhookEvent


def _prunable_events(cutoff: datetime.datetime, include_failed: bool) -> QuerySet[WebhookEvent]:
    statuses = [WebhookEvent.Status.PROCESSED, WebhookEvent.Status.IGNORED]
    if include_failed:
        statuses.append(WebhookEvent.Status.FAILED)
    return WebhookEvent.objects.filter(status__in=statuses, received_at__lt=cutoff)


def _prunable_attempts(cutoff: datetime.datetime) -> QuerySet[ConnectAttempt]:
    finished = ~Q(outcome=ConnectAttempt.Outcome.PENDING) | Q(expires_at__lte=timezone.now())
    return ConnectAttempt.objects.filter(finished, created_at__lt=cutoff)


def _delete_in_batches(queryset: QuerySet[Any], batch_size: int) -> int:
    deleted = 0
    while True:
        pks = list(queryset.order_by("pk").values_list("pk", flat=True)[:batch_size])
        if not pks:
            return deleted
        count, _by_model = queryset.model._default_manager.filter(pk__in=pks).delete()
        deleted += count


class Command(BaseCommand):
    help = "Delete old processed webhook events and finished connect attempts."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--days", type=int, default=None,
            help="Delete rows older than this many days (default: PRUNE_AFTER_DAYS, 90).",
        )
        parser.add_argument("--batch-size", type=int, default=1000)
        parser.add_argument(
            "--include-failed", action="store_true",
            help="Also delete failed webhook events (kept by default for support).",
        )
        parser.add_argument("--dry-run", action="store_true", help="Count, delete nothing.")

    def handle(
        self, *args: Any, days: int | None, batch_size: int, include_failed: bool,
        dry_run: bool, **options: Any,
    ) -> None:
        days = app_settings.PRUNE_AFTER_DAYS if days is None else days
        if days < 0:
            raise CommandError("--days must be 0 or more.")
        if batch_size < 1:
            raise CommandError("--batch-size must be 1 or more.")
        cutoff = timezone.now() - datetime.timedelta(days=days)
        events = _prunable_events(cutoff, include_failed)
        attempts = _prunable_attempts(cutoff)
        if dry_run:
            self.stdout.write(
                f"Dry run: would delete {events.count()} webhook event(s) and "
                f"{attempts.count()} connect attempt(s) older than {days} day(s)."
            )
            return
        n_events = _delete_in_batches(events, batch_size)
        n_attempts = _delete_in_batches(attempts, batch_size)
        self.stdout.write(
            f"Deleted {n_events} webhook event(s) and {n_attempts} connect attempt(s) "
            f"older than {days} day(s)."
        )
