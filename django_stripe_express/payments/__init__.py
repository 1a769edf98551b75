"""Paying users: a ledger of transfers, each obligation paid exactly once.

``pay(user, amount, currency, reference)`` writes a `Transfer` row in the
caller's transaction and sends it after commit, inline or on the platform's
task workers (``PAYMENTS_PROCESSING = "task"``). The platform names each
obligation with its own ``reference``, unique per mode: the same reference is
the same payment (a double call returns the row), and the same reference with
another amount, currency or user is an error (`ReferenceConflict`), never a
second payment.

How a transfer is sent exactly once is `transfers`' part (see there).
"""

from __future__ import annotations

import functools
import logging
import re
import uuid
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import stripe
from django.db import IntegrityError, transaction
from django.utils import timezone

from .. import signals
from ..conf import WEBHOOK_PROCESSING_TASK, app_settings
from ..models import ExpressAccount, Transfer, TransferReversal, WebhookEvent, database_alias
from ..stripe_api import get_client
from . import transfers
from .payouts import (
    InvalidPayout,
    InvalidSchedule,
    NoInstantFunds,
    NoPayoutAccount,
    PaymentError,
    PayoutConflict,
    PayoutRefused,
    PayoutsNotManual,
    balance,
    payout,
    set_payout_schedule,
)
from .transfers import REFERENCE_KEY, record_reversed, send, send_reversal

logger = logging.getLogger(__name__)

__all__ = [
    "InvalidPayment",
    "InvalidPayout",
    "InvalidSchedule",
    "NoCardPayments",
    "NoInstantFunds",
    "NoPayoutAccount",
    "NotPayable",
    "NotRefundable",
    "NotReversible",
    "PaymentError",
    "PayoutConflict",
    "PayoutRefused",
    "PayoutsNotManual",
    "ReferenceConflict",
    "balance",
    "destination_charge_params",
    "pay",
    "payout",
    "record_destination_charge",
    "record_reversed",
    "refund",
    "reverse",
    "send",
    "send_reversal",
    "set_payout_schedule",
]

_CURRENCY = re.compile(r"[a-z]{3}")

Status = Transfer.Status


class InvalidPayment(PaymentError, ValueError):
    """An amount, currency, reference or metadata Stripe would refuse."""


class NotPayable(PaymentError):
    """The user has no account that can receive transfers."""


class NoCardPayments(NotPayable):
    """``on_behalf_of`` for a user whose account cannot be a charge's merchant
    (no active ``card_payments`` capability)."""


class NotRefundable(PaymentError):
    """No destination charge to the platform's users is recorded for the payment."""


class NotReversible(PaymentError):
    """The transfer was not sent, or the reversal asks for more than is left."""


class ReferenceConflict(PaymentError):
    """The reference already names another obligation (amount, currency or user)."""

    def __init__(self, message: str, transfer: Transfer) -> None:
        super().__init__(message)
        self.transfer = transfer


def pay(
    user: Any,
    amount: int,
    currency: str,
    reference: str,
    *,
    source_transaction: str | None = None,
    transfer_group: str | None = None,
    description: str = "",
    metadata: Mapping[str, str] | None = None,
) -> Transfer:
    """Pay ``user`` ``amount`` (smallest currency unit) once for ``reference``.

    The row is written in the caller's transaction (one INSERT) and sent after
    it commits. A repeated call with the same reference, user, amount and
    currency returns the existing row; with another one, `ReferenceConflict`
    and nothing is sent. `InvalidPayment` for values Stripe would refuse.
    """
    values = _validated(user, amount, currency, reference, metadata)
    alias = database_alias()
    livemode = app_settings.livemode
    transfer = _insert(
        alias,
        user=user,
        reference=reference,
        livemode=livemode,
        amount=amount,
        currency=values["currency"],
        source_transaction=source_transaction or "",
        transfer_group=transfer_group or "",
        description=description,
        metadata=values["metadata"],
    )
    if transfer is None:
        transfer = _existing(alias, reference, livemode, user, amount, values["currency"])
        if transfer.status != Status.PENDING:
            return transfer
    after_commit(alias, [transfer.pk])
    return transfer


def _validated(
    user: Any, amount: Any, currency: Any, reference: Any, metadata: Mapping[str, str] | None
) -> dict[str, Any]:
    if getattr(user, "pk", None) is None:
        raise InvalidPayment("pay() needs a saved user.")
    if not isinstance(amount, int) or isinstance(amount, bool) or amount <= 0:
        raise InvalidPayment(
            f"amount must be a positive integer in the currency's smallest unit, not {amount!r}."
        )
    code = currency.lower() if isinstance(currency, str) else ""
    if not _CURRENCY.fullmatch(code):
        raise InvalidPayment(f"currency must be a 3-letter ISO code, not {currency!r}.")
    if not isinstance(reference, str) or not reference.strip() or len(reference) > 255:
        raise InvalidPayment("reference must be a non-empty string of at most 255 characters.")
    given = dict(metadata or {})
    if REFERENCE_KEY in given or any(
        not isinstance(k, str) or len(k) > 40 or not isinstance(v, str) or len(v) > 500
        for k, v in given.items()
    ) or len(given) > 49:
        raise InvalidPayment(
            "metadata must be at most 49 string keys (40 characters) and values (500), "
            f"without {REFERENCE_KEY!r}, which the app sets."
        )
    return {"currency": code, "metadata": given}


def _insert(alias: str, **values: Any) -> Transfer | None:
    """INSERT the row; None when its reference is already taken (in a savepoint
    inside the caller's transaction, so that it survives the conflict)."""
    rows = Transfer.objects.using(alias)
    try:
        if transaction.get_autocommit(using=alias):
            return rows.create(**values)
        with transaction.atomic(using=alias):
            return rows.create(**values)
    except IntegrityError:
        return None


def _existing(
    alias: str, reference: str, livemode: bool, user: Any, amount: int, currency: str
) -> Transfer:
    transfer = Transfer.objects.using(alias).get(reference=reference, livemode=livemode)
    differs = [
        name
        for name, same in (
            ("user", transfer.user_id == user.pk),
            ("amount", transfer.amount == amount),
            ("currency", transfer.currency == currency),
        )
        if not same
    ]
    if differs:
        raise ReferenceConflict(
            f"reference {reference!r} already names a transfer with another "
            f"{', '.join(differs)}; nothing was sent.",
            transfer,
        )
    return transfer


# -- reversals -------------------------------------------------------------------------
#: The reference of "reverse all that is left" when the caller names none: asking
#: twice is one reversal.
_REST = "rest"


def reverse(
    transfer: Transfer,
    amount: int | None = None,
    *,
    refund_application_fee: bool = False,
    reference: str | None = None,
) -> TransferReversal:
    """Reverse ``amount`` of a sent transfer (None: all that is left).

    The reversal is a `TransferReversal` row written in the caller's transaction
    and asked of Stripe after commit, its idempotency key from the row. A
    ``reference`` names it: the same reference again returns that reversal
    (asked again if Stripe refused it), never a second one. Without one, each
    partial call is a new reversal; "all that is left" is one. `NotReversible`
    for a transfer not sent or an amount more than is left (reversals asked
    and not yet refused count); `ReferenceConflict` for a reference used with
    another amount. The row afterwards (``done``, ``failed`` with Stripe's
    code, or ``pending`` while Stripe's answer is unknown or after commit).
    """
    if amount is not None and (
        not isinstance(amount, int) or isinstance(amount, bool) or amount <= 0
    ):
        raise InvalidPayment(
            f"amount must be a positive integer in the currency's smallest unit, not {amount!r}."
        )
    if reference is not None and (
        not isinstance(reference, str) or not reference.strip() or len(reference) > 255
    ):
        raise InvalidPayment("reference must be a non-empty string of at most 255 characters.")
    name = reference or (_REST if amount is None else uuid.uuid4().hex)
    alias = database_alias()
    with transaction.atomic(using=alias):
        locked = Transfer.objects.using(alias).select_for_update().filter(
            pk=transfer.pk).first()
        if locked is None or locked.status != Status.SENT or not locked.stripe_id:
            raise NotReversible(
                f"transfer {transfer.reference!r} was not sent; there is nothing to reverse.")
        rows = TransferReversal.objects.using(alias).filter(transfer=locked)
        existing = rows.filter(kind=TransferReversal.Kind.REVERSAL, reference=name).first()
        if existing is not None and amount is not None and existing.amount != amount:
            raise ReferenceConflict(
                f"reversal {name!r} of transfer {locked.reference!r} is of "
                f"{existing.amount}, not {amount}; nothing was reversed.", locked)
        if existing is not None and existing.status != TransferReversal.Status.FAILED:
            row = existing
        else:
            row = _new_reversal(locked, rows, existing, name, amount, refund_application_fee)
        transaction.on_commit(functools.partial(_send_reversal, row.pk), using=alias)
    return TransferReversal.objects.using(alias).get(pk=row.pk)


def _new_reversal(
    locked: Transfer, rows: Any, existing: TransferReversal | None, name: str,
    amount: int | None, refund_application_fee: bool,
) -> TransferReversal:
    """A reversal to ask, checked against what is left: a new row, or the failed
    ``existing`` one asked again (its key was renewed when Stripe refused)."""
    others = rows if existing is None else rows.exclude(pk=existing.pk)
    left = locked.amount - _reserved(locked, others)
    wanted = left if amount is None else amount
    if wanted <= 0 or wanted > left:
        raise NotReversible(
            f"transfer {locked.reference!r} has {max(left, 0)} {locked.currency} left "
            f"to reverse; {wanted} was asked. Nothing was reversed.")
    if existing is not None:
        existing.amount = wanted
        existing.save(update_fields=["amount"])
        existing.retry()
        return existing
    row: TransferReversal = rows.create(
        transfer=locked, kind=TransferReversal.Kind.REVERSAL, reference=name,
        amount=wanted, refund_application_fee=refund_application_fee,
    )
    return row


def _reserved(transfer: Transfer, reversals: Any) -> int:
    """What is reversed or being reversed: Stripe's total (or the app's reversals
    done, if more), and the reversals asked whose answer is not known yet."""
    done = pending = 0
    for status, amount in reversals.filter(kind=TransferReversal.Kind.REVERSAL).values_list(
            "status", "amount"):
        if status == TransferReversal.Status.DONE:
            done += amount or 0
        elif status == TransferReversal.Status.PENDING:
            pending += amount or 0
    return max(transfer.amount_reversed, done) + pending


def _send_reversal(reversal_id: int) -> None:
    _hand_over(reversal_id, send_reversal, "send_reversal_task", "Reversal")


# -- destination charges ----------------------------------------------------------------
def destination_charge_params(
    user: Any,
    amount: int,
    currency: str,
    *,
    application_fee_amount: int | None = None,
    on_behalf_of: bool = False,
    transfer_group: str | None = None,
) -> dict[str, Any]:
    """The parameters that make a payment of ``amount`` a destination charge to
    ``user``: pass them to ``payment_intents.create`` with your ``amount`` and
    ``currency``, or as a Checkout Session's ``payment_intent_data``.

    `NotPayable` when the user has no account that can receive transfers now,
    `NoCardPayments` for ``on_behalf_of`` when the account cannot be the
    merchant of record, `InvalidPayment` for values Stripe would refuse (a fee
    more than the amount). The transfer Stripe makes is recorded as the user's
    `Transfer` when the payment's event arrives (see `record_destination_charge`).
    """
    values = _validated(user, amount, currency, "destination charge", None)
    if application_fee_amount is not None and (
        not isinstance(application_fee_amount, int) or isinstance(application_fee_amount, bool)
        or not 0 <= application_fee_amount <= amount
    ):
        raise InvalidPayment(
            "application_fee_amount must be an integer between 0 and the amount, "
            f"not {application_fee_amount!r}.")
    account = ExpressAccount.objects.using(database_alias()).for_user(
        user.pk, app_settings.livemode).connected().first()
    if account is None or not account.can_receive_transfers:
        raise NotPayable(
            f"user {user.pk} has no Stripe account that can receive transfers now.")
    if on_behalf_of and not account.can_accept_card_payments:
        raise NoCardPayments(
            f"account {account.stripe_id} cannot accept card payments (card_payments is not "
            "active): it cannot be the charge's merchant (on_behalf_of).")
    params: dict[str, Any] = {"transfer_data": {"destination": account.stripe_id}}
    if application_fee_amount is not None:
        params["application_fee_amount"] = application_fee_amount
    if on_behalf_of:
        params["on_behalf_of"] = account.stripe_id
    if transfer_group:
        params["transfer_group"] = transfer_group
    logger.debug("Destination charge of %d %s to %s", amount, values["currency"],
                 account.stripe_id)
    return params


def destination_reference(payment_intent: str, charge: str = "") -> str:
    """The ledger's reference of the transfer Stripe made for a destination charge."""
    return f"payment_intent:{payment_intent}" if payment_intent else f"charge:{charge}"


def record_destination_charge(obj: Mapping[str, Any]) -> Transfer | None:
    """A succeeded PaymentIntent or charge (Stripe's object, from its event) with
    ``transfer_data``: its transfer recorded once as a `Transfer` of the user who
    owns the destination, ``sent``. Both events of one payment name the same
    row (the reference comes from the PaymentIntent); the charge's fills in the
    transfer's id. None when it is not a destination charge to a known account."""
    data = obj.get("transfer_data")
    destination = data.get("destination") if isinstance(data, Mapping) else None
    if not isinstance(destination, str) or not destination or obj.get("status") != "succeeded":
        return None
    is_charge = obj.get("object") == "charge"
    charge_id = _id_of(obj.get("id") if is_charge else obj.get("latest_charge"))
    intent_id = _id_of(obj.get("payment_intent") if is_charge else obj.get("id"))
    amount = obj.get("amount" if is_charge else "amount_received")
    fee = obj.get("application_fee_amount") or 0
    transfer_amount = data.get("amount") if isinstance(data, Mapping) else None
    if not isinstance(transfer_amount, int):
        transfer_amount = amount - fee if isinstance(amount, int) and isinstance(fee, int) else 0
    # The PaymentIntent names its transfer only when its charge is expanded.
    charge = obj if is_charge else obj.get("latest_charge")
    transfer_id = _id_of(charge.get("transfer")) if isinstance(charge, Mapping) else ""
    alias = database_alias()
    livemode = app_settings.livemode
    account = ExpressAccount.objects.using(alias).filter(
        stripe_id=destination, livemode=livemode).first()
    if account is None or transfer_amount <= 0 or not (intent_id or charge_id):
        logger.warning("Destination charge %s to %s not recorded: %s", intent_id or charge_id,
                       destination, "unknown account" if account is None else "no amount")
        return None
    reference = destination_reference(intent_id, charge_id)
    with transaction.atomic(using=alias):
        transfer = _insert(
            alias, user_id=account.user_id, account=account, reference=reference,
            livemode=livemode, amount=transfer_amount,
            currency=str(obj.get("currency") or "").lower()[:3], status=Status.SENT,
            destination=destination, stripe_id=transfer_id, payment_intent=intent_id,
            source_transaction=charge_id, transfer_group=str(obj.get("transfer_group") or ""),
            sent_at=timezone.now(),
        )
        if transfer is not None:
            transfers.signal_on_commit(alias, signals.transfer_sent, transfer)
            logger.info("Destination charge %s recorded as transfer %s", reference,
                        transfer_id or "(id to come)")
        else:
            transfer = Transfer.objects.using(alias).select_for_update().get(
                reference=reference, livemode=livemode)
            if transfer.destination != destination:
                logger.error("Destination charge %s: reference already names another "
                             "transfer", reference)
                return transfer
            transfer.learn_stripe_ids(transfer_id, charge_id)
        _reversed_before(alias, transfer)
    return transfer


#: The platform events that carry a transfer's ``amount_reversed``.
_REVERSAL_EVENTS = ("transfer.reversed", "transfer.updated")


def _reversed_before(alias: str, transfer: Transfer) -> None:
    """Keep what the recorded events say was reversed of the locked ``transfer``
    before its row existed: Stripe sends events in any order, and a
    ``transfer.reversed`` (a refund from the Dashboard) that came before the
    payment's event found no row to update. It is recorded all the same."""
    if not transfer.stripe_id:
        return
    earlier = WebhookEvent.objects.using(alias).filter(
        type__in=_REVERSAL_EVENTS, livemode=transfer.livemode, account="",
        payload__data__object__id=transfer.stripe_id,
    ).values_list("payload", flat=True)
    totals = [_amount_reversed(payload) for payload in earlier]
    if any(totals):
        transfers.note_reversed(alias, transfer, max(totals))


def _amount_reversed(payload: Any) -> int:
    body = payload.get("data") if isinstance(payload, Mapping) else None
    obj = body.get("object") if isinstance(body, Mapping) else None
    total = obj.get("amount_reversed") if isinstance(obj, Mapping) else None
    return total if isinstance(total, int) and not isinstance(total, bool) else 0


def _id_of(value: Any) -> str:
    """A Stripe id, given as itself or as its expanded object."""
    if isinstance(value, Mapping):
        value = value.get("id")
    return value if isinstance(value, str) else ""


def _record_from_stripe(intent_id: str) -> None:
    """Record the destination charge of PaymentIntent ``intent_id`` from Stripe (a
    refund asked before the payment's event arrived); nothing if it is none."""
    try:
        intent = get_client().v1.payment_intents.retrieve(
            intent_id, {"expand": ["latest_charge"]})
    except stripe.StripeError as exc:
        raise NotRefundable(
            f"cannot read {intent_id} from Stripe ({type(exc).__name__}); nothing was "
            "refunded.") from exc
    record_destination_charge(intent.to_dict())


def refund(
    payment_intent: Any,
    amount: int | None = None,
    *,
    reverse_transfer: bool = True,
    refund_application_fee: bool = True,
    reference: str | None = None,
) -> TransferReversal:
    """Refund a destination charge (its PaymentIntent or id): ``amount`` of it, or
    all it has left (None). With ``reverse_transfer`` Stripe takes the user's
    share back in proportion (their transfer's ``amount_reversed`` follows),
    with ``refund_application_fee`` the platform's fee too.

    As `reverse`: a row first (kind ``refund``, on the payment's `Transfer`),
    asked of Stripe after commit with the row's key; the same ``reference``
    is the same refund (without one, a refund of all that is left is one).
    A payment whose event has not arrived yet is read from Stripe and recorded
    first. `NotRefundable` when it is not a succeeded destination charge to a
    user the platform knows.
    """
    intent_id = _id_of(payment_intent) or str(getattr(payment_intent, "id", "") or "")
    if amount is not None and (
        not isinstance(amount, int) or isinstance(amount, bool) or amount <= 0
    ):
        raise InvalidPayment(
            f"amount must be a positive integer in the currency's smallest unit, not {amount!r}.")
    if reference is not None and (
        not isinstance(reference, str) or not reference.strip() or len(reference) > 255
    ):
        raise InvalidPayment("reference must be a non-empty string of at most 255 characters.")
    name = reference or (_REST if amount is None else uuid.uuid4().hex)
    alias = database_alias()
    payment = Transfer.objects.using(alias).filter(payment_intent=intent_id,
                                                    livemode=app_settings.livemode)
    if intent_id and not payment.exists():
        _record_from_stripe(intent_id)
    with transaction.atomic(using=alias):
        locked = payment.select_for_update().first() if intent_id else None
        if locked is None:
            raise NotRefundable(
                f"no destination charge is recorded for {intent_id or payment_intent!r} "
                "(not a succeeded destination charge to an account the platform knows).")
        rows = TransferReversal.objects.using(alias).filter(transfer=locked)
        row = rows.filter(kind=TransferReversal.Kind.REFUND, reference=name).first()
        if row is not None and amount is not None and row.amount != amount:
            raise ReferenceConflict(
                f"refund {name!r} of {intent_id} is of {row.amount}, not {amount}; "
                "nothing was refunded.", locked)
        if row is None:
            row = rows.create(
                transfer=locked, kind=TransferReversal.Kind.REFUND, reference=name,
                amount=amount, reverse_transfer=reverse_transfer,
                refund_application_fee=refund_application_fee,
            )
        elif row.status == TransferReversal.Status.FAILED:
            row.retry()
        transaction.on_commit(functools.partial(_send_reversal, row.pk), using=alias)
    return TransferReversal.objects.using(alias).get(pk=row.pk)


# -- after commit: inline, or on the platform's task workers ----------------------------
def after_commit(alias: str, transfer_ids: Iterable[int]) -> None:
    """Send these transfers once the current transaction commits (at once in autocommit)."""
    ids = list(transfer_ids)
    if ids:
        transaction.on_commit(functools.partial(_dispatch, ids), using=alias)


def _dispatch(transfer_ids: list[int]) -> None:
    for transfer_id in transfer_ids:
        _hand_over(transfer_id, send, "send_transfer", "Transfer")


def _hand_over(row_id: int, inline: Callable[[int], Any], task: str, what: str) -> None:
    """Send the transfer or reversal ``row_id`` now, or hand it to the workers with
    the task named ``task`` (``PAYMENTS_PROCESSING = "task"``). It runs after
    commit, where nothing may raise into the caller: what is not handed over
    stays pending, and asking again or the ``stripe_express_transfers`` command
    sends it with its key."""
    try:
        if app_settings.PAYMENTS_PROCESSING == WEBHOOK_PROCESSING_TASK:
            # Imported here, in "task" mode only: inline deployments need no
            # Tasks framework.
            from .. import tasks

            getattr(tasks, task).enqueue(row_id)
        else:
            inline(row_id)
    except Exception as exc:
        logger.error("%s %s not handed over (%s); it stays pending", what, row_id,
                     type(exc).__name__)


# -- released: the account can receive transfers, the funds are available --------------
def release_held(user_id: Any, livemode: bool) -> list[int]:
    """Send the user's held transfers in ``livemode`` (their account can now
    receive them); the ids released. Each is released once, under its lock."""
    return _sent_after_commit(_release(Status.HELD, user_id=user_id, livemode=livemode))


def release_waiting(livemode: bool) -> list[int]:
    """Send again the transfers waiting for the platform's funds in ``livemode``."""
    return _sent_after_commit(_release(Status.WAITING_FOR_FUNDS, livemode=livemode))


def _release(status: str, **filters: Any) -> list[int]:
    alias = database_alias()
    with transaction.atomic(using=alias):
        rows = Transfer.objects.using(alias).select_for_update()
        released = list(rows.filter(status=status, **filters).order_by("created_at", "pk"))
        for transfer in released:
            transfer.release()
    return [t.pk for t in released]


def outstanding(livemode: bool | None = None) -> list[tuple[Transfer, str]]:
    """What the ``stripe_express_transfers`` command does, oldest first: each
    transfer with the action it needs (see `ACTIONS`)."""
    mode = app_settings.livemode if livemode is None else livemode
    rows = Transfer.objects.using(database_alias()).filter(
        livemode=mode, status__in=(Status.PENDING, Status.WAITING_FOR_FUNDS, Status.HELD)
    ).select_related("user").order_by("created_at", "pk")
    found = []
    for transfer in rows:
        action = _action(transfer)
        if action:
            found.append((transfer, action))
    return found


#: The command's actions, in its words.
ACTIONS = {
    "send": "send",
    "retry": "retry with the same key (outcome unknown)",
    "reconcile": "ask Stripe first (key window over), then send if it has none",
    "funds": "send again (was waiting for funds)",
    "release": "release (the account can now receive transfers)",
}


def _action(transfer: Transfer) -> str:
    if transfer.status == Status.WAITING_FOR_FUNDS:
        return "funds"
    if transfer.status == Status.HELD:
        account = transfers.payable_account(transfer, database_alias())
        return "release" if account is not None and account.can_receive_transfers else ""
    if transfer.key_used_at is None:
        return "send"
    return "reconcile" if transfer.key_expired else "retry"


def pending_reversals(livemode: bool | None = None) -> list[TransferReversal]:
    """Reversals and refunds whose answer is unknown (lost, or never asked: the
    process died after commit), oldest first: the command asks them again."""
    mode = app_settings.livemode if livemode is None else livemode
    return list(TransferReversal.objects.using(database_alias()).filter(
        status=TransferReversal.Status.PENDING, transfer__livemode=mode,
    ).select_related("transfer").order_by("created_at", "pk"))


def reversal_action(row: TransferReversal) -> str:
    """What the command does for a pending reversal or refund, in its words."""
    if row.key_used_at is None:
        return "ask Stripe"
    if row.key_expired:
        return "ask Stripe whether it was made (key window over), then ask if not"
    return "ask again with the same key (outcome unknown)"


def send_now(transfer: Transfer) -> Transfer | None:
    """Send one outstanding transfer in this process (the command's work): a held
    or waiting one is released first, under its lock."""
    if transfer.status != Status.PENDING:
        _release(transfer.status, pk=transfer.pk)
    return send(transfer.pk)


def retry(transfer_id: int) -> bool:
    """Staff: send a failed (or waiting) transfer again, under its lock; whether
    it was one. It is sent after commit, as `pay` sends."""
    return _change(transfer_id, "can_retry", "retry", send_after=True)


def cancel(transfer_id: int) -> bool:
    """Staff: cancel a transfer that cannot have reached Stripe, under its lock;
    whether it could be canceled."""
    return _change(transfer_id, "can_cancel", "cancel", send_after=False)


def _change(transfer_id: int, allowed: str, method: str, *, send_after: bool) -> bool:
    alias = database_alias()
    with transaction.atomic(using=alias):
        transfer = Transfer.objects.using(alias).select_for_update().filter(
            pk=transfer_id).first()
        if transfer is None or not getattr(transfer, allowed):
            return False
        getattr(transfer, method)()
        if send_after:
            after_commit(alias, [transfer.pk])
    return True


def _sent_after_commit(ids: list[int]) -> list[int]:
    after_commit(database_alias(), ids)
    return ids


def release_held_for(accounts: Iterable[ExpressAccount]) -> list[int]:
    """Send the held transfers of these accounts' users, for the accounts that can
    now receive transfers: one query when none is held (a sync's page, a webhook)."""
    # An account whose user was deleted pays nobody's held transfers.
    payable = [a for a in accounts if a.can_receive_transfers and a.user_id is not None]
    if not payable:
        return []
    alias = database_alias()
    users = {a.user_id for a in payable if a.user_id is not None}
    held = Transfer.objects.using(alias).filter(
        status=Status.HELD, user_id__in=users, livemode__in={a.livemode for a in payable}
    ).values_list("pk", "user_id", "livemode")
    wanted = {(a.user_id, a.livemode) for a in payable}
    ids = [pk for pk, user_id, livemode in held if (user_id, livemode) in wanted]
    if not ids:
        return []
    released = _sent_after_commit(_release(Status.HELD, pk__in=ids))
    logger.info("%d held transfer(s) released: their accounts can receive transfers",
                len(released))
    return released


def _account_changed(sender: Any, account: ExpressAccount, source: str = "",
                     **kwargs: Any) -> None:
    """`account_updated` (webhook, return from onboarding, admin refresh): a payable
    account releases its user's held transfers. The sync command releases a
    page's at once instead (`release_held_for`). A connection alone does not:
    the account's next update, or the ``stripe_express_transfers`` command, does."""
    if source != "sync":
        release_held_for([account])


def _webhook_event(sender: Any, data: Mapping[str, Any], **kwargs: Any) -> None:
    """The platform's events: ``balance.available`` sends the transfers waiting
    for funds again; ``transfer.reversed`` / ``transfer.updated`` keep
    ``amount_reversed`` (reversals made from the Dashboard too), as does
    ``charge.refunded`` (a refund that reversed a destination charge's transfer);
    ``payment_intent.succeeded`` / ``charge.succeeded`` record a destination
    charge's transfer in the ledger."""
    platform = not data.get("account")  # the platform's own events, not a user's
    if not platform or bool(data.get("livemode")) != app_settings.livemode:
        return
    kind = data.get("type")
    body = data.get("data")
    obj = body.get("object") if isinstance(body, Mapping) else None
    if not isinstance(obj, Mapping):
        return
    if kind == "balance.available":
        release_waiting(app_settings.livemode)
    elif kind in ("payment_intent.succeeded", "charge.succeeded"):
        record_destination_charge(obj)
    elif kind == "charge.refunded" and obj.get("transfer"):
        # Stripe reversed the destination charge's transfer in proportion: its
        # total is read back (the transfer.reversed event says it too).
        transfers.refresh_reversed(_id_of(obj.get("transfer")))
    elif kind in ("transfer.reversed", "transfer.updated"):
        record_reversed(obj.get("id"), obj.get("amount_reversed"))


def connect_receivers() -> None:
    """Called by the app's ``ready()``."""
    uid = "django_stripe_express.payments"
    signals.account_updated.connect(_account_changed, dispatch_uid=f"{uid}.updated")
    signals.webhook_event.connect(_webhook_event, dispatch_uid=f"{uid}.balance")
