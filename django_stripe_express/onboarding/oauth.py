"""The Express OAuth flow: the authorize link, the callback, the code exchange.

Step 1 (`start`) sends the user to Stripe with a fresh state; step 3
(`handle_callback`) checks the state, exchanges the code and stores the
connection. The state is issued with each attempt and consumed exactly once,
even under concurrent callbacks (a conditional UPDATE); only its keyed hash
is stored (`models.hash_state`). Every failure ends in `common.fail_attempt`
and a redirect to where the user started; only a bad state gets an HTTP 400
page (there is no attempt the user can be sent back to).
"""

from __future__ import annotations

import logging
import secrets
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlencode

import stripe
from django.contrib import messages
from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from ..conf import ACCOUNTS_V1, app_settings
from ..models import (
    ConnectAttempt,
    ExpressAccount,
    Flow,
    candidate_hashes,
    database_alias,
    hash_state,
    notify,
    retrieve_account,
)
from ..signals import account_connected, connect_failed
from ..stripe_api import get_client, log_configuration_error
from .common import (
    fail_attempt,
    failure_url,
    oauth_error_outcome,
    prefill_for,
    requested_next,
    stripe_error_outcome,
    success_url,
    user_pk,
)
from .common import safe_next_url as safe_next_url

logger = logging.getLogger("django_stripe_express.onboarding")

Outcome = ConnectAttempt.Outcome

_STATE_BYTES = 32  # token_urlsafe(32): 43 characters, 256 bits


class StateError(Exception):
    """The callback's state cannot be used.

    `outcome` is what was recorded on `attempt` (expired, wrong_user) or what
    happened (state_reused); both are None for a missing or unknown state.
    The user-facing page never tells an unknown state from another user's.
    """

    def __init__(self, outcome: str | None = None, attempt: ConnectAttempt | None = None) -> None:
        super().__init__(outcome or "unknown_state")
        self.outcome = outcome
        self.attempt = attempt


def _issue_state(
    request: HttpRequest, *, flow: str = ConnectAttempt.Flow.OAUTH, next_url: str | None = None
) -> tuple[ConnectAttempt, str]:
    """The user's attempt and its fresh, random state (only its hash is stored).

    The user's unfinished attempt in this mode (pending, unexpired) is reused
    with a new state rather than a new row added: starting again, in another
    tab or after going back, never multiplies rows. The older state stops
    working, so only the newest authorize link can finish.
    """
    state = secrets.token_urlsafe(_STATE_BYTES)
    now = timezone.now()
    values = {
        "state_hash": hash_state(state),
        "next_url": safe_next_url(request, next_url),
        "expires_at": now + timedelta(seconds=app_settings.STATE_MAX_AGE),
    }
    unfinished = (
        ConnectAttempt.objects.filter(
            user_id=user_pk(request), flow=flow, livemode=app_settings.livemode,
            outcome=Outcome.PENDING, finished_at__isnull=True, expires_at__gt=now,
        )
        .order_by("-created_at", "-pk")
        .first()
    )
    # Conditional, as `consume_state` is: a callback may consume it meanwhile.
    if unfinished is not None and ConnectAttempt.objects.filter(
        pk=unfinished.pk, outcome=Outcome.PENDING, finished_at__isnull=True
    ).update(**values):
        for name, value in values.items():
            setattr(unfinished, name, value)
        return unfinished, state
    attempt = ConnectAttempt.objects.create(
        user_id=user_pk(request), flow=flow, livemode=app_settings.livemode, created_at=now,
        **values,
    )
    return attempt, state


def consume_state(request: HttpRequest, state: str | None) -> ConnectAttempt:
    """The pending OAuth attempt for `state`, now consumed; or `StateError`.

    The UPDATE's WHERE clause checks owner, outcome, consumption and expiry at
    once, so its row count is the single source of truth under concurrency.
    """
    if not state:
        raise StateError()
    now = timezone.now()
    hashes = candidate_hashes(state)
    pending = ConnectAttempt.objects.filter(
        state_hash__in=hashes, flow=ConnectAttempt.Flow.OAUTH, outcome=Outcome.PENDING,
        finished_at__isnull=True,
    )
    won = pending.filter(user_id=user_pk(request), expires_at__gt=now).update(finished_at=now)
    attempt = ConnectAttempt.objects.filter(
        state_hash__in=hashes, flow=ConnectAttempt.Flow.OAUTH
    ).first()
    if won:
        assert attempt is not None
        return attempt
    if attempt is None:
        raise StateError()
    if attempt.user_id != request.user.pk:
        # A state that reached another user has leaked (or is a login-CSRF
        # attempt): burn it, and answer exactly as for an unknown state.
        _end(request, pending, attempt, Outcome.WRONG_USER, now)
        raise StateError(Outcome.WRONG_USER, attempt)
    if attempt.outcome == Outcome.PENDING and attempt.finished_at is None:
        _end(request, pending, attempt, Outcome.EXPIRED, now)
        raise StateError(Outcome.EXPIRED, attempt)
    # Already consumed (finished, or another request is exchanging it right now):
    # its recorded outcome stays; the replay is only logged.
    logger.warning("Stripe Express OAuth state reused: attempt=%s", attempt.pk)
    raise StateError(Outcome.STATE_REUSED, attempt)


def _end(
    request: HttpRequest,
    pending: QuerySet[ConnectAttempt],
    attempt: ConnectAttempt,
    outcome: str,
    now: datetime,
) -> None:
    """Record `outcome` on the attempt, only if it is still pending and unconsumed."""
    updated = pending.update(outcome=outcome, finished_at=now)
    if not updated:
        return
    attempt.refresh_from_db()
    logger.warning("Stripe Express OAuth state refused: outcome=%s attempt=%s", outcome,
                   attempt.pk)
    notify(
        connect_failed, f"refused state of attempt {attempt.pk}",
        sender=ExpressAccount, attempt=attempt, user=request.user, request=request,
        outcome=str(outcome), error_code="", error_description="",
    )




_CALLBACK_ERROR_TEMPLATE = "django_stripe_express/callback_error.html"


class _AlreadyLinked(Exception):
    """The Stripe account, or the user's slot for this mode, is taken."""


# Step 1 ---------------------------------------------------------------------
def usable_account(request: HttpRequest) -> ExpressAccount | None:
    """The user's connected account in the configured mode, if any (one query)."""
    return ExpressAccount.objects.for_user(user_pk(request)).connected().first()


def redirect_uri(request: HttpRequest) -> str:
    return app_settings.REDIRECT_URI or request.build_absolute_uri(
        reverse("stripe_express:oauth_callback")
    )


def authorize_url(request: HttpRequest, state: str) -> str:
    """Stripe's `/express/oauth/authorize` URL carrying `state`."""
    stripe_user: dict[str, str] = prefill_for(request)
    if app_settings.BUSINESS_TYPE:
        stripe_user["business_type"] = app_settings.BUSINESS_TYPE
    if app_settings.COUNTRY:
        stripe_user.setdefault("country", app_settings.COUNTRY)
    params: Any = {
        "client_id": app_settings.CLIENT_ID,
        "response_type": "code",
        "state": state,
        "redirect_uri": redirect_uri(request),
        "stripe_user": stripe_user,
    }
    url = get_client().oauth.authorize_url(params, {"express": True})
    # The library writes lists as `key[0]=...`; Stripe documents this one as
    # `suggested_capabilities[]=transfers`, and the URL is ours to write.
    capabilities = app_settings.SUGGESTED_CAPABILITIES
    if capabilities:
        url += "&" + urlencode([("suggested_capabilities[]", c) for c in capabilities])
    return url


def start(request: HttpRequest) -> HttpResponse:
    """``connect``'s POST in OAuth mode: to Stripe, or home if already connected."""
    if usable_account(request) is not None:
        # Onboarding not finished is also handled there (a login link, or the
        # Account Links continuation): Stripe would refuse a second OAuth anyway.
        return HttpResponseRedirect(reverse("stripe_express:dashboard"))
    _attempt, state = _issue_state(request, next_url=requested_next(request))
    return HttpResponseRedirect(authorize_url(request, state))


# Step 3 ---------------------------------------------------------------------
def handle_callback(request: HttpRequest) -> HttpResponse:
    """Stripe's redirect back: check the state, then finish or fail the attempt."""
    try:
        attempt = consume_state(request, request.GET.get("state"))
    except StateError as exc:
        return render(
            request,
            _CALLBACK_ERROR_TEMPLATE,
            {
                "expired": exc.outcome == Outcome.EXPIRED,
                "retry_url": reverse("stripe_express:connect"),
            },
            status=400,
        )
    # Back where the user started (declined included), else FAILURE_URL.
    failure = HttpResponseRedirect(failure_url(attempt.next_url))

    error = request.GET.get("error")
    if error:
        description = request.GET.get("error_description", "")
        outcome = oauth_error_outcome(error, description)
        fail_attempt(request, attempt, outcome, error_code=error, description=description)
        return failure
    code = request.GET.get("code")
    if not code:
        fail_attempt(request, attempt, Outcome.INVALID_REQUEST,
                     description="Stripe's redirect had neither code nor error.")
        return failure

    try:
        stripe_user_id = _exchange_code(code)
    except (stripe.StripeError, AttributeError) as exc:
        log_configuration_error(exc, "the OAuth code exchange")
        outcome, error_code, description = stripe_error_outcome(exc)
        fail_attempt(request, attempt, outcome, error_code=error_code, description=description)
        return failure

    attempt.stripe_user_id = stripe_user_id
    try:
        account, created = _complete_connection(request, attempt, stripe_user_id)
    except _AlreadyLinked as exc:
        fail_attempt(request, attempt, Outcome.ACCOUNT_ALREADY_LINKED, description=str(exc))
        return failure
    notify(
        account_connected, f"connection of {account.stripe_id}",
        sender=ExpressAccount, account=account, user=request.user, request=request,
        created=created,
    )
    messages.success(request, _("Your Stripe account is connected."), fail_silently=True)
    return HttpResponseRedirect(success_url(attempt.next_url))


def _exchange_code(code: str) -> str:
    """Trade the authorization code for the connected account's id.

    Raises what the library raises (`StripeError`s, or `AttributeError` for an
    OAuth error code stripe 16 does not know). The access and refresh tokens in
    the response are dropped on purpose: the platform key plus the account id
    is how Stripe recommends acting for an Express account.
    """
    params: Any = {"grant_type": "authorization_code", "code": code}
    if app_settings.ASSERT_CAPABILITIES:
        # A list, as stripe's typed OAuth parameters declare it; the library
        # writes `assert_capabilities[0]=...`, as it writes every list to Stripe.
        params["assert_capabilities"] = app_settings.SUGGESTED_CAPABILITIES
    response = get_client().oauth.token(params)
    return str(response["stripe_user_id"])


def _fetch_account(stripe_user_id: str) -> stripe.Account | None:
    """The account as Stripe sees it, or None (the webhook or sync fills it later)."""
    try:
        account: stripe.Account = retrieve_account(stripe_user_id, ACCOUNTS_V1)  # OAuth: v1
        return account
    except stripe.StripeError as exc:
        logger.warning(
            "Could not read connected Stripe account %s (%s); storing it without status.",
            stripe_user_id, type(exc).__name__,
        )
        log_configuration_error(exc, "reading the account after OAuth", stripe_user_id)
        return None


def _complete_connection(
    request: HttpRequest, attempt: ConnectAttempt, stripe_user_id: str
) -> tuple[ExpressAccount, bool]:
    """Store the connection and close `attempt`; ``(account, created)``.

    Refuses (`_AlreadyLinked`) when the Stripe account belongs to another user
    or another mode, or when the user already has a *different* connected
    account in this mode: accounts are never moved or replaced silently.
    """
    data = _fetch_account(stripe_user_id)  # outside the transaction: no locks held over HTTP
    try:
        return _store_connection(request, attempt, stripe_user_id, data)
    except IntegrityError:
        # A concurrent callback stored the same account (or this user's) first;
        # read again what won and decide the same way.
        return _store_connection(request, attempt, stripe_user_id, data)


def _store_connection(
    request: HttpRequest, attempt: ConnectAttempt, stripe_user_id: str,
    data: stripe.Account | None,
) -> tuple[ExpressAccount, bool]:
    now = timezone.now()
    with transaction.atomic(using=database_alias()):
        holder = ExpressAccount.objects.select_for_update().filter(stripe_id=stripe_user_id).first()
        if holder is not None and (
            holder.user_id != user_pk(request) or holder.livemode != attempt.livemode
        ):
            raise _AlreadyLinked(
                f"{stripe_user_id} is already linked to user {holder.user_id} "
                f"(Express account {holder.pk})."
            )
        account = holder or (
            ExpressAccount.objects.select_for_update()
            .for_user(user_pk(request), attempt.livemode)
            .first()
        )
        created = account is None
        if account is None:
            account = ExpressAccount(user_id=user_pk(request), livemode=attempt.livemode)
        elif account.stripe_id != stripe_user_id:
            if account.is_connected:
                raise _AlreadyLinked(
                    f"The user already has connected account {account.stripe_id} in this mode."
                )
            # Reconnecting with a new Stripe account: nothing of the old one applies.
            account.forget_stripe_account()
        if account.deauthorized_at is not None or created or account.stripe_id != stripe_user_id:
            account.connected_at = now
        account.stripe_id = stripe_user_id
        account.connected_via = Flow.OAUTH
        account.deauthorized_at = None
        if data is not None:
            account.apply(data)
        account.save()

        attempt.finish(Outcome.CONNECTED, account=account)
    return account, created
