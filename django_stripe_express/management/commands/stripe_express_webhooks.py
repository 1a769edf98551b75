"""``manage.py stripe_express_webhooks``: which events the app needs, and whether Stripe sends them.

Without options it prints, offline, the events to subscribe to, per kind of
destination (the Connect endpoint, the platform's own endpoint, the thin
event destination), for the accounts this platform keeps: what to click in
Stripe's Workbench. ``--check`` reads the platform's webhook endpoints
(``/v1/webhook_endpoints``) and event destinations
(``/v2/core/event_destinations``) in the configured mode and names each
needed event that none of them posts to this app's webhook URLs; its exit
status is 1 then, so a deployment script notices.

``--process-waiting [MINUTES]`` applies the recorded events still *received* or
*failed* that many minutes after they arrived (15 by default): what a task
lost with its worker leaves (Stripe had its 200 and will not send the event
again). Run it from cron in task mode, beside ``stripe_express_transfers``.
"""

from __future__ import annotations

import datetime
from typing import Any

import stripe
from django.core.exceptions import ImproperlyConfigured
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.urls import reverse

from ...conf import ACCOUNTS_V1, ACCOUNTS_V2, ONBOARDING_OAUTH, app_settings
from ...models import ExpressAccount, Flow, Transfer
from ...stripe_api import get_client
from ...sync import describe_error
from ...webhooks.rules import CONNECT, PLATFORM, Destination, Need, needs, uncovered
from ...webhooks.store import process_waiting

_KINDS = {
    (CONNECT, "snapshot"): "Connect endpoint (events from connected accounts, snapshot payload)",
    (PLATFORM, "snapshot"): "platform endpoint (events from your account, snapshot payload)",
    (PLATFORM, "thin"): "event destination (events from your account, thin payload)",
}
#: `events_from` scopes that carry connected accounts' events.
_CONNECTED_SCOPES = ("@accounts", "@organization_members/@accounts")


class Command(BaseCommand):
    help = (
        "Print the Stripe events the app needs, per webhook endpoint; with --check, "
        "read the platform's endpoints at Stripe and name what none of them sends; "
        "with --process-waiting, apply the events a lost task left waiting."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--check",
            action="store_true",
            help="Read the webhook endpoints and event destinations at Stripe (in the "
            "configured mode) and name the needed events none of them sends; exit 1 if any.",
        )
        parser.add_argument(
            "--payments",
            action="store_true",
            help="Also need the platform events of paying users (balance.available, "
            "transfer.reversed, ...) before the ledger has its first transfer.",
        )
        parser.add_argument(
            "--process-waiting",
            nargs="?",
            const=15,
            type=int,
            metavar="MINUTES",
            help="Apply the recorded events still received or failed MINUTES (15) after "
            "they arrived: a task lost with its worker; exit 1 if one fails again.",
        )

    def handle(self, *args: Any, check: bool, payments: bool, process_waiting: int | None,
               **options: Any) -> None:
        if process_waiting is not None:
            self._process_waiting(process_waiting)
            return
        wanted = self._needs(payments)
        paths = (reverse("stripe_express:webhook"), reverse("stripe_express:thin_webhook"))
        if not check:
            self._print_needs(wanted, paths)
            return
        try:
            destinations = _listed(get_client())
        except (stripe.StripeError, ImproperlyConfigured) as exc:
            raise CommandError(
                f"Could not read webhook endpoints from Stripe: {describe_error(exc)}"
            ) from exc
        self._print_destinations(destinations, paths)
        gaps = uncovered(wanted, destinations, paths)
        if not gaps:
            self.stdout.write(self.style.SUCCESS(
                f"Every event the app needs is sent to {' or '.join(paths)}."))
            return
        for gap in gaps:
            kind = _KINDS[(gap.need.source, gap.need.payload)]
            line = f"MISSING {gap.event}: needed on the {kind}, for {gap.need.purpose}."
            if gap.maybe:
                line += (f" Sent by {', '.join(gap.maybe)}, a webhook endpoint Stripe does not "
                         "say is a Connect or a platform endpoint: check it in the Dashboard.")
            self.stdout.write(line)
        raise CommandError(f"{len(gaps)} needed event(s) are not sent to this app.")

    def _process_waiting(self, minutes: int) -> None:
        if minutes < 0:
            raise CommandError("MINUTES must be 0 or more.")
        done = failed = 0
        for stripe_id, event_type, answer in process_waiting(datetime.timedelta(minutes=minutes)):
            self.stdout.write(f"{stripe_id} {event_type}: {answer.message}")
            done += 1
            failed += answer.status_code >= 500
        self.stdout.write(f"{done} waiting event(s) processed, {failed} failed again.")
        if failed:
            raise CommandError(f"{failed} event(s) failed again; see their records in the admin.")

    def _needs(self, payments: bool) -> list[Need]:
        """What this platform's accounts need: its settings, and the accounts it
        already has in this mode (a platform that moved to v2 keeps its v1 ones)."""
        accounts = ExpressAccount.objects.for_mode(app_settings.livemode)
        oauth = app_settings.ONBOARDING == ONBOARDING_OAUTH
        return needs(
            v1=oauth or app_settings.ACCOUNTS_API == ACCOUNTS_V1
            or accounts.filter(accounts_api=ACCOUNTS_V1).exists(),
            v2=(not oauth and app_settings.ACCOUNTS_API == ACCOUNTS_V2)
            or accounts.filter(accounts_api=ACCOUNTS_V2).exists(),
            oauth=oauth or accounts.filter(connected_via=Flow.OAUTH).exists(),
            payments=payments
            or Transfer.objects.filter(livemode=app_settings.livemode).exists(),
        )

    def _print_needs(self, wanted: list[Need], paths: tuple[str, str]) -> None:
        mode = "live" if app_settings.livemode else "test"
        self.stdout.write(f"Events the app needs in {mode} mode, posted to {paths[0]} "
                          f"(snapshot) or {paths[1]} (thin):")
        for need in wanted:
            self.stdout.write(f"\n{_KINDS[(need.source, need.payload)]}, for {need.purpose}:")
            for entry in need.events:
                self.stdout.write("  " + (entry if isinstance(entry, str) else " or ".join(entry)))
        self.stdout.write("\nRun with --check to compare with what Stripe sends.")

    def _print_destinations(self, destinations: list[Destination], paths: tuple[str, str]) -> None:
        self.stdout.write(f"{len(destinations)} webhook endpoint(s) and event destination(s):")
        for d in destinations:
            sources = " and ".join(sorted(d.sources)) or "Connect or platform (Stripe does not say)"
            state = "" if d.enabled else " DISABLED"
            where = d.url or "(URL not shown)"
            elsewhere = "" if d.posts_to(paths) else " (not this app's webhook URL: not counted)"
            self.stdout.write(f"  {d.id}{state}: {sources}, {d.payload}, {len(d.events)} "
                              f"event type(s), {where}{elsewhere}")


def _listed(client: stripe.StripeClient) -> list[Destination]:
    """The platform's webhook endpoints and event destinations, every page."""
    found = [
        Destination(
            id=endpoint.id,
            url=endpoint.url,
            sources=frozenset(),
            payload="snapshot",
            events=frozenset(endpoint.enabled_events),
            enabled=endpoint.status == "enabled",
        )
        for endpoint in client.v1.webhook_endpoints.list({"limit": 100}).auto_paging_iter()
    ]
    listed = client.v2.core.event_destinations.list({"include": ["webhook_endpoint.url"]})
    for destination in listed.auto_paging_iter():
        if destination.type != "webhook_endpoint":
            continue  # EventBridge, Event Grid: they never reach this app
        scopes = destination.events_from or ["@self"]
        sources = {CONNECT for s in scopes if s in _CONNECTED_SCOPES}
        sources |= {PLATFORM for s in scopes if s == "@self"}
        found.append(Destination(
            id=destination.id,
            url=destination.webhook_endpoint.url if destination.webhook_endpoint else None,
            sources=frozenset(sources),
            payload=destination.event_payload,
            events=frozenset(destination.enabled_events),
            enabled=destination.status == "enabled",
        ))
    return found
