"""``manage.py stripe_express_transfers``: send what is outstanding, reconcile the unknown.

The safety net under `payments.pay`: transfers still pending (a worker that
died, a task never run, Stripe unreachable), waiting for the platform's funds,
or held for an account that can now receive them are sent in this process;
those whose outcome is unknown are retried with their key, or first looked up
at Stripe once the key's window is over. Reversals and refunds whose answer
is unknown are asked again the same way. One line per transfer, then a
summary; exit status 1 when any transfer is left pending, so cron notices.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from ... import payments


class Command(BaseCommand):
    help = (
        "Send transfers that are pending, waiting for funds, or held for an account that "
        "can now receive them; reconcile those whose outcome is unknown."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--dry-run", action="store_true",
            help="List what would be done; call Stripe for nothing and write nothing.",
        )

    def handle(self, *args: Any, dry_run: bool, **options: Any) -> None:
        work = payments.outstanding()
        outcomes: Counter[str] = Counter()
        for number, (transfer, action) in enumerate(work, 1):
            what = payments.ACTIONS[action]
            head = f"[{number}/{len(work)}] {transfer.reference} ({transfer.amount} " \
                   f"{transfer.currency})"
            if dry_run:
                self.stdout.write(f"{head}: would {what}")
                continue
            after = payments.send_now(transfer)
            status = after.status if after is not None else "missing"
            outcomes[status] += 1
            detail = f" {after.stripe_id}" if after is not None and after.stripe_id else ""
            self.stdout.write(f"{head}: {what} -> {status}{detail}")
        reversals = payments.pending_reversals()
        for number, row in enumerate(reversals, 1):
            what = payments.reversal_action(row)
            head = f"[{number}/{len(reversals)}] {row.kind} {row.reference} of " \
                   f"{row.transfer.reference} ({row.amount if row.amount is not None else 'rest'})"
            if dry_run:
                self.stdout.write(f"{head}: would {what}")
                continue
            answered = payments.send_reversal(row.pk)
            status = answered.status if answered is not None else "missing"
            outcomes[status] += 1
            detail = f" {answered.stripe_id}" if answered is not None and answered.stripe_id \
                else ""
            self.stdout.write(f"{head}: {what} -> {status}{detail}")
        if dry_run:
            self.stdout.write(f"Dry run: {len(work)} transfer(s) to handle.")
            if reversals:
                self.stdout.write(f"Dry run: {len(reversals)} reversal(s) or refund(s) to ask.")
            return
        summary = ", ".join(f"{status} {count}" for status, count in sorted(outcomes.items()))
        handled = f"{len(work)} transfer(s)"
        if reversals:
            handled += f" and {len(reversals)} reversal(s) or refund(s)"
        self.stdout.write(f"{handled} handled{': ' + summary if summary else ''}.")
        if outcomes["pending"]:
            raise CommandError(f"{outcomes['pending']} transfer(s) or reversal(s) still pending.")
