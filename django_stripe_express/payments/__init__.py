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
from collections.abc import Iterable, Mapping
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from .. import signals
from ..conf import WEBHOOK_PROCESSING_TASK, app_settings
from ..models import ExpressAccount, Transfer, database_alias, notify
from . import transfers
from .transfers import REFERENCE_KEY, send

logger = logging.getLogger(__name__)

__all__ = [
    "InvalidPayment",
    "NotPayable",
    "PaymentError",
    "ReferenceConflict",
    "pay",
    "send",
]

_CURRENCY = re.compile(r"[a-z]{3}")

Status = Transfer.Status


class PaymentError(Exception):
    """Base class of what `pay` and the other payment functions refuse."""


class InvalidPayment(PaymentError, ValueError):
    """An amount, currency, reference or metadata Stripe would refuse."""


class NotPayable(PaymentError):
    """The user has no account that can receive transfers."""


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


# -- after commit: inline, or on the platform's task workers ----------------------------
def after_commit(alias: str, transfer_ids: Iterable[int]) -> None:
    """Send these transfers once the current transaction commits (at once in autocommit)."""
    ids = list(transfer_ids)
    if ids:
        transaction.on_commit(functools.partial(_dispatch, ids), using=alias)


def _dispatch(transfer_ids: list[int]) -> None:
    # After commit nothing may raise into the caller: what is not sent now
    # stays pending, and a retry or the command sends it.
    for transfer_id in transfer_ids:
        try:
            if app_settings.PAYMENTS_PROCESSING == WEBHOOK_PROCESSING_TASK:
                # Imported here, in "task" mode only: inline deployments need no
                # Tasks framework.
                from .tasks import send_transfer

                send_transfer.enqueue(transfer_id)
            else:
                send(transfer_id)
        except Exception as exc:
            logger.error(
                "Transfer %s not handed over (%s); it stays pending for the "
                "stripe_express_transfers command", transfer_id, type(exc).__name__,
            )


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
    expired = timezone.now() - transfer.key_used_at >= transfers.KEY_WINDOW
    return "reconcile" if expired else "retry"


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
    ``amount_reversed`` (reversals made from the Dashboard too)."""
    platform = not data.get("account")  # the platform's own events, not a user's
    if not platform or bool(data.get("livemode")) != app_settings.livemode:
        return
    kind = data.get("type")
    if kind == "balance.available":
        release_waiting(app_settings.livemode)
    elif kind in ("transfer.reversed", "transfer.updated"):
        body = data.get("data")
        obj = body.get("object") if isinstance(body, Mapping) else None
        if isinstance(obj, Mapping):
            record_reversed(obj.get("id"), obj.get("amount_reversed"))


def record_reversed(stripe_id: Any, amount_reversed: Any) -> Transfer | None:
    """Stripe says transfer ``stripe_id`` has ``amount_reversed`` reversed: stored
    when it is more than known (events arrive in any order; reversals only
    add up), with `signals.transfer_reversed` for the difference."""
    if not isinstance(stripe_id, str) or not stripe_id:
        return None
    if not isinstance(amount_reversed, int) or isinstance(amount_reversed, bool):
        return None
    alias = database_alias()
    with transaction.atomic(using=alias):
        transfer = Transfer.objects.using(alias).select_for_update().filter(
            stripe_id=stripe_id, livemode=app_settings.livemode
        ).first()
        if transfer is None or amount_reversed <= transfer.amount_reversed:
            return transfer
        added = transfer.add_reversed(amount_reversed)
        transaction.on_commit(
            functools.partial(
                notify, signals.transfer_reversed, f"transfer {transfer.reference}",
                sender=Transfer, transfer=transfer, amount=added,
            ),
            using=alias,
        )
    logger.info("Transfer %s: %d reversed (%d in all)", transfer.reference, added,
                transfer.amount_reversed)
    return transfer


def connect_receivers() -> None:
    """Called by the app's ``ready()``."""
    uid = "django_stripe_express.payments"
    signals.account_updated.connect(_account_changed, dispatch_uid=f"{uid}.updated")
    signals.webhook_event.connect(_webhook_event, dispatch_uid=f"{uid}.balance")
