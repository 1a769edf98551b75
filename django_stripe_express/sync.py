"""Reading accounts back from Stripe: one at a time (admin) or all of them (command).

The admin's "Refresh from Stripe" action and the ``stripe_express_sync`` command
share these functions, so both store Stripe's view the same way: through
`accounts.apply_account`, and with `account_updated` sent only when the status
actually changed. An account Stripe says the platform can no longer reach
(revoked or deleted) is marked disconnected, as the flows do
(`stripe_failures.mark_gone`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import stripe
from django.core.exceptions import ImproperlyConfigured
from django.db import transaction
from django.utils import timezone

from .accounts import UPDATE_FIELDS, apply_account, stripe_values
from .client import get_client
from .conf import app_settings
from .models import ExpressAccount, database_alias
from .onboarding.stripe_failures import is_gone, mark_gone
from .signals import account_updated, notify

#: Stripe's largest page: the command makes one call per 100 accounts.
PAGE_SIZE = 100


@dataclass
class AccountChange:
    """What reading one account from Stripe changed (or would change)."""

    stripe_id: str
    previous_status: str
    status: str
    fields: list[str]

    @property
    def status_changed(self) -> bool:
        return self.previous_status != self.status


def _changed_fields(account: ExpressAccount, data: Any) -> list[str]:
    return [name for name, value in stripe_values(data).items() if getattr(account, name) != value]


def _notify(account: ExpressAccount, change: AccountChange, source: str) -> None:
    if not change.status_changed:
        return
    notify(
        account_updated,
        f"{source} of {account.stripe_id}",
        sender=ExpressAccount,
        account=account,
        previous_status=change.previous_status,
        source=source,
        event=None,
    )


def refresh_account(
    account: ExpressAccount,
    *,
    source: str = "admin",
    client: stripe.StripeClient | None = None,
) -> AccountChange:
    """Retrieve ``account`` from Stripe (one call), store it, signal a status change.

    An account the platform can no longer reach is marked disconnected. Other
    Stripe errors (`stripe.StripeError`, including `APIConnectionError`)
    propagate: the caller reports them per account.
    """
    client = client or get_client()
    previous_status = account.status
    try:
        data = client.v1.accounts.retrieve(account.stripe_id)
    except stripe.StripeError as exc:
        if not is_gone(exc):
            raise
        mark_gone(account)  # sends account_deauthorized
        return AccountChange(
            account.stripe_id, previous_status, account.status, ["deauthorized_at"]
        )
    changed = _changed_fields(account, data)
    apply_account(account, data)
    account.save(update_fields=list(UPDATE_FIELDS))
    change = AccountChange(account.stripe_id, previous_status, account.status, changed)
    _notify(account, change, source)
    return change


@dataclass
class SyncResult:
    """Counts for the command's summary, plus what changed."""

    seen: int = 0
    updated: int = 0
    unchanged: int = 0
    unknown: int = 0
    failed: int = 0
    pages: int = 0
    changes: list[AccountChange] = field(default_factory=list)
    errors: list[tuple[str, str]] = field(default_factory=list)


def apply_page(
    page: Iterable[Any],
    result: SyncResult,
    *,
    dry_run: bool = False,
    source: str = "sync",
) -> None:
    """Store one page of Stripe accounts: one SELECT and at most two writes.

    Only accounts the platform knows in the configured mode are touched; the
    others (other platforms' flows, the other mode) are counted as unknown.
    """
    # Items are `stripe.Account` objects (dict-like) or plain dicts in tests.
    data_by_id = {str(item["id"]): item for item in page}
    result.seen += len(data_by_id)
    known = ExpressAccount.objects.for_mode(app_settings.livemode).filter(
        stripe_id__in=list(data_by_id)
    )
    found = {account.stripe_id: account for account in known}
    result.unknown += len(data_by_id) - len(found)
    now = timezone.now()
    to_update: list[ExpressAccount] = []
    unchanged: list[int] = []
    to_notify: list[tuple[ExpressAccount, AccountChange]] = []
    for stripe_id, account in found.items():
        data = data_by_id[stripe_id]
        changed = _changed_fields(account, data)
        if not changed:
            unchanged.append(account.pk)
            continue
        previous_status = account.status
        apply_account(account, data)
        account.updated_at = now  # bulk_update skips auto_now
        change = AccountChange(stripe_id, previous_status, account.status, changed)
        result.changes.append(change)
        to_update.append(account)
        to_notify.append((account, change))
    result.updated += len(to_update)
    result.unchanged += len(unchanged)
    if dry_run:
        return
    with transaction.atomic(using=database_alias()):
        if to_update:
            ExpressAccount.objects.bulk_update(to_update, list(UPDATE_FIELDS))
        if unchanged:
            ExpressAccount.objects.filter(pk__in=unchanged).update(synced_at=now)
    for account, change in to_notify:
        _notify(account, change, source)


def sync_accounts(
    *,
    dry_run: bool = False,
    client: stripe.StripeClient | None = None,
    progress: Callable[[SyncResult], None] | None = None,
) -> SyncResult:
    """Page through all of the platform's connected accounts (100 per call).

    A page that cannot be read (Stripe unreachable, an API error) raises: the
    pages before it stay stored, and the caller reports the failure.
    """
    client = client or get_client()
    result = SyncResult()
    params: dict[str, Any] = {"limit": PAGE_SIZE}
    while True:
        page = client.v1.accounts.list(params)  # type: ignore[arg-type]
        result.pages += 1
        apply_page(page.data, result, dry_run=dry_run)
        if progress is not None:
            progress(result)
        if not page.has_more or not page.data:
            return result
        params["starting_after"] = page.data[-1].id


def sync_one(
    stripe_id: str,
    *,
    dry_run: bool = False,
    client: stripe.StripeClient | None = None,
) -> SyncResult:
    """`--account acct_...`: one retrieve, stored like a page of one."""
    client = client or get_client()
    result = SyncResult()
    try:
        data = client.v1.accounts.retrieve(stripe_id)
    except stripe.StripeError as exc:
        if not (is_gone(exc) and _disconnect(stripe_id, result, dry_run=dry_run)):
            result.failed += 1
            result.errors.append((stripe_id, describe_error(exc)))
        return result
    apply_page([data], result, dry_run=dry_run)
    return result


def _disconnect(stripe_id: str, result: SyncResult, *, dry_run: bool) -> bool:
    """Mark the stored account disconnected; False if this mode has none."""
    account = ExpressAccount.objects.for_mode(app_settings.livemode).filter(
        stripe_id=stripe_id
    ).first()
    if account is None:
        return False
    result.seen += 1
    if not account.is_connected:
        result.unchanged += 1
        return True
    previous_status = account.status
    if dry_run:
        account.deauthorized_at = timezone.now()
        account.status = account.derive_status()
    else:
        mark_gone(account)
    result.updated += 1
    result.changes.append(
        AccountChange(stripe_id, previous_status, account.status, ["deauthorized_at"])
    )
    return True


def describe_error(exc: Exception) -> str:
    """A short, secret-free description of a Stripe error for staff."""
    if isinstance(exc, stripe.APIConnectionError):
        return "Stripe could not be reached."
    if isinstance(exc, stripe.StripeError):
        message = exc.user_message or type(exc).__name__
        code = f" ({exc.code})" if exc.code else ""
        return f"{message}{code}"
    if isinstance(exc, ImproperlyConfigured):
        return str(exc)  # names the missing key, never its value
    return type(exc).__name__
