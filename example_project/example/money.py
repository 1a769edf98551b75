"""What a maker sees of their money: the ledger of what they were paid, their
payouts (the next and the latest), and their payout schedule in words.

The app keeps the rows (`Transfer`, `Payout`, from Stripe's events); the
schedule lives at Stripe, so it is read there (Balance Settings for an
Accounts v2 account, the account's ``settings.payouts.schedule`` for v1) and
kept a few minutes in the cache, as the balance tag keeps the balance.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import stripe
from django.core.cache import cache
from django.core.exceptions import ImproperlyConfigured
from django.db.models import F
from django.utils.translation import get_language, to_locale

from django_stripe_express.conf import ACCOUNTS_V2, app_settings
from django_stripe_express.models import ExpressAccount, Payout, Transfer
from django_stripe_express.payments import payouts
from django_stripe_express.stripe_api import get_client

logger = logging.getLogger("example")

#: How many rows the dashboard lists.
LATEST = 5
LEDGER = 10
#: How long the schedule read from Stripe is kept.
SCHEDULE_SECONDS = 300

_WAITING = (Payout.Status.PENDING, Payout.Status.IN_TRANSIT)


def money(amount: int, currency: str) -> str:
    """An amount in Stripe's smallest unit, for the page's language."""
    return payouts.format_amount(amount, currency, to_locale(get_language() or "en"))


@dataclass
class LedgerRow:
    transfer: Transfer
    amount: str
    reversed: str


def ledger(user: Any) -> list[LedgerRow]:
    """The user's newest transfers (one query): what they were paid, and what was taken back."""
    rows = Transfer.objects.filter(user=user, livemode=app_settings.livemode).order_by(
        "-created_at", "-pk")[:LEDGER]
    return [
        LedgerRow(t, money(t.amount, t.currency),
                  money(t.amount_reversed, t.currency) if t.amount_reversed else "")
        for t in rows
    ]


@dataclass
class PayoutRow:
    payout: Payout
    amount: str
    failure: str  # why it failed, in the user's words ("" unless it failed)


def _row(payout: Payout) -> PayoutRow:
    failed = payout.status == Payout.Status.FAILED
    return PayoutRow(payout, money(payout.amount, payout.currency or "usd"),
                     str(payouts.failure(payout.failure_code).user) if failed else "")


def latest_payouts(account: ExpressAccount) -> list[PayoutRow]:
    """The account's newest payouts (one query), a manual one not yet answered first."""
    rows = account.payouts.order_by(F("created").desc(nulls_first=True), "-pk")[:LATEST]
    return [_row(p) for p in rows]


def next_payout(account: ExpressAccount) -> PayoutRow | None:
    """The payout on its way that arrives first (one query), or None."""
    found = account.payouts.filter(status__in=_WAITING).order_by(
        F("arrival_date").asc(nulls_last=True), "pk").first()
    return _row(found) if found is not None else None


_DAYS = {
    "monday": "Monday", "tuesday": "Tuesday", "wednesday": "Wednesday",
    "thursday": "Thursday", "friday": "Friday", "saturday": "Saturday", "sunday": "Sunday",
}


def _ordinal(day: Any) -> str:
    number = int(day)
    suffix = "th" if 11 <= number % 100 <= 13 else {1: "st", 2: "nd", 3: "rd"}.get(
        number % 10, "th")
    return f"{number}{suffix}"


def schedule_words(interval: str, delay_days: Any = None, weekly: list[str] | None = None,
                   monthly: list[Any] | None = None) -> str:
    """A payout schedule as Stripe answers it, in a sentence."""
    if interval == "manual":
        return "Manual: Makers Market pays out when you ask."
    if interval == "weekly":
        days = " and ".join(_DAYS.get(d, d) for d in weekly or []) or "a set day"
        words = f"Every week, on {days}"
    elif interval == "monthly":
        days = " and ".join(_ordinal(d) for d in monthly or []) or "a set day"
        words = f"Every month, on the {days}"
    else:
        words = "Every day"
    if isinstance(delay_days, int) and delay_days > 0:
        plural = "s" if delay_days != 1 else ""
        words += f", {delay_days} day{plural} after each sale"
    return words + "."


def _read_schedule(account: ExpressAccount) -> str:
    client = get_client()
    if account.accounts_api == ACCOUNTS_V2:
        found: Any = client.v1.balance_settings.retrieve(
            options={"stripe_account": account.stripe_id})
        settings = found.payments
        schedule = settings.payouts.schedule
        timing = getattr(settings, "settlement_timing", None)
        return schedule_words(schedule.interval, getattr(timing, "delay_days", None),
                              getattr(schedule, "weekly_payout_days", None),
                              getattr(schedule, "monthly_payout_days", None))
    remote: Any = client.v1.accounts.retrieve(account.stripe_id)
    schedule = remote.settings.payouts.schedule
    anchor_week, anchor_month = (getattr(schedule, "weekly_anchor", None),
                                 getattr(schedule, "monthly_anchor", None))
    return schedule_words(schedule.interval, getattr(schedule, "delay_days", None),
                          [anchor_week] if anchor_week else None,
                          [anchor_month] if anchor_month else None)


def payout_schedule(account: ExpressAccount) -> str:
    """The account's payout schedule in words (one Stripe call per account every
    few minutes), or "" when Stripe cannot say now."""
    key = f"example:payout-schedule:{account.stripe_id}"
    words = cache.get(key)
    if words is None:
        try:
            words = _read_schedule(account)
        except (stripe.StripeError, ImproperlyConfigured, AttributeError) as exc:
            logger.warning("Payout schedule of %s not read (%s)", account.stripe_id,
                           type(exc).__name__)
            return ""
        cache.set(key, words, SCHEDULE_SECONDS)
    return str(words)
