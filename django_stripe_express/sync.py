"""Reading accounts back from Stripe: one at a time (admin) or all of them (command).

The admin's "Refresh from Stripe" action and the ``stripe_express_sync`` command
share these functions, so both store Stripe's view the same way: through
`accounts.apply_account`, and with `account_updated` sent only when the status
actually changed. An account Stripe says the platform can no longer reach
(revoked or deleted), or a v2 account Stripe reports ``closed``, is marked
disconnected, as the flows do (`stripe_failures.mark_gone`).

v1 accounts come from ``/v1/accounts`` pages (one call per 100 accounts). v2
accounts are read one by one with ``/v2/core/accounts/{id}`` and ``include``:
Stripe's v2 list takes no ``include``, so a page of it carries neither the
requirements nor the capabilities the status comes from. Their writes are still
grouped 100 at a time.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import stripe
from django.core.exceptions import ImproperlyConfigured
from django.db import transaction
from django.utils import timezone

from .accounts import as_dict
from .accounts.v2 import is_closed
from .conf import ACCOUNTS_V1, ACCOUNTS_V2, app_settings
from .models import (
    UPDATE_FIELDS,
    ExpressAccount,
    database_alias,
    notify,
    retrieve_account,
    stripe_values,
)
from .payments import release_held_for
from .signals import account_updated
from .stripe_api import failure, get_client, is_gone

#: Stripe's largest page: the command makes one call per 100 accounts.
PAGE_SIZE = 100


@dataclass
class AccountChange:
    """What reading one account from Stripe changed (or would change)."""

    stripe_id: str
    previous_status: str
    status: str
    fields: list[str]
    # Which Accounts API the account was read with ("v1" or "v2").
    accounts_api: str = ACCOUNTS_V1

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
        data = as_dict(retrieve_account(account.stripe_id, account.accounts_api, client))
    except stripe.StripeError as exc:
        if not is_gone(exc):
            raise
        account.mark_gone()  # sends account_deauthorized
        return AccountChange(
            account.stripe_id, previous_status, account.status, ["deauthorized_at"]
        )
    changed = _changed_fields(account, data)
    account.apply(data)
    account.save(update_fields=list(UPDATE_FIELDS))
    if _close_if_closed(account, data):  # sends account_deauthorized
        changed.append("deauthorized_at")
        return AccountChange(account.stripe_id, previous_status, account.status, changed)
    change = AccountChange(account.stripe_id, previous_status, account.status, changed)
    _notify(account, change, source)
    return change


def _close_if_closed(account: ExpressAccount, data: dict[str, Any]) -> bool:
    """A v2 account Stripe closed is disconnected here too; whether it just was."""
    return is_closed(data) and account.mark_gone()


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
    # Stored accounts read from Stripe, by Accounts API: {"v1": n, "v2": m}.
    read: dict[str, int] = field(default_factory=dict)


def _apply_page(
    page: Iterable[Any],
    result: SyncResult,
    *,
    dry_run: bool = False,
    source: str = "sync",
    api: str = ACCOUNTS_V1,
) -> None:
    """Store one page of Stripe accounts: one SELECT and at most two writes.

    Only accounts the platform knows in the configured mode are touched; the
    others (other platforms' flows, the other mode) are counted as unknown.
    Accounts of the other API (`api`: which one the page was read with) are
    left to their own pass and not counted here.
    """
    # `stripe.Account` objects (plain dicts in tests), each converted once: it is
    # compared, applied and checked for closure below.
    data_by_id = {str(item["id"]): as_dict(item) for item in page}
    known = ExpressAccount.objects.for_mode(app_settings.livemode).filter(
        stripe_id__in=list(data_by_id)
    )
    found = {}
    other_api = 0
    for account in known:
        if account.accounts_api == api:
            found[account.stripe_id] = account
        else:
            other_api += 1
    result.seen += len(data_by_id) - other_api
    if found:
        result.read[api] = result.read.get(api, 0) + len(found)
    result.unknown += len(data_by_id) - len(found) - other_api
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
        account.apply(data)
        account.updated_at = now  # bulk_update skips auto_now
        change = AccountChange(stripe_id, previous_status, account.status, changed, api)
        result.changes.append(change)
        to_update.append(account)
        to_notify.append((account, change))
    result.updated += len(to_update)
    result.unchanged += len(unchanged)
    if dry_run:
        return
    if to_update or unchanged:  # a page of only other-API accounts writes nothing
        with transaction.atomic(using=database_alias()):
            if to_update:
                ExpressAccount.objects.bulk_update(to_update, list(UPDATE_FIELDS))
            if unchanged:
                ExpressAccount.objects.filter(pk__in=unchanged).update(synced_at=now)
    for account in found.values():
        _close_if_closed(account, data_by_id[account.stripe_id])
    for account, change in to_notify:
        _notify(account, change, source)
    # Accounts that can now receive transfers: their users' held transfers go.
    release_held_for(account for account, _change in to_notify)


def sync_accounts(
    *,
    dry_run: bool = False,
    client: stripe.StripeClient | None = None,
    progress: Callable[[SyncResult], None] | None = None,
) -> SyncResult:
    """Page through all of the platform's connected accounts (100 per call),
    then read the stored v2 accounts (one call each, see the module's docstring).

    A page that cannot be read (Stripe unreachable, an API error) raises: the
    pages before it stay stored, and the caller reports the failure.
    """
    client = client or get_client()
    result = SyncResult()
    params: dict[str, Any] = {"limit": PAGE_SIZE}
    while True:
        page = client.v1.accounts.list(params)  # type: ignore[arg-type]
        result.pages += 1
        _apply_page(page.data, result, dry_run=dry_run)
        if progress is not None:
            progress(result)
        if not page.has_more or not page.data:
            break
        params["starting_after"] = page.data[-1].id
    _sync_v2_accounts(result, dry_run=dry_run, client=client, progress=progress)
    return result


def _sync_v2_accounts(
    result: SyncResult,
    *,
    dry_run: bool,
    client: stripe.StripeClient,
    progress: Callable[[SyncResult], None] | None,
) -> None:
    """Read each connected v2 account of this mode; store them 100 at a time.

    An account the platform can no longer reach is marked disconnected; any
    other API error about one account counts as failed and the others go on.
    Stripe unreachable, rate limits and server errors raise, as for a v1 page.
    """
    ids = list(
        ExpressAccount.objects.for_mode(app_settings.livemode)
        .connected()
        .filter(accounts_api=ACCOUNTS_V2)
        .order_by("pk")
        .values_list("stripe_id", flat=True)
    )
    for start in range(0, len(ids), PAGE_SIZE):
        page = []
        for stripe_id in ids[start : start + PAGE_SIZE]:
            try:
                page.append(retrieve_account(stripe_id, ACCOUNTS_V2, client))
            except (stripe.InvalidRequestError, stripe.PermissionError) as exc:
                if not (is_gone(exc) and _disconnect(stripe_id, result, dry_run=dry_run)):
                    result.failed += 1
                    result.errors.append((stripe_id, describe_error(exc)))
        _apply_page(page, result, dry_run=dry_run, api=ACCOUNTS_V2)
        if progress is not None:
            progress(result)


def sync_one(
    stripe_id: str,
    *,
    dry_run: bool = False,
    client: stripe.StripeClient | None = None,
) -> SyncResult:
    """`--account acct_...`: one retrieve, stored like a page of one.

    The account is read with the API that created it (v1 when it is not stored).
    """
    client = client or get_client()
    result = SyncResult()
    stored = ExpressAccount.objects.filter(stripe_id=stripe_id).values_list(
        "accounts_api", flat=True
    )
    api = stored.first() or ACCOUNTS_V1
    try:
        data = retrieve_account(stripe_id, api, client)
    except stripe.StripeError as exc:
        if not (is_gone(exc) and _disconnect(stripe_id, result, dry_run=dry_run)):
            result.failed += 1
            result.errors.append((stripe_id, describe_error(exc)))
        return result
    _apply_page([data], result, dry_run=dry_run, api=api)
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
        account.mark_gone()
    result.updated += 1
    result.changes.append(
        AccountChange(stripe_id, previous_status, account.status, ["deauthorized_at"])
    )
    return True


def describe_error(exc: Exception) -> str:
    """A short, secret-free description of a Stripe error for staff."""
    if isinstance(exc, ImproperlyConfigured):
        return str(exc)  # names the missing key, never its value
    return failure(exc).staff_text
