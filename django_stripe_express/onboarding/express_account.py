"""The user's Express account for this mode: created at Stripe once, stored once.

One account per user and mode, even under double clicks, parallel tabs and
retries:

* the database holds at most one ``ExpressAccount`` per (user, livemode)
  (a unique constraint); a request that loses the race re-reads the winner;
* ``accounts.create`` carries an idempotency key (see `idempotency_key`), so
  racing or retried requests get the *same* Stripe account back while Stripe
  keeps the key (24 hours). Stripe saves whatever the first request with a key
  got, a server error included, and refuses the key with other parameters, so
  the key also names the parameters and the last creation Stripe refused: a
  change of settings or email, or a try after a failure, is a new request.
  v2 creation (``ACCOUNTS_API = "v2"``) follows the same rules: ``/v2`` keeps
  only successes and retries failed work, but refuses a key with other
  parameters just the same, and a new key after a refusal costs nothing;
* the new account's id is written on the ``ConnectAttempt`` before the
  ``ExpressAccount`` row, so an account created at Stripe whose local save
  failed can still be found by staff.
"""

from __future__ import annotations

import hashlib
import json
import logging
from typing import Any

import stripe
from django.db import IntegrityError, transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils import timezone

from ..accounts import apply_account, forget_stripe_account
from ..client import get_client
from ..conf import ACCOUNTS_V1, ACCOUNTS_V2, app_settings
from ..landing import failure_url
from ..models import ConnectAttempt, ExpressAccount, database_alias
from ..signals import account_connected, notify
from .create_params import create_params
from .outcomes import fail_attempt
from .stripe_failures import fail

logger = logging.getLogger(__name__)

Outcome = ConnectAttempt.Outcome

#: Stripe keeps idempotency keys for 24 hours and allows 255 characters.
MAX_KEY_LENGTH = 255
#: Failed creations after which the same key is still the right one: Stripe
#: saved nothing (rate limited), or another request holding the key is still
#: running (a double click) and will store the account.
KEY_KEPT_AFTER = ("rate_limit", "idempotency_key_in_use", "lock_timeout")
#: The flows whose attempts create the account at Stripe (`platform_accounts`).
PLATFORM_CREATED = (ConnectAttempt.Flow.ACCOUNT_LINKS, ConnectAttempt.Flow.EMBEDDED)


def user_pk(request: HttpRequest) -> Any:
    """The logged-in user's primary key (every view of the flows requires login)."""
    return request.user.pk


def user_account(request: HttpRequest) -> ExpressAccount | None:
    """The user's account for the configured mode, connected or not."""
    return ExpressAccount.objects.filter(
        user_id=user_pk(request), livemode=app_settings.livemode
    ).first()


def params_digest(params: Any) -> str:
    """A short fingerprint of ``accounts.create`` parameters (order-independent)."""
    encoded = json.dumps(params, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(encoded.encode()).hexdigest()[:16]


def idempotency_key(
    user: Any,
    livemode: bool,
    params: Any,
    *,
    replaces: str = "",
    after: int | None = None,
    api: str = ACCOUNTS_V1,
) -> str:
    """The key for creating ``user``'s account in this mode with ``params``.

    The same for every request that could create the same account (double
    click, two tabs, a retry after a timeout or a failed local save). Different
    for a different user or mode; for other parameters (Stripe would refuse the
    key for 24 hours); for the account that replaces a disconnected one
    (``replaces``: the old account id), which must not replay the old account;
    and after a creation Stripe answered with an error (``after``: that
    attempt's id), which Stripe would replay for 24 hours. A v2 account
    (``api``) has keys of its own. Readable, so support staff can find it in
    Stripe's request log.
    """
    mode = "live" if livemode else "test"
    action = "create-v2-account" if api == ACCOUNTS_V2 else "create-account"
    key = f"django-stripe-express:{action}:{mode}:{user.pk}:params:{params_digest(params)}"
    if replaces:
        key += f":replaces:{replaces}"
    if after is not None:
        key += f":after:{after}"
    if len(key) > MAX_KEY_LENGTH:  # a very long custom primary key
        digest = hashlib.sha256(key.encode()).hexdigest()
        key = f"django-stripe-express:{action}:{mode}:{digest}"
    return key


def last_failed_creation(request: HttpRequest, livemode: bool) -> int | None:
    """The id of the user's latest attempt whose account creation Stripe refused.

    Its answer is what Stripe replays for that attempt's key (v1: for 24
    hours): the next try needs another one. Unreachable Stripe (a timeout)
    does not count: the account may exist, and only the same key gets it back.
    """
    failed = (
        ConnectAttempt.objects.filter(
            user_id=user_pk(request),
            flow__in=PLATFORM_CREATED,
            livemode=livemode,
            outcome=Outcome.STRIPE_ERROR,
            account__isnull=True,
            stripe_user_id="",
        )
        .exclude(error_code__in=KEY_KEPT_AFTER)
        .order_by("-pk")
        .values_list("pk", flat=True)
        .first()
    )
    return int(failed) if failed is not None else None


def create_account(
    request: HttpRequest, attempt: ConnectAttempt, existing: ExpressAccount | None
) -> ExpressAccount | HttpResponse:
    """The stored account (new or replacing ``existing``), or the failure redirect.

    ``existing`` is the user's disconnected account for this mode: the
    platform lost access to it, so a new account takes its place on the same
    row (one row per user and mode).
    """
    api = app_settings.ACCOUNTS_API
    params: Any = create_params(request, api)  # the host's hook may add any Stripe parameter
    key = idempotency_key(
        request.user,
        attempt.livemode,
        params,
        replaces=existing.stripe_id if existing is not None else "",
        after=last_failed_creation(request, attempt.livemode),
        api=api,
    )
    client = get_client()
    data: Any  # a v1 `stripe.Account` or a `stripe.v2.core.Account`
    try:
        if api == ACCOUNTS_V2:
            data = client.v2.core.accounts.create(params, {"idempotency_key": key})
        else:
            data = client.v1.accounts.create(params, {"idempotency_key": key})
    except stripe.StripeError as exc:
        # Real Stripe answers 409 to a concurrent request with the same key: the
        # other request may have stored the account meanwhile.
        winner = user_account(request)
        if winner is not None and winner.is_connected:
            return winner
        return fail(request, attempt, exc)
    # A breadcrumb first: if the row below cannot be saved, staff still see
    # which Stripe account this attempt created.
    attempt.stripe_user_id = data.id
    attempt.save(update_fields=["stripe_user_id"])
    return _save_account(request, attempt, data, existing, api)


def _save_account(
    request: HttpRequest,
    attempt: ConnectAttempt,
    data: Any,
    existing: ExpressAccount | None,
    api: str,
) -> ExpressAccount | HttpResponse:
    if existing is None:
        account = ExpressAccount(user_id=user_pk(request), livemode=attempt.livemode)
    else:
        account = existing
        forget_stripe_account(account)  # nothing of the old account applies
        account.deauthorized_at = None
        account.connected_at = timezone.now()
        logger.info("Stripe Express account %s replaces disconnected %s",
                    data.id, existing.stripe_id)
    account.stripe_id = data.id
    account.accounts_api = api
    apply_account(account, data)
    try:
        with transaction.atomic(using=database_alias()):
            account.save()
    except IntegrityError:
        # Another request stored this user's account first (same key: same id).
        winner = user_account(request)
        if winner is not None and winner.is_connected:
            if winner.stripe_id != data.id:
                logger.warning("Stripe Express account %s created but unused: user %s "
                               "already has %s", data.id, request.user.pk, winner.stripe_id)
            return winner
        # The id is stored for another user: an idempotent replay after the
        # database was reset, most likely. Never move an account between users.
        logger.error("Stripe Express account %s is already linked to another user", data.id)
        fail_attempt(request, attempt, Outcome.ACCOUNT_ALREADY_LINKED,
                     description=f"{data.id} is stored for another user")
        return redirect(failure_url(attempt.next_url))
    notify(
        account_connected, f"connection of {account.stripe_id}",
        sender=ExpressAccount, account=account, user=request.user, request=request,
        created=existing is None,
    )
    return account
