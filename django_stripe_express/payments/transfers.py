"""What moves money: transfers, reversals and refunds, each sent at most once.

A transfer:

1. In a short transaction, the row is locked. Unless it is ``pending`` nothing
   is done. A fresh row is checked against the user's account (held, with no
   call to Stripe, when it cannot receive transfers) and its destination and
   ``key_used_at`` are written: from that commit on, the request may reach
   Stripe, and every later attempt sends the same parameters with the same
   idempotency key (`Transfer.idempotency_key`).
2. Stripe is called with no transaction open and no lock held.
3. In another short transaction, the answer is recorded: ``sent`` with the
   transfer's id; ``waiting_for_funds`` (``balance_insufficient``), ``failed``
   or ``held`` (the destination refused) with a NEW key, because Stripe said
   nothing was transferred and replays that answer under the old key; and for
   an unknown outcome (no answer, a server error, the key busy) nothing: the
   row stays pending with its key, and the next attempt (a task retried, the
   ``stripe_express_transfers`` command) gets Stripe's first answer again.

A worker killed between steps 2 and 3 leaves the row pending with its key:
the retry is answered with the transfer Stripe made. Stripe keeps keys for at
least 24 hours after their first use; ``key_used_at`` is written before the
first use, so while it is younger than `models.KEY_WINDOW` the key is still known.
After that, the app first asks Stripe for a transfer carrying the reference
(`_find_at_stripe`: ``transfer_group`` and metadata), records it when found, and
only then sends with a new key.

Signals (`signals.transfer_sent` ...) are sent once the state they announce
is committed, by the attempt that changed it.

A reversal or a refund (`send_reversal`) follows the same protocol on its own
`TransferReversal` row, written before Stripe is called: its key comes from
the row, an unknown outcome keeps the row pending with its key, a refusal
fails it with a new key. Locks are always taken transfer first, then reversal.
"""

from __future__ import annotations

import functools
import logging
import random
import time
from dataclasses import dataclass
from typing import Any

import stripe
from django.core.cache import cache
from django.db import transaction
from django.dispatch import Signal

from .. import signals
from ..conf import WEBHOOK_PROCESSING_TASK, app_settings
from ..models import ExpressAccount, Transfer, TransferReversal, database_alias, notify
from ..stripe_api import GONE, failure, get_client, log_configuration_error

logger = logging.getLogger("django_stripe_express.payments")

#: The metadata key that carries the reference on every transfer the app makes:
#: how the app finds a transfer at Stripe once idempotency keys have expired.
REFERENCE_KEY = "django_stripe_express_reference"

#: Stripe's codes for a destination that cannot take this transfer now: the
#: transfer is held until the user's account can receive it.
_DESTINATION_REFUSED = ("insufficient_capabilities_for_transfer", "account_invalid")

_BALANCE_INSUFFICIENT = "balance_insufficient"

Status = Transfer.Status


# -- pacing: Stripe's rate limit -----------------------------------------------------
#: Seconds one send may wait in all, for its turn and after 429s, before it leaves
#: the row pending for the next attempt: a request serving the inline call waits
#: little, a worker (task mode) can wait longer.
_INLINE_WAIT = 5.0
_TASK_WAIT = 60.0
#: A ``Retry-After`` longer than this is not believed (as stripe-python's cap).
_MAX_RETRY_AFTER = 60.0


def _budget() -> float:
    task = app_settings.PAYMENTS_PROCESSING == WEBHOOK_PROCESSING_TASK
    return _TASK_WAIT if task else _INLINE_WAIT


def _pace(deadline: float) -> None:
    """Wait for a turn under `conf.Settings.payments_rate` before a request
    that moves money.

    Turns are counted in Django's cache (``add`` then ``incr``: atomic with
    Redis and Memcached; the database cache's ``incr`` is a read then a write,
    so concurrent turns may be counted once and the pace overshoot, which
    Stripe's 429 then corrects), in slices of a
    quarter of a second so that no second, however it falls, sees more than the
    limit and a quarter: the budget is shared by every process using that
    cache (a local-memory cache paces each process alone). Past ``deadline``
    the request goes anyway: Stripe's 429, if it comes, is handled by `_call`.
    """
    limit = app_settings.payments_rate
    if limit <= 0:
        return
    width = max(0.25, 1 / limit)
    allowance = max(1, int(limit * width))
    mode = "live" if app_settings.livemode else "test"
    while True:
        now = time.time()
        slot = int(now / width)
        key = f"django_stripe_express:pace:{mode}:{width}:{slot}"
        cache.add(key, 0, timeout=5)
        try:
            turn = cache.incr(key)
        except ValueError:  # evicted between add and incr: a fresh slice
            cache.add(key, 1, timeout=5)
            turn = 1
        if turn <= allowance or time.monotonic() >= deadline:
            return
        # The next slice, with a little jitter so that waiting workers do not
        # all arrive at its first instant.
        time.sleep((slot + 1) * width - now + _jitter(width / 4))


def _jitter(high: float) -> float:
    """A spread of waits, so that waiting workers do not all come back at once
    (timing only, nothing secret: the ordinary generator is right here)."""
    return random.uniform(0, high)  # noqa: S311


def _retry_after(exc: stripe.StripeError, attempt: int) -> float:
    """Seconds to wait after a 429: Stripe's ``Retry-After`` when it sends one,
    else one second doubling with each attempt, with jitter."""
    headers = getattr(exc, "headers", None) or {}
    stated = headers.get("retry-after") or headers.get("Retry-After")
    try:
        seconds = float(stated) if stated is not None else -1.0
    except ValueError:
        seconds = -1.0
    if 0 <= seconds <= _MAX_RETRY_AFTER:
        return seconds + _jitter(0.25)
    return float(min(2**attempt, 8)) + _jitter(0.25 * min(2**attempt, 8))


# -- sending ----------------------------------------------------------------------
@dataclass(frozen=True)
class _Request:
    """One request to Stripe, read from the locked row."""

    params: dict[str, Any]
    key: str
    generation: int
    #: The key's window is over: ask Stripe before sending.
    reconcile: bool


def send(transfer_id: int) -> Transfer | None:
    """Send the transfer if it is pending (see the module); the row afterwards.

    Safe to call any number of times, concurrently included: a transfer that
    is not pending is left alone, and every request for one generation of the
    row carries the same idempotency key.
    """
    alias = database_alias()
    for _ in range(2):  # a second pass only after a reconciliation found nothing
        transfer, request = _claim(alias, transfer_id)
        if request is None:
            return transfer
        if request.reconcile:
            if not _reconcile(alias, transfer_id, request):
                return _reload(alias, transfer_id)
            continue
        _call(alias, transfer_id, request)
        return _reload(alias, transfer_id)
    return _reload(alias, transfer_id)


def _reload(alias: str, transfer_id: int) -> Transfer | None:
    return Transfer.objects.using(alias).filter(pk=transfer_id).first()


def _claim(alias: str, transfer_id: int) -> tuple[Transfer | None, _Request | None]:
    """Step 1: lock, decide, fix the request; the request to make, if any."""
    with transaction.atomic(using=alias):
        rows = Transfer.objects.using(alias).select_for_update()
        transfer = rows.filter(pk=transfer_id).first()
        if transfer is None or transfer.status != Status.PENDING:
            return transfer, None
        if transfer.key_used_at is not None:
            # A request with this key may have reached Stripe: the same again.
            if transfer.key_expired:
                return transfer, _request(transfer, reconcile=True)
            transfer.start_sending(None)
            return transfer, _request(transfer)
        # The account's row is locked too (always after the transfer's: no path
        # locks an account, then a transfer): an update making it payable either
        # commits first, and is read here, or waits for this hold to commit, and
        # its release finds the transfer held. Read unlocked, the update could
        # commit in between and its release look before the hold: held for nothing.
        account = payable_account(transfer, alias, lock=True)
        if account is None or not account.can_receive_transfers:
            transfer.hold(account)
            signal_on_commit(alias, signals.transfer_held, transfer)
            logger.info("Transfer %s held: the user's account cannot receive transfers",
                        transfer.reference)
            return transfer, None
        transfer.start_sending(account)
        return transfer, _request(transfer)


def payable_account(
    transfer: Transfer, alias: str, *, lock: bool = False
) -> ExpressAccount | None:
    """The user's connected account in the transfer's mode (None if none);
    ``lock``: its row locked until the transaction ends."""
    if transfer.user_id is None:
        return None
    accounts = ExpressAccount.objects.using(alias).for_user(transfer.user_id, transfer.livemode)
    if lock:
        accounts = accounts.select_for_update()
    return accounts.connected().first()


def _request(transfer: Transfer, *, reconcile: bool = False) -> _Request:
    params: dict[str, Any] = {
        "amount": transfer.amount,
        "currency": transfer.currency,
        "destination": transfer.destination,
        "transfer_group": transfer.transfer_group or transfer.reference,
        "metadata": {**transfer.metadata, REFERENCE_KEY: transfer.reference},
    }
    if transfer.source_transaction:
        params["source_transaction"] = transfer.source_transaction
    if transfer.description:
        params["description"] = transfer.description
    return _Request(params, transfer.idempotency_key, transfer.key_generation, reconcile)


def _call(alias: str, transfer_id: int, request: _Request) -> None:
    """Steps 2 and 3: call Stripe (no transaction open), then record its answer.

    Paced (`_pace`); a 429 did nothing at Stripe, so the same request is sent
    again with the same key after ``Retry-After``, within the send's budget
    (`_budget`). Past it the row stays pending with its key, as for any unknown
    outcome: the task's next run or the ``stripe_express_transfers`` command
    sends it. A 429 is never a failure and never a new key.
    """
    deadline = time.monotonic() + _budget()
    attempt = 0
    while True:
        _pace(deadline)
        try:
            created: Any = get_client().v1.transfers.create(
                request.params,  # type: ignore[arg-type]
                {"idempotency_key": request.key},
            )
        except stripe.RateLimitError as exc:
            wait = _retry_after(exc, attempt)
            if time.monotonic() + wait > deadline:
                _record_failure(alias, transfer_id, request, exc)
                return
            logger.info("Transfer %s: Stripe's rate limit; sent again in %.1f s",
                        request.params["metadata"][REFERENCE_KEY], wait)
            time.sleep(wait)
            attempt += 1
            continue
        except stripe.StripeError as exc:
            _record_failure(alias, transfer_id, request, exc)
            return
        _record_sent(alias, transfer_id, str(created.id))
        return


def _record_sent(alias: str, transfer_id: int, stripe_id: str) -> None:
    with transaction.atomic(using=alias):
        transfer = Transfer.objects.using(alias).select_for_update().get(pk=transfer_id)
        if transfer.status == Status.SENT:
            if transfer.stripe_id != stripe_id:  # cannot happen: one key, one transfer
                logger.critical("Transfer %s: Stripe made %s and %s", transfer.reference,
                                transfer.stripe_id, stripe_id)
            return
        # Stripe made it: that is recorded whatever the row said meanwhile.
        transfer.mark_sent(stripe_id)
        signal_on_commit(alias, signals.transfer_sent, transfer)
    logger.info("Transfer %s sent: %s", transfer.reference, stripe_id)


def _record_failure(
    alias: str, transfer_id: int, request: _Request, exc: stripe.StripeError
) -> None:
    meaning = failure(exc)
    with transaction.atomic(using=alias):
        transfer = Transfer.objects.using(alias).select_for_update().get(pk=transfer_id)
        if transfer.status != Status.PENDING or transfer.key_generation != request.generation:
            return  # another attempt recorded this generation's answer
        if meaning.retry_with_same_key:
            log_configuration_error(exc, f"transfer {transfer.reference}", transfer.destination)
            logger.warning(
                "Transfer %s: outcome unknown (%s%s); it stays pending and is retried "
                "with the same idempotency key", transfer.reference, meaning.exception,
                f" {meaning.code}" if meaning.code else "",
            )
            return
        message = meaning.description or meaning.exception
        if meaning.code == _BALANCE_INSUFFICIENT:
            transfer.wait_for_funds(meaning.code, message)
            logger.info("Transfer %s waits for the platform's funds", transfer.reference)
            return
        if meaning.kind == GONE or meaning.code in _DESTINATION_REFUSED:
            transfer.hold_after_refusal(meaning.code, message)
            signal_on_commit(alias, signals.transfer_held, transfer)
            logger.warning("Transfer %s held: Stripe refused the destination %s (%s)",
                           transfer.reference, request.params["destination"], meaning.code)
            return
        transfer.fail(meaning.code, message)
        signal_on_commit(alias, signals.transfer_failed, transfer)
    logger.warning("Transfer %s failed: %s", transfer.reference, meaning.code or meaning.exception)


def _reconcile(alias: str, transfer_id: int, request: _Request) -> bool:
    """The key's window is over: record the transfer Stripe has for the reference,
    or clear the row for a new key. Whether to send now (nothing was found)."""
    reference = request.params["metadata"][REFERENCE_KEY]
    try:
        found = _find_at_stripe(request.params["transfer_group"], reference)
    except stripe.StripeError as exc:
        logger.warning("Transfer %s: cannot ask Stripe whether it was made (%s); it stays "
                       "pending", reference, type(exc).__name__)
        return False
    if found is not None:
        _record_sent(alias, transfer_id, found)
        return False
    with transaction.atomic(using=alias):
        transfer = Transfer.objects.using(alias).select_for_update().get(pk=transfer_id)
        if transfer.status != Status.PENDING or transfer.key_generation != request.generation:
            return False
        transfer.found_nothing_at_stripe()
    logger.info("Transfer %s: Stripe has none for the reference; sent with a new key",
                reference)
    return True


def _find_at_stripe(transfer_group: str, reference: str) -> str | None:
    """The id of the transfer Stripe made for ``reference``, if any."""
    listed = get_client().v1.transfers.list({"transfer_group": transfer_group, "limit": 100})
    for transfer in listed.auto_paging_iter():
        metadata = transfer.to_dict().get("metadata") or {}
        if metadata.get(REFERENCE_KEY) == reference:
            return str(transfer.id)
    return None


def signal_on_commit(alias: str, signal: Signal, transfer: Transfer) -> None:
    transaction.on_commit(
        functools.partial(
            notify, signal, f"transfer {transfer.reference}",
            sender=Transfer, transfer=transfer,
        ),
        using=alias,
    )


# -- reversals and refunds ----------------------------------------------------------
def send_reversal(reversal_id: int) -> TransferReversal | None:
    """Ask Stripe for the reversal (or refund) ``reversal_id`` if it is pending; the
    row afterwards. Safe to repeat: one key per generation of the row."""
    alias = database_alias()
    for _ in range(2):  # a second pass only after a reconciliation found nothing
        claimed = _claim_reversal(alias, reversal_id)
        if claimed is None:
            return _reload_reversal(alias, reversal_id)
        transfer, row, reconcile = claimed
        if not reconcile:
            return _ask_reversal(alias, transfer, row)
        if not _reconcile_reversal(alias, transfer, row):
            return _reload_reversal(alias, reversal_id)
    return _reload_reversal(alias, reversal_id)


def _claim_reversal(
    alias: str, reversal_id: int
) -> tuple[Transfer, TransferReversal, bool] | None:
    """Lock (transfer first), and say whether the pending row is to be asked now
    (False) or first looked up at Stripe (True: its key's window is over)."""
    with transaction.atomic(using=alias):
        row = TransferReversal.objects.using(alias).filter(pk=reversal_id).first()
        if row is None:
            return None
        transfer = Transfer.objects.using(alias).select_for_update().get(pk=row.transfer_id)
        row = TransferReversal.objects.using(alias).select_for_update().get(pk=reversal_id)
        if row.status != TransferReversal.Status.PENDING:
            return None
        if row.key_expired:
            return transfer, row, True
        row.start_sending()
    return transfer, row, False


def _reconcile_reversal(alias: str, transfer: Transfer, row: TransferReversal) -> bool:
    """The key's window is over: record what Stripe has for the row's reference,
    or give the row a new key. Whether to ask now (nothing was found)."""
    refund = row.kind == TransferReversal.Kind.REFUND
    client = get_client()
    try:
        if refund:
            listed: Any = client.v1.refunds.list(
                {"payment_intent": transfer.payment_intent, "limit": 100})
        else:
            listed = client.v1.transfers.reversals.list(transfer.stripe_id, {"limit": 100})
        found = next((str(made.id) for made in listed.auto_paging_iter()
                      if (made.to_dict().get("metadata") or {}).get(REFERENCE_KEY)
                      == row.reference), None)
    except stripe.StripeError as exc:
        logger.warning("%s %s: cannot ask Stripe whether it was made (%s); it stays pending",
                       row.kind, row.reference, type(exc).__name__)
        return False
    if found is not None:
        _record_reversal_done(alias, row, found)
        if refund and row.reverse_transfer:
            refresh_reversed(transfer.stripe_id)
        return False
    with transaction.atomic(using=alias):
        Transfer.objects.using(alias).select_for_update().get(pk=row.transfer_id)
        locked = TransferReversal.objects.using(alias).select_for_update().get(pk=row.pk)
        if (locked.status != TransferReversal.Status.PENDING
                or locked.key_generation != row.key_generation):
            return False
        locked.found_nothing_at_stripe()
    logger.info("%s %s: Stripe has none for the reference; asked with a new key",
                row.kind, row.reference)
    return True


def _ask_reversal(
    alias: str, transfer: Transfer, row: TransferReversal
) -> TransferReversal | None:
    """Call Stripe for the claimed row (no transaction open), record the answer."""
    reversal_id = row.pk
    key, generation = row.idempotency_key, row.key_generation
    metadata = {REFERENCE_KEY: row.reference}
    refund = row.kind == TransferReversal.Kind.REFUND
    params: dict[str, Any]
    if refund:
        params = {"payment_intent": transfer.payment_intent,
                  "reverse_transfer": row.reverse_transfer,
                  "refund_application_fee": row.refund_application_fee,
                  "metadata": metadata}
    else:
        params = {"refund_application_fee": row.refund_application_fee,
                  "metadata": metadata}
    if row.amount is not None:
        params["amount"] = row.amount
    client = get_client()
    _pace(time.monotonic() + _budget())
    try:
        if refund:
            made: Any = client.v1.refunds.create(
                params,  # type: ignore[arg-type]
                {"idempotency_key": key},
            )
        else:
            made = client.v1.transfers.reversals.create(
                transfer.stripe_id, params,  # type: ignore[arg-type]
                {"idempotency_key": key},
            )
    except stripe.StripeError as exc:
        _record_reversal_failure(alias, row, generation, exc)
        return _reload_reversal(alias, reversal_id)
    _record_reversal_done(alias, row, str(made.id))
    if refund and row.reverse_transfer:
        refresh_reversed(transfer.stripe_id)
    return _reload_reversal(alias, reversal_id)


def _reload_reversal(alias: str, reversal_id: int) -> TransferReversal | None:
    return TransferReversal.objects.using(alias).filter(pk=reversal_id).first()


def _record_reversal_done(alias: str, row: TransferReversal, stripe_id: str) -> None:
    with transaction.atomic(using=alias):
        transfer = Transfer.objects.using(alias).select_for_update().get(pk=row.transfer_id)
        locked = TransferReversal.objects.using(alias).select_for_update().get(pk=row.pk)
        if locked.status == TransferReversal.Status.DONE:
            return
        locked.mark_done(stripe_id)
        if locked.kind == TransferReversal.Kind.REVERSAL:
            # The app's own reversals are reversed for sure; Stripe's total (from
            # its events) may say more, never less.
            done = transfer.reversals.filter(
                kind=TransferReversal.Kind.REVERSAL, status=TransferReversal.Status.DONE
            ).values_list("amount", flat=True)
            note_reversed(alias, transfer, sum(a or 0 for a in done))
    logger.info("Transfer %s: %s %s done: %s", transfer.reference, locked.kind,
                locked.reference, stripe_id)


def _record_reversal_failure(
    alias: str, row: TransferReversal, generation: int, exc: stripe.StripeError
) -> None:
    meaning = failure(exc)
    with transaction.atomic(using=alias):
        Transfer.objects.using(alias).select_for_update().get(pk=row.transfer_id)
        locked = TransferReversal.objects.using(alias).select_for_update().get(pk=row.pk)
        if (locked.status != TransferReversal.Status.PENDING
                or locked.key_generation != generation):
            return
        if meaning.retry_with_same_key:
            logger.warning("%s %s: outcome unknown (%s); it stays pending and is asked "
                           "again with the same idempotency key", locked.kind,
                           locked.reference, meaning.exception)
            return
        locked.fail(meaning.code, meaning.description or meaning.exception)
    logger.warning("%s %s failed: %s", locked.kind, locked.reference,
                   meaning.code or meaning.exception)


def refresh_reversed(stripe_id: str) -> None:
    """Stripe reversed part of transfer ``stripe_id`` for a refund, in proportion:
    its ``amount_reversed`` is read back (the events say it too, later)."""
    if not stripe_id:
        return
    try:
        found = get_client().v1.transfers.retrieve(stripe_id)
    except stripe.StripeError as exc:
        logger.warning("Transfer %s: cannot read its reversals (%s); the transfer.reversed "
                       "event will tell", stripe_id, type(exc).__name__)
        return
    record_reversed(stripe_id, found.amount_reversed)


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
        if transfer is not None:
            note_reversed(alias, transfer, amount_reversed)
    return transfer


def note_reversed(alias: str, transfer: Transfer, total: int) -> int:
    """The locked ``transfer`` is known to have ``total`` reversed: stored if more,
    `signals.transfer_reversed` after commit for what it adds; what it adds."""
    added = transfer.reversed_at_least(total)
    if added:
        transaction.on_commit(
            functools.partial(
                notify, signals.transfer_reversed, f"transfer {transfer.reference}",
                sender=Transfer, transfer=transfer, amount=added,
            ),
            using=alias,
        )
        logger.info("Transfer %s: %d reversed (%d in all)", transfer.reference, added,
                    transfer.amount_reversed)
    return added
