"""Paying out: what a failed payout means in words, payout schedules, balances.

A payout moves a user's Stripe balance to their bank. Stripe makes it on the
account's schedule; the app keeps each one as a `Payout` row from Stripe's
``payout.*`` events (`webhooks.rules`, `models.record_payout`). A failed
payout disables the user's bank account at Stripe until they update it: the
account keeps the failure (``payout_failure_code``) and the user is told why,
in the words of `FAILURES` (one row per Stripe ``failure_code``), and how to
fix it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.core.cache import cache
from django.utils.functional import Promise
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from ..accounts import PayoutSchedule, schedule_problems, v1, v2
from ..conf import ACCOUNTS_V1, ACCOUNTS_V2, app_settings
from ..models import ExpressAccount, database_alias
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
