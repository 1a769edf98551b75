"""``manage.py stripe_express_transfers``: send what is outstanding, reconcile the unknown.

The safety net under `payments.pay`: transfers still pending (a worker that
died, a task never run, Stripe unreachable), waiting for the platform's funds,
or held for an account that can now receive them are sent in this process;
those whose outcome is unknown are retried with their key, or first looked up
at Stripe once the key's window is over. Reversals and refunds whose answer
is unknown are asked again the same way. One line per transfer, then a
summary; exit status 1 when any transfer is left pending, so cron notices.

``--payout-deadlines [DAYS]`` (for platforms on manual payout schedules) lists
instead the accounts whose available balance Stripe's deadline for paying out
may reach within DAYS (14): 90 days in most countries, two years in the US.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from ... import payments
from ...payments.payouts import format_amount, payout_deadlines


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

        parser.add_argument(
            "--payout-deadlines", type=int, nargs="?", const=14, default=None, metavar="DAYS",
            help="Only list the accounts with an available balance that Stripe's deadline "
                 "for paying out (90 days, 2 years in the US) may reach within DAYS (14); "
                 "for manual payout schedules.",
        )

    def handle(self, *args: Any, dry_run: bool, payout_deadlines: int | None = None,
               **options: Any) -> None:
        if payout_deadlines is not None:
            self._deadlines(payout_deadlines)
            return
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

    def _deadlines(self, within: int) -> None:
        if within < 0:
            raise CommandError("--payout-deadlines takes a number of days, 0 or more.")
        found = payout_deadlines(within)
        for item in found:
            amounts = ", ".join(format_amount(amount, code, "en")
                                for code, amount in sorted(item.available.items()))
            when = (f"{item.days_left} day(s) left" if item.days_left >= 0
                    else f"{-item.days_left} day(s) past")
            self.stdout.write(
                f"{item.account.stripe_id} ({item.account.country or '?'}): "
                f"{amounts or 'balance unknown'} not paid out since "
                f"{item.since.date().isoformat()}, {when}")
        self.stdout.write(f"{len(found)} account(s) near Stripe's deadline for paying out.")
