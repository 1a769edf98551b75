"""Events applied with Stripe's data: fetch outside any transaction, then apply.

A thin event (Accounts v2) carries no data, and ``WEBHOOK_REFETCH_ACCOUNT``
makes ``account.updated`` read the account rather than trust its copy::

    SELECT the account with the event's stored status (one query, no lock)
    -> duplicate? answered, nothing else (1 query, no call to Stripe)
    -> unknown, stale, the other API, disconnected? recorded as ignored (2)
    -> fetch the account from Stripe (one call; a v2 one with `INCLUDE`)
    -> in one transaction: the account's UPDATE, the event's INSERT (3)

No row stays locked while Stripe answers. The decision is made on the row
as first read, and the UPDATE repeats, in its WHERE clause, what that decision
relied on: the same Stripe account, still connected, the same status and the
same ordering mark (`last_event_created`). If a concurrent delivery changed
any of them meanwhile, the UPDATE changes nothing and the event takes the
locked path instead (`apply.apply_locked`), which decides again on the row as
that delivery left it: a slower fetch of an older event never overwrites what
a newer one stored. (Only thin events take the conditional UPDATE: their
change depends on nothing else of the row. A v1 re-read also merges newer
capability marks, so it always takes the locked path.)

``v2.core.account_link.returned`` names its account only in the event
(``/v2/core/events/{id}``): after the duplicate check, one more call to read
it, and one more query for the account. A platform that lost access to the
account (403 ``account_invalid``, 404) gets it marked disconnected
(`handlers.Gone`), never a 500 that Stripe would retry for days.
"""

from __future__ import annotations

import dataclasses
import logging
from typing import Any

import stripe
from django.db import transaction
from django.utils import timezone

from ..accounts import as_dict
from ..client import get_client
from ..conf import ACCOUNTS_V1, ACCOUNTS_V2
from ..diagnostics import log_configuration_error
from ..models import ExpressAccount, WebhookEvent
from ..onboarding.outcomes import error_code
from ..onboarding.stripe_failures import is_gone
from ..retrieve import retrieve_account
from . import handlers, record
from .apply import (
    DUPLICATE,
    PROCESSED,
    Answer,
    Data,
    account_and_status,
    apply_locked,
    ignore,
    on_commit_applied,
)
from .event import StripeEvent

logger = logging.getLogger("django_stripe_express.webhooks")

Status = WebhookEvent.Status


def process_fetched(event: StripeEvent, alias: str) -> Answer:
    """Record and apply `event` with the account as Stripe has it now (see the module)."""
    if handlers.needs_event_fetch(event):
        if handlers.is_duplicate(record.stored_status(event, alias)):
            return DUPLICATE
        event = _with_account_from_event(event)
    target = handlers.target(event)
    if isinstance(target, handlers.Ignore):
        return apply_locked(event, None, alias)  # records it as ignored
    accounts = ExpressAccount.objects.using(alias)
    account, status = account_and_status(accounts, target, event.id, alias)
    if handlers.is_duplicate(status):
        return DUPLICATE
    retry = status is not None
    ruled_out = handlers.precheck(account, event)
    if ruled_out is not None:
        with transaction.atomic(using=alias):
            return ignore(event, ruled_out.reason, retry, alias)
    assert account is not None  # precheck ignores an unknown account
    data = _fetch_account(event, target)
    if event.thin:
        applied = _apply_unlocked(event, account, data, retry, alias)
        if applied is not None:
            return applied
    return apply_locked(event, data, alias)


def _with_account_from_event(event: StripeEvent) -> StripeEvent:
    """`event` with the account its full event names (one call to Stripe)."""
    try:
        full: Any = get_client().v2.core.events.retrieve(event.id)
    except stripe.StripeError as exc:
        log_configuration_error(exc, f"webhook {event.type} {event.id}")
        raise
    data = as_dict(getattr(full, "data", None))
    account = data.get("account_id")
    return dataclasses.replace(event, account=account if isinstance(account, str) else "")


def _fetch_account(event: StripeEvent, stripe_id: str) -> dict[str, Any] | handlers.Gone:
    """The account as Stripe has it now (one call), or `handlers.Gone`.

    Any other error propagates: the event is recorded as failed, answered 500,
    and processed again when Stripe retries it.
    """
    try:
        # A thin event is about a v2 account, a snapshot event about a v1 one
        # (`handlers.precheck` ignores the other pairs).
        return as_dict(retrieve_account(stripe_id, ACCOUNTS_V2 if event.thin else ACCOUNTS_V1))
    except stripe.StripeError as exc:
        if not is_gone(exc):
            # The failure is logged by class only (`process._failed`); a refused key
            # also by Stripe's message, which names no payload value.
            log_configuration_error(exc, f"webhook {event.type} {event.id}", stripe_id)
            raise
        code = error_code(exc) or "gone"
        logger.warning(
            "Webhook %s %s: Stripe account %s is out of the platform's reach (%s)",
            event.type, event.id, stripe_id, code,
        )
        return handlers.Gone(code)


def _apply_unlocked(
    event: StripeEvent, account: ExpressAccount, data: Data, retry: bool, alias: str
) -> Answer | None:
    """Apply the decision made on the row as read, if the row is still as read.

    None when it is not (a concurrent delivery changed it): the caller then
    takes the locked path. Three queries in all for a new event.
    """
    previous_status = account.status
    read = {
        "pk": account.pk,
        "stripe_id": account.stripe_id,
        "status": account.status,
        "deauthorized_at__isnull": account.deauthorized_at is None,
    }
    mark = account.last_event_created
    guard = {**read, "last_event_created": mark} if mark else {
        **read, "last_event_created__isnull": True
    }
    decision = handlers.decide(account, event, data)
    if isinstance(decision, handlers.Ignore):
        with transaction.atomic(using=alias):
            return ignore(event, decision.reason, retry, alias, data)
    account.updated_at = timezone.now()  # update() skips auto_now
    values = {name: getattr(account, name) for name in decision.fields}
    with transaction.atomic(using=alias):
        if not ExpressAccount.objects.using(alias).filter(**guard).update(**values):
            return None
        saved = record.record(event, Status.PROCESSED, decision.note, retry, alias)
        on_commit_applied(saved, event, account, previous_status, decision, data, alias)
    logger.info("Webhook %s %s applied to %s", event.type, event.id, account.stripe_id)
    return PROCESSED
