"""Paying out: what a failed payout means in words, payout schedules, balances.

A payout moves a user's Stripe balance to their bank. Stripe makes it on the
account's schedule; the app keeps each one as a `Payout` row from Stripe's
``payout.*`` events (`webhooks.rules`, `models.record_payout`). A failed
payout disables the user's bank account at Stripe until they update it: the
account keeps the failure (``payout_failure_code``) and the user is told why,
in the words of `FAILURES` (one row per Stripe ``failure_code``), and how to
fix it. A manual payout (`payout`) is written as a row before Stripe is
called, its idempotency key from the row.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from datetime import timezone as dt_timezone
from decimal import Decimal
from typing import Any

import stripe
from django.core.cache import cache
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from .. import stripe_api
from ..accounts import PayoutSchedule, schedule_problems, v1, v2
from ..conf import ACCOUNTS_V1, ACCOUNTS_V2, app_settings
from ..models import ExpressAccount, Payout, database_alias
from ..stripe_api import get_client

logger = logging.getLogger("django_stripe_express.payments")


@dataclass(frozen=True)
class PayoutFailure:
    """One of Stripe's payout ``failure_code``s: words for the user (plain,
    never blaming, with what to do) and for support staff."""

    user: Promise
    staff: Promise


_UPDATE_BANK = _("Please check your bank details, or add another bank account.")

#: Stripe's payout ``failure_code``s (docs.stripe.com/api/payouts/failures,
#: stripe 16's ``Payout.failure_code``), one row each.
FAILURES: dict[str, PayoutFailure] = {
    "account_closed": PayoutFailure(
        _("Your bank says this account is closed. Please add another bank account."),
        _("The bank account has been closed (account_closed): the user must add another."),
    ),
    "account_frozen": PayoutFailure(
        _("Your bank has frozen this account. Please contact your bank, or add another "
          "bank account."),
        _("The bank account is frozen (account_frozen)."),
    ),
    "bank_account_restricted": PayoutFailure(
        _("Your bank account does not accept this kind of payment. Please add another "
          "bank account."),
        _("The bank account restricts the type or number of payouts "
          "(bank_account_restricted)."),
    ),
    "bank_ownership_changed": PayoutFailure(
        _("Your bank's branch has changed owner, so the account details changed. Please "
          "enter your new bank details."),
        _("The destination bank branch changed ownership (bank_ownership_changed): the "
          "account details are no longer valid."),
    ),
    "could_not_process": PayoutFailure(
        format_lazy("{} {}", _("Your bank could not process the payment."), _UPDATE_BANK),
        _("The bank could not process this payout (could_not_process)."),
    ),
    "debit_not_authorized": PayoutFailure(
        _("Your bank account does not allow this payment. Please ask your bank to allow "
          "it, or add another bank account."),
        _("Debit transactions are not approved on the bank account "
          "(debit_not_authorized)."),
    ),
    "declined": PayoutFailure(
        format_lazy("{} {}", _("Your bank declined the payment."), _UPDATE_BANK),
        _("The bank declined this transfer (declined)."),
    ),
    "incorrect_account_holder_address": PayoutFailure(
        _("Your bank says the account holder's address is not right. Please update it."),
        _("The bank account holder address on file is incorrect "
          "(incorrect_account_holder_address)."),
    ),
    "incorrect_account_holder_name": PayoutFailure(
        _("Your bank says the account holder's name is not right. Please update it."),
        _("The bank account holder name on file is incorrect "
          "(incorrect_account_holder_name)."),
    ),
    "incorrect_account_holder_tax_id": PayoutFailure(
        _("Your bank says the account holder's tax ID is not right. Please update it."),
        _("The bank account holder tax ID on file is incorrect "
          "(incorrect_account_holder_tax_id)."),
    ),
    "insufficient_funds": PayoutFailure(
        _("Your Stripe balance did not cover this payout (refunds or disputes may have "
          "lowered it). Stripe pays out again once it does."),
        _("The connected account's Stripe balance did not cover the payout "
          "(insufficient_funds): negative balance, refunds or disputes."),
    ),
    "invalid_account_number": PayoutFailure(
        _("Your bank says the account number is not valid. Please check it."),
        _("The routing number seems correct, but the account number is invalid "
          "(invalid_account_number)."),
    ),
    "invalid_currency": PayoutFailure(
        _("Your bank account cannot receive this currency. Please add a bank account "
          "in this currency."),
        _("The bank could not process this payout's currency (invalid_currency)."),
    ),
    "no_account": PayoutFailure(
        _("Your bank could not find this account. Please check your bank details."),
        _("The bank account details on file are probably incorrect (no_account)."),
    ),
    "unsupported_card": PayoutFailure(
        _("Your bank no longer accepts payouts to this card. Please add a bank account "
          "or another card."),
        _("The bank no longer supports payouts to this card (unsupported_card)."),
    ),
}

#: A code Stripe adds later, or none at all.
_UNKNOWN = PayoutFailure(
    format_lazy("{} {}", _("Your bank could not receive the payment."), _UPDATE_BANK),
    _("Stripe gave no failure code this app knows; see the payout at Stripe."),
)


def failure(code: str) -> PayoutFailure:
    """The words for a payout ``failure_code`` (an unknown or empty one too)."""
    return FAILURES.get(code, _UNKNOWN)


class PaymentError(Exception):
    """Base class of what `pay` and the other payment functions refuse."""


# -- payout schedules ------------------------------------------------------------------
class InvalidSchedule(ValueError):
    """A payout schedule Stripe would refuse (see `accounts.schedule_problems`)."""


class NoPayoutAccount(LookupError):
    """The user has no connected account in this mode."""


def payout_account(user: Any) -> ExpressAccount:
    """The user's connected account in the configured mode; `NoPayoutAccount` if none."""
    account = ExpressAccount.objects.using(database_alias()).for_user(user).first()
    if account is None or not account.is_connected:
        raise NoPayoutAccount(f"user {getattr(user, 'pk', None)!r} has no connected account.")
    return account


def set_payout_schedule(
    user: Any, interval: str, *, delay_days: int | str | None = None,
    anchor: str | int | None = None,
) -> PayoutSchedule:
    """Set the user's payout schedule at Stripe: ``interval`` (daily, weekly,
    monthly, manual), ``delay_days`` (``"minimum"`` or 1-31; None: unchanged),
    ``anchor`` (a weekday for weekly, a day of the month for monthly).

    v1 accounts through ``settings.payouts.schedule``, v2 accounts through
    Balance Settings for the connected account. `InvalidSchedule` (nothing
    sent) for what Stripe would refuse, `NoPayoutAccount` without a connected
    account; Stripe's own errors propagate (`stripe.StripeError`).
    """
    return set_account_schedule(payout_account(user), interval, delay_days=delay_days,
                                anchor=anchor)


def set_account_schedule(
    account: ExpressAccount, interval: str, *, delay_days: int | str | None = None,
    anchor: str | int | None = None,
) -> PayoutSchedule:
    """`set_payout_schedule` for an account already read (the admin's action)."""
    api = account.accounts_api or ACCOUNTS_V1
    problems = schedule_problems(interval, delay_days, anchor, api=api)
    if problems:
        raise InvalidSchedule("; ".join(problems))
    schedule = PayoutSchedule(interval, delay_days, anchor)
    client = get_client()
    params: Any  # the library's TypedDicts
    if api == ACCOUNTS_V2:
        params = v2.balance_settings_params(schedule)
        client.v1.balance_settings.update(params, {"stripe_account": account.stripe_id})
    else:
        params = {"settings": {"payouts": {"schedule": v1.schedule_params(schedule)}}}
        client.v1.accounts.update(account.stripe_id, params)
    logger.info("Payout schedule of %s set to %s", account.stripe_id, interval)
    return schedule


# -- balances -------------------------------------------------------------------------
#: Stripe's zero-decimal currencies (docs.stripe.com/currencies#zero-decimal):
#: amounts are whole units. ISK, HUF and TWD are two-decimal in the API (Stripe's
#: "special cases"), as the other currencies are.
ZERO_DECIMAL = frozenset({
    "bif", "clp", "djf", "gnf", "jpy", "kmf", "krw", "mga", "pyg", "rwf", "ugx", "vnd",
    "vuv", "xaf", "xof", "xpf",
})

#: Stripe's three-decimal currencies (docs.stripe.com/currencies#three-decimal).
THREE_DECIMAL = frozenset({"bhd", "jod", "kwd", "omr", "tnd"})

#: What a balance holds per currency, as Stripe names its lists.
BALANCE_KINDS = ("available", "pending", "instant_available")


def decimals(currency: str) -> int:
    """How many decimals Stripe's smallest unit of ``currency`` has."""
    code = currency.lower()
    return 0 if code in ZERO_DECIMAL else 3 if code in THREE_DECIMAL else 2


def to_units(amount: int, currency: str) -> Decimal:
    """``amount`` in Stripe's smallest unit as a decimal amount of ``currency``
    (``1234 usd`` -> ``12.34``, ``1234 jpy`` -> ``1234``, ``1234 kwd`` -> ``1.234``)."""
    return Decimal(amount).scaleb(-decimals(currency))


def format_amount(amount: int, currency: str, locale: str) -> str:
    """``amount`` (smallest unit) formatted for ``locale`` (``"fr_FR"``) with Babel;
    a negative amount stays negative."""
    # Loaded with the first balance shown: most requests show none.
    from babel.core import UnknownLocaleError
    from babel.numbers import format_currency

    # The currency's usual digits for the locale (CLDR), never rounding away what
    # Stripe counted: HUF in CLDR has none, Stripe's HUF amounts have two.
    value, code = to_units(amount, currency), currency.upper()
    try:
        return str(format_currency(value, code, locale=locale, decimal_quantization=False))
    except (UnknownLocaleError, ValueError):
        return str(format_currency(value, code, locale="en", decimal_quantization=False))


def _cache_key(account: ExpressAccount) -> str:
    return f"django_stripe_express:balance:{account.stripe_id}"


def balance(user: Any) -> dict[str, dict[str, int]]:
    """The user's Stripe balance: ``{currency: {"available", "pending",
    "instant_available"}}`` in the smallest unit (may be negative), read from
    ``/v1/balance`` for their account and kept ``BALANCE_CACHE_SECONDS`` in
    Django's cache. `NoPayoutAccount` without a connected account; Stripe's
    errors propagate (`stripe.StripeError`)."""
    return account_balance(payout_account(user))


def account_balance(account: ExpressAccount) -> dict[str, dict[str, int]]:
    """`balance` for an account already read (the template tag's, no query)."""
    key = _cache_key(account)
    seconds = app_settings.BALANCE_CACHE_SECONDS
    if seconds > 0:
        cached = cache.get(key)
        if cached is not None:
            return dict(cached)
    found: Any = get_client().v1.balance.retrieve(options={"stripe_account": account.stripe_id})
    amounts: dict[str, dict[str, int]] = {}
    for kind in BALANCE_KINDS:
        for entry in getattr(found, kind, None) or []:
            currency, amount = getattr(entry, "currency", None), getattr(entry, "amount", None)
            if isinstance(currency, str) and isinstance(amount, int):
                row = amounts.setdefault(currency.lower(), dict.fromkeys(BALANCE_KINDS, 0))
                row[kind] += amount
    if seconds > 0:
        cache.set(key, amounts, seconds)
    return amounts


# -- manual payouts -------------------------------------------------------------------
#: The payout's metadata key holding the platform's reference (Stripe's record of it).
PAYOUT_REFERENCE_KEY = "django_stripe_express_reference"

#: Stripe's payout methods (``PayoutCreateParams.method``).
PAYOUT_METHODS = ("standard", "instant")


class InvalidPayout(PaymentError, ValueError):
    """An amount, currency, method or reference Stripe would refuse, or nothing to pay out."""


class NoInstantFunds(PaymentError):
    """An instant payout asks for more than the balance's ``instant_available``."""


class PayoutsNotManual(PaymentError):
    """Stripe makes manual payouts only for an account on a ``manual`` schedule."""


class PayoutRefused(PaymentError):
    """Stripe refused the payout (its code and message in ``code`` and the text)."""

    def __init__(self, message: str, code: str = "") -> None:
        super().__init__(message)
        self.code = code


class PayoutConflict(PaymentError):
    """The reference already names another payout (amount, currency or method)."""

    def __init__(self, message: str, payout: Payout) -> None:
        super().__init__(message)
        self.payout = payout


def payout(
    user: Any, amount: int | None = None, currency: str | None = None, *,
    method: str = "standard", reference: str,
) -> Payout:
    """Pay out ``amount`` (Stripe's smallest unit) of the user's Stripe balance in
    ``currency`` to their bank; once per ``reference``.

    ``amount=None``: the whole available balance (``instant_available`` for
    ``method="instant"``) in ``currency`` (None: the account's default
    currency, or the balance's only one). An instant payout is refused
    (`NoInstantFunds`) beyond ``instant_available`` before Stripe is asked to
    pay. Stripe pays out manually only for an account on a manual schedule
    (`PayoutsNotManual`, see `set_payout_schedule`). The same reference again
    returns the same `Payout` row (sent again with the same key if Stripe's
    answer was lost); with another amount, currency or method, `PayoutConflict`.
    """
    if method not in PAYOUT_METHODS:
        raise InvalidPayout(f"method must be one of {', '.join(PAYOUT_METHODS)}, "
                            f"not {method!r}.")
    if not isinstance(reference, str) or not reference or len(reference) > 255:
        raise InvalidPayout("reference must be a non-empty string of at most 255 characters.")
    if amount is not None and (isinstance(amount, bool) or not isinstance(amount, int)
                               or amount < 1):
        raise InvalidPayout(f"amount must be a positive integer (the smallest unit), "
                            f"not {amount!r}.")
    code = currency.lower() if isinstance(currency, str) else None
    if currency is not None and (code is None or len(code) != 3 or not code.isalpha()):
        raise InvalidPayout(f"currency must be a three-letter ISO code, not {currency!r}.")
    account = payout_account(user)
    alias = database_alias()
    row = _existing_payout(alias, account, reference, amount, code, method)
    if row is None:
        amount, code = _amount_to_pay(account, amount, code, method)
        try:
            with transaction.atomic(using=alias):
                row = Payout.objects.using(alias).create(
                    account=account, reference=reference, amount=amount, currency=code,
                    method=method, automatic=False, livemode=account.livemode,
                    status=Payout.Status.PENDING)
        except IntegrityError:  # the same reference, written meanwhile
            row = _existing_payout(alias, account, reference, amount, code, method)
            if row is None:  # pragma: no cover - the row that collided is gone
                raise
    if row.stripe_id:
        return row
    return _send_payout(alias, account, row)


def _existing_payout(alias: str, account: ExpressAccount, reference: str,
                     amount: int | None, currency: str | None, method: str) -> Payout | None:
    row = Payout.objects.using(alias).filter(account=account, reference=reference).first()
    if row is None:
        return None
    if (amount is not None and amount != row.amount) or (
            currency is not None and currency != row.currency) or method != row.method:
        raise PayoutConflict(
            f"The reference {reference!r} names a payout of {row.amount} {row.currency} "
            f"({row.method}).", row)
    return row


def _amount_to_pay(account: ExpressAccount, amount: int | None, currency: str | None,
                   method: str) -> tuple[int, str]:
    """The amount and currency to pay out, from the account's balance read now
    (never the cached one) when the whole balance or an instant payout is asked."""
    code = currency or (account.default_currency or "").lower() or None
    if amount is not None and method == "standard" and code is not None:
        return amount, code  # Stripe checks the available balance itself
    funds = _fresh_balance(account)
    if code is None:
        if len(funds) != 1:
            raise InvalidPayout("Name the currency: the balance holds "
                                f"{', '.join(sorted(funds)) or 'none'}.")
        code = next(iter(funds))
    kind = "instant_available" if method == "instant" else "available"
    held = funds.get(code, {}).get(kind, 0)
    if method == "instant" and (amount or 1) > held:
        raise NoInstantFunds(
            f"An instant payout is made only from the balance available instantly: "
            f"{held} {code} now{f', not {amount}' if amount else ''}.")
    if amount is None:
        if held <= 0:
            raise InvalidPayout(f"Nothing to pay out: the available balance is {held} {code}.")
        amount = held
    return amount, code


def _fresh_balance(account: ExpressAccount) -> dict[str, dict[str, int]]:
    cache.delete(_cache_key(account))
    return account_balance(account)


def _send_payout(alias: str, account: ExpressAccount, row: Payout) -> Payout:
    """Ask Stripe for the row's payout with the row's key; record its answer."""
    client = get_client()
    options: Any = {"stripe_account": account.stripe_id}
    if row.key_expired and row.key_used_at is not None:
        # Made, if at all, after the key's first use (a minute's leeway for clocks).
        since = int(row.key_used_at.timestamp()) - 60
        found = _payout_at_stripe(client, options, row.reference, since)
        if found is not None:
            return _record_sent(alias, account, row, found)
        row._new_key()  # Stripe forgot the key and made no payout: a new request
    row._count_try()
    row.save(update_fields=["key_generation", "key_used_at", "tries", "updated_at"])
    params: Any = {"amount": row.amount, "currency": row.currency, "method": row.method,
                   "metadata": {PAYOUT_REFERENCE_KEY: row.reference}}
    try:
        # The key comes from the row written above: a retry after a lost answer
        # reuses it, and Stripe answers with the payout it made.
        made = client.v1.payouts.create(
            params,
            {"stripe_account": account.stripe_id, "idempotency_key": row.idempotency_key},
        )
    except stripe.StripeError as exc:
        meaning = stripe_api.failure(exc)
        if meaning.retry_with_same_key:
            logger.warning("Payout %s of %s: outcome unknown (%s); the same reference "
                           "retries it with the same key", row.reference, account.stripe_id,
                           meaning.exception)
            raise
        # Stripe answered that nothing was paid out: the reference is free again.
        row.delete()
        message = meaning.description or meaning.exception
        logger.warning("Payout %s of %s refused: %s", row.reference, account.stripe_id,
                       meaning.code or message)
        if "automatic payouts" in message:
            raise PayoutsNotManual(
                "Stripe makes manual payouts only for an account whose payout schedule "
                "is manual; set it with set_payout_schedule(user, 'manual') first. "
                f"Stripe said: {message}") from exc
        raise PayoutRefused(message, meaning.code) from exc
    return _record_sent(alias, account, row, made)


def _payout_at_stripe(client: Any, options: Any, reference: str, since: int) -> Any:
    """The account's payout made for ``reference`` since ``since`` (past the key's window)."""
    params: Any = {"limit": 100, "created": {"gte": since}}
    for found in client.v1.payouts.list(params, options).auto_paging_iter():
        metadata = getattr(found, "metadata", None)
        if metadata and PAYOUT_REFERENCE_KEY in metadata and (
                metadata[PAYOUT_REFERENCE_KEY] == reference):
            return found
    return None


def _record_sent(alias: str, account: ExpressAccount, row: Payout, made: Any) -> Payout:
    """Keep Stripe's payout id on the row, under the account's lock (as events are
    applied): a ``payout.*`` event applied first made its own row, merged here."""
    stripe_id = str(made.id)
    with transaction.atomic(using=alias):
        ExpressAccount.objects.using(alias).select_for_update().filter(pk=account.pk).first()
        row = Payout.objects.using(alias).select_for_update().get(pk=row.pk)
        if row.stripe_id:
            return row
        from_event = Payout.objects.using(alias).filter(stripe_id=stripe_id).first()
        if from_event is not None:
            for name in ("status", "arrival_date", "failure_code", "failure_message",
                         "created", "last_event_created"):
                setattr(row, name, getattr(from_event, name))
            from_event.delete()
        else:
            arrival, created = getattr(made, "arrival_date", None), getattr(made, "created", None)
            row.status = str(getattr(made, "status", "") or Payout.Status.PENDING)
            row.arrival_date = _datetime(arrival)
            row.created = _datetime(created)
        row.stripe_id = stripe_id
        row.save()
    logger.info("Payout %s of %s made: %s", row.reference, account.stripe_id, stripe_id)
    return row


def _datetime(value: Any) -> Any:
    return (datetime.fromtimestamp(value, tz=dt_timezone.utc)
            if isinstance(value, int) else None)


# -- Stripe's deadline for paying out (manual schedules) ---------------------------------
#: How long Stripe holds a connected account's funds unpaid before it pays them
#: out anyway (docs.stripe.com/connect/manual-payouts): two years in the US,
#: 90 days elsewhere.
DEADLINE_DAYS = {"US": 730}
_DEFAULT_DEADLINE_DAYS = 90


@dataclass(frozen=True)
class PayoutDeadline:
    """An account whose funds have waited long for a manual payout: the oldest
    they can be is the time since its last payout (or since it connected)."""

    account: ExpressAccount
    since: datetime
    days_left: int
    available: dict[str, int]  # currency -> available amount (smallest unit), positive only


def deadline_days(country: str) -> int:
    """Stripe's deadline for paying out an account of ``country`` (days)."""
    return DEADLINE_DAYS.get(country.upper(), _DEFAULT_DEADLINE_DAYS)


def payout_deadlines(within_days: int = 14, livemode: bool | None = None
                     ) -> list[PayoutDeadline]:
    """Connected accounts with an available balance that Stripe's deadline may reach
    within ``within_days``: no payout (of any status, as the `Payout` rows know)
    since ``deadline - within_days`` days. Only accounts that old are asked for
    their balance (one ``/v1/balance`` call each, cached); an account Stripe cannot
    answer for is listed with an empty ``available``. Soonest first."""
    now = timezone.now()
    accounts = ExpressAccount.objects.using(database_alias()).connected()
    if livemode is not None:
        accounts = accounts.for_mode(livemode)
    found: list[PayoutDeadline] = []
    for account in accounts:
        latest = account.payouts.exclude(created=None).order_by("-created").first()
        since = latest.created if latest is not None and latest.created else account.connected_at
        days_left = deadline_days(account.country or "") - (now - since).days
        if days_left > within_days:
            continue
        try:
            funds = account_balance(account)
        except stripe.StripeError as exc:
            logger.warning("Balance of %s unknown for the payout deadline: %s",
                           account.stripe_id, type(exc).__name__)
            found.append(PayoutDeadline(account, since, days_left, {}))
            continue
        available = {code: row["available"] for code, row in funds.items()
                     if row["available"] > 0}
        if available:
            found.append(PayoutDeadline(account, since, days_left, available))
    return sorted(found, key=lambda item: item.days_left)
