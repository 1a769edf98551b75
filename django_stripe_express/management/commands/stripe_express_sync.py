"""``manage.py stripe_express_sync``: refresh stored accounts from Stripe.

Pages through the platform's connected accounts, 100 per call, and stores the
ones this platform knows (in the configured mode) in bulk: the number of calls
grows with pages, not accounts. Exit status 1 when any account failed or
Stripe could not be read, so cron and CI notice.
"""

from __future__ import annotations

from typing import Any

import stripe
from django.core.exceptions import ImproperlyConfigured
from django.core.management.base import BaseCommand, CommandError, CommandParser

from ...sync import SyncResult, describe_error, sync_accounts, sync_one


class Command(BaseCommand):
    help = "Refresh stored Express accounts from Stripe (all of them, or one with --account)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--account", metavar="ACCT_ID", help="Refresh only this account (acct_...)."
        )
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="Report what would change; write nothing and send no signals.",
        )

    def handle(self, *args: Any, account: str | None, dry_run: bool, **options: Any) -> None:
        try:
            if account:
                result = sync_one(account, dry_run=dry_run)
            else:
                result = sync_accounts(dry_run=dry_run, progress=self._progress)
        except (stripe.StripeError, ImproperlyConfigured) as exc:
            raise CommandError(
                f"Could not read accounts from Stripe: {describe_error(exc)}"
            ) from exc
        self._report(result, dry_run)
        if result.failed:
            raise CommandError(f"{result.failed} account(s) failed.")

    def _progress(self, result: SyncResult) -> None:
        self.stderr.write(f"page {result.pages}: {result.seen} accounts read", ending="\n")

    def _report(self, result: SyncResult, dry_run: bool) -> None:
        verb = "would change" if dry_run else "changed"
        for change in result.changes:
            status = (
                f"{change.previous_status} -> {change.status}"
                if change.status_changed
                else change.status
            )
            self.stdout.write(
                f"{change.stripe_id} {verb}: {status} ({', '.join(change.fields)}) "
                f"[{change.accounts_api}]"
            )
        for stripe_id, error in result.errors:
            self.stderr.write(f"{stripe_id} failed: {error}")
        # Which API each stored account is read with (v1 pages, v2 one by one).
        read = ", ".join(f"{result.read.get(api, 0)} {api}" for api in ("v1", "v2"))
        self.stdout.write(f"Stored accounts read: {read}.")
        updated = "would update" if dry_run else "updated"
        self.stdout.write(
            f"{'Dry run: ' if dry_run else ''}seen {result.seen}, {updated} {result.updated}, "
            f"unchanged {result.unchanged}, unknown to this platform {result.unknown}, "
            f"failed {result.failed}."
        )
