"""The flows where the platform creates the user's account: Account Links
(Stripe hosts the form) and embedded onboarding (Stripe's component on the
platform's own page, with an Account Session for Connect.js).

The account is created at Stripe once per user and mode (an idempotency key
from the user, the mode and the parameters) and stored once, with either
Accounts API (``ACCOUNTS_API``): what each API is asked for is in
`create_params`; the host's ``ACCOUNT_CREATE_PARAMS`` hook has the last word.
Then a link (``account_onboarding``) or the onboarding page; ``refresh``
makes a new link, ``finish`` re-reads the account when the user comes back.
"""

from __future__ import annotations

import datetime
import hashlib
import json
import logging
import secrets
from typing import Any

import stripe
from django.contrib import messages
from django.db import IntegrityError, transaction
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.module_loading import import_string
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from .. import conf as components
from ..accounts import AccountStatus, as_dict, configured_schedule
from ..accounts.v2 import balance_settings_params, is_closed, lacks_contact_email
from ..conf import ACCOUNTS_V1, ACCOUNTS_V2, app_settings
from ..models import (
    UPDATE_FIELDS,
    ConnectAttempt,
    ExpressAccount,
    accounts_api,
    database_alias,
    notify,
    retrieve_account,
)
from ..signals import account_connected, account_updated
from ..stripe_api import get_client, is_gone
from .common import (
    fail,
    fail_attempt,
    failure_message,
    failure_url,
    log_failure,
    prefill_for,
    quota_cache,
    report_stripe_error,
    requested_next,
    success_url,
    user_account,
    user_pk,
)


def create_params(request: HttpRequest, api: str = ACCOUNTS_V1) -> dict[str, Any]:
    """``accounts.create`` parameters, after the host's ``ACCOUNT_CREATE_PARAMS`` hook."""
    params = accounts_api(api).create_params(request.user, prefill_for(request))
    hook = app_settings.ACCOUNT_CREATE_PARAMS
    if hook:
        params = import_string(hook)(request, params)
    return params


logger = logging.getLogger("django_stripe_express.onboarding")

#: A v2 account needs a contact email (Stripe: "Required when configuring the
#: account as a merchant or recipient"); the user's, or ``PREFILL``'s ``email``.
_NO_EMAIL_MESSAGE = gettext_lazy(
    "Stripe needs an email address to set up your account. Add an email address "
    "to your profile, then try again."
)

Outcome = ConnectAttempt.Outcome

#: Stripe keeps idempotency keys for 24 hours and allows 255 characters.
_MAX_KEY_LENGTH = 255

#: Failed creations after which the same key is still the right one: Stripe
#: saved nothing (rate limited), or another request holding the key is still
#: running (a double click) and will store the account.
_KEY_KEPT_AFTER = ("rate_limit", "idempotency_key_in_use", "lock_timeout")

#: The flows whose attempts create the account at Stripe (`platform_accounts`).
_PLATFORM_CREATED = (ConnectAttempt.Flow.ACCOUNT_LINKS, ConnectAttempt.Flow.EMBEDDED)


def _params_digest(params: Any) -> str:
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
    key = f"django-stripe-express:{action}:{mode}:{user.pk}:params:{_params_digest(params)}"
    if replaces:
        key += f":replaces:{replaces}"
    if after is not None:
        key += f":after:{after}"
    if len(key) > _MAX_KEY_LENGTH:  # a very long custom primary key
        digest = hashlib.sha256(key.encode()).hexdigest()
        key = f"django-stripe-express:{action}:{mode}:{digest}"
    return key


def _last_failed_creation(request: HttpRequest, livemode: bool) -> int | None:
    """The id of the user's latest attempt whose account creation Stripe refused.

    Its answer is what Stripe replays for that attempt's key (v1: for 24
    hours): the next try needs another one. Unreachable Stripe (a timeout)
    does not count: the account may exist, and only the same key gets it back.
    """
    failed = (
        ConnectAttempt.objects.filter(
            user_id=user_pk(request),
            flow__in=_PLATFORM_CREATED,
            livemode=livemode,
            outcome=Outcome.STRIPE_ERROR,
            account__isnull=True,
            stripe_user_id="",
        )
        .exclude(error_code__in=_KEY_KEPT_AFTER)
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
        after=_last_failed_creation(request, attempt.livemode),
        api=api,
    )
    if api == ACCOUNTS_V2 and lacks_contact_email(params):
        # Stripe would refuse it (400): say what the user can fix, ask nothing.
        fail_attempt(
            request, attempt, Outcome.INVALID_REQUEST, error_code="contact_email_missing",
            description="no contact_email for a v2 merchant/recipient account",
            message=str(_NO_EMAIL_MESSAGE),
        )
        return redirect(failure_url(attempt.next_url))
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
    if api == ACCOUNTS_V2:
        _apply_payout_schedule(client, data.id)
    return _save_account(request, attempt, data, existing, api)


def _apply_payout_schedule(client: stripe.StripeClient, stripe_id: str) -> None:
    """``PAYOUT_SCHEDULE`` for a new v2 account: Balance Settings are a call of
    their own for the connected account (v1 accounts take it in `create_params`).
    A refusal leaves Stripe's default schedule and never fails the onboarding:
    ``payments.set_payout_schedule`` sets it later."""
    schedule = configured_schedule()
    if schedule is None:
        return
    params: Any = balance_settings_params(schedule)  # the library's TypedDict
    try:
        client.v1.balance_settings.update(params, {"stripe_account": stripe_id})
    except stripe.StripeError as exc:
        logger.warning("Payout schedule not set for new account %s (%s %s): Stripe's "
                       "default applies", stripe_id, type(exc).__name__,
                       getattr(exc, "code", "") or "")


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
        account.forget_stripe_account()  # nothing of the old account applies
        account.deauthorized_at = None
        account.connected_at = timezone.now()
        logger.info("Stripe Express account %s replaces disconnected %s",
                    data.id, existing.stripe_id)
    account.stripe_id = data.id
    account.accounts_api = api
    account.connected_via = attempt.flow
    account.apply(data)
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


def _open_attempt(
    request: HttpRequest, flow: str, account: ExpressAccount | None
) -> tuple[ConnectAttempt, ExpressAccount] | HttpResponse:
    """A new attempt of ``flow`` and the user's connected account; or the failure redirect.

    ``account`` is the user's account in this mode, as the caller read it.
    """
    connected = account if account is not None and account.is_connected else None
    attempt = ConnectAttempt.objects.create(
        user_id=user_pk(request),
        flow=flow,
        # These flows have no state; a random value keeps the column unique.
        state_hash=secrets.token_hex(32),
        livemode=app_settings.livemode,
        expires_at=timezone.now() + datetime.timedelta(seconds=app_settings.STATE_MAX_AGE),
        account=connected,
        stripe_user_id=connected.stripe_id if connected else "",
        # Where to land when onboarding ends; only URLs of this site.
        next_url=requested_next(request),
    )
    if connected is None:  # none yet, or a disconnected one to replace
        stored = create_account(request, attempt, existing=account)
        if isinstance(stored, HttpResponse):
            return stored
        connected = stored
    return attempt, connected


def create_link(request: HttpRequest, account: ExpressAccount) -> str:
    """A fresh onboarding link's URL, with the account's API; raises `stripe.StripeError`."""
    return accounts_api(account.accounts_api).create_link(
        get_client(),
        account,
        refresh_url=request.build_absolute_uri(reverse("stripe_express:onboarding_refresh")),
        return_url=request.build_absolute_uri(reverse("stripe_express:onboarding_return")),
    )


#: Seconds an Account Link made for the user is given again instead of a new
#: one (a double click, a second tab): well within Stripe's expiry (minutes).
#: Kept in the cache, never in the database: the URL onboards the account.
_LINK_REUSE_SECONDS = 60


def _link_key(account: ExpressAccount) -> str:
    return f"django-stripe-express:link:{account.pk}:{account.stripe_id}"


def link_for(request: HttpRequest, account: ExpressAccount, *, reuse: bool = True) -> str:
    """An onboarding link's URL: the one made moments ago if ``reuse`` and it is
    still unused as far as the app knows, else a new one (`create_link`)."""
    cache = quota_cache()
    key = _link_key(account)
    if reuse:
        cached = cache.get(key)
        if isinstance(cached, str):
            return cached
    url = create_link(request, account)
    cache.set(key, url, timeout=_LINK_REUSE_SECONDS)
    return url


def forget_link(account: ExpressAccount) -> None:
    """The user came back from (or Stripe refused) the last link: never give it again."""
    quota_cache().delete(_link_key(account))


def _needs_update_link(account: ExpressAccount) -> bool:
    """A v2 user who finished onboarding but owes something gets a link, not the dashboard.

    An ``account_onboarding`` link (`accounts.v2.create_link`): Stripe refuses
    ``account_update`` links for accounts with a Stripe-hosted dashboard, and
    an onboarding link collects what is newly due. (A v1 Express user updates
    details from the Express dashboard.)
    """
    return account.is_v2 and bool(account.currently_due or account.past_due)


# -- the three steps ------------------------------------------------------------------
def start(request: HttpRequest) -> HttpResponse:
    """``connect``'s POST in Account Links mode: make sure the account exists, then link."""
    account = user_account(request)
    if (
        account is not None
        and account.is_connected
        and account.details_submitted
        and not _needs_update_link(account)
    ):
        return redirect("stripe_express:dashboard")
    started = _open_attempt(request, ConnectAttempt.Flow.ACCOUNT_LINKS, account)
    if isinstance(started, HttpResponse):
        return started
    attempt, connected = started
    try:
        url = link_for(request, connected)
    except stripe.StripeError as exc:
        # The account is kept: the next visit only needs a new link.
        attempt.account = connected
        attempt.save(update_fields=["account"])
        return fail(request, attempt, exc, connected)
    attempt.finish(ConnectAttempt.Outcome.CONNECTED, account=connected)
    return HttpResponseRedirect(url)


def refresh(request: HttpRequest) -> HttpResponse:
    """``onboarding_refresh``: the link expired or was used; make a new one.

    It never creates an account: without a connected one the user goes to
    ``connect``'s page, whose button starts onboarding (a POST). Never the
    link given last: Stripe sends the user here because it is spent.
    """
    account = user_account(request)
    if account is not None:
        forget_link(account)
    return send_to_link(request, account)


def send_to_link(request: HttpRequest, account: ExpressAccount | None) -> HttpResponse:
    """Redirect to an Account Link for `account` (the request's user's, as read)."""
    if account is None or not account.is_connected:
        return redirect("stripe_express:connect")
    try:
        url = link_for(request, account)
    except stripe.StripeError as exc:
        report_stripe_error(request, exc, account, doing="account link")
        return redirect(failure_url(_latest_next(request)))
    return HttpResponseRedirect(url)


def finish(request: HttpRequest) -> HttpResponse:
    """Re-read the account, store it, say what is still due, go on to the landing URL.

    Behind ``onboarding_return`` (back from Stripe's hosted form) and the
    embedded onboarding page's exit (a POST to ``onboarding``): both end
    onboarding the same way.
    """
    account = user_account(request)
    if account is None or not account.is_connected:
        return redirect("stripe_express:connect")
    forget_link(account)  # used: the next visit needs a new one
    try:
        data = retrieve_account(account.stripe_id, account.accounts_api)
    except stripe.StripeError as exc:
        report_stripe_error(request, exc, account, doing="account refresh on return")
        return redirect(success_url(_latest_next(request)))
    if is_closed(as_dict(data)):
        account.mark_gone(request)
        messages.error(
            request,
            _("Your Stripe account was closed. Connect again to set up a new one."),
            fail_silently=True,
        )
        return redirect(success_url(_latest_next(request)))
    previous_status = account.status
    account.apply(data)
    account.save(update_fields=UPDATE_FIELDS)
    notify(
        account_updated, f"return from onboarding of {account.stripe_id}",
        sender=ExpressAccount, account=account, previous_status=previous_status,
        source="onboarding", event=None,
    )
    level, text = _status_message(account)
    messages.add_message(request, level, text, fail_silently=True)
    return redirect(success_url(_latest_next(request)))


def _latest_next(request: HttpRequest) -> str:
    """The ``next`` of the user's latest attempt of a flow that ends here (Account
    Links, embedded), or "": Stripe's return and refresh URLs carry none, so the
    way back is kept on the attempt.

    Both flows count: an embedded onboarding that could not load Connect.js
    goes on in the hosted form and returns through ``onboarding_return``.
    """
    next_url = (
        ConnectAttempt.objects.filter(
            user_id=user_pk(request),
            flow__in=_PLATFORM_CREATED,
            livemode=app_settings.livemode,
        )
        .order_by("-created_at", "-pk")
        .values_list("next_url", flat=True)
        .first()
    )
    return next_url or ""


def _status_message(account: ExpressAccount) -> tuple[int, str]:
    """What the user reads on return: done, or what Stripe still needs."""
    due = account.requirement_words(account.currently_due)
    if due:
        text = ngettext(
            "Stripe still needs one thing from you: %(items)s.",
            "Stripe still needs a few things from you: %(items)s.",
            len(due),
        ) % {"items": ", ".join(due)}
        if not account.details_submitted:
            text = _("Your Stripe onboarding is not finished.") + " " + text
        return messages.WARNING, text
    if not account.details_submitted:
        return messages.WARNING, _("Your Stripe onboarding is not finished yet.")
    if account.status == AccountStatus.ENABLED:
        return messages.SUCCESS, _("Your Stripe account is set up. You are ready to be paid.")
    if account.status == AccountStatus.PENDING_VERIFICATION:
        return messages.INFO, _("Thanks! Stripe is verifying your details.")
    return messages.WARNING, _("Your Stripe account status: %(status)s.") % {
        "status": account.get_status_display()
    }


_ONBOARDING_TEMPLATE = "django_stripe_express/onboarding.html"

#: The form the page submits when the onboarding component exits.
_EXIT_FORM_ID = "stripe-express-onboarding-exit"


def start_embedded(request: HttpRequest) -> HttpResponse:
    """``connect``'s POST in embedded mode: the user's account, then the onboarding page."""
    started = _open_attempt(request, ConnectAttempt.Flow.EMBEDDED, user_account(request))
    if isinstance(started, HttpResponse):
        return started
    attempt, account = started
    attempt.finish(ConnectAttempt.Outcome.CONNECTED, account=account)
    return redirect("stripe_express:onboarding")


def show(request: HttpRequest) -> HttpResponse:
    """The page hosting the onboarding component (overridable template).

    A GET creates nothing: without a connected account the user goes to
    ``connect``'s page, whose button starts onboarding with a POST.
    """
    account = user_account(request)
    if account is None or not account.is_connected:
        return redirect("stripe_express:connect")
    return TemplateResponse(
        request,
        _ONBOARDING_TEMPLATE,
        {
            "account": account,
            "exit_form_id": _EXIT_FORM_ID,
            "exit_url": reverse("stripe_express:onboarding"),
        },
    )


def finish_embedded(request: HttpRequest) -> HttpResponse:
    """The component exited (or the user left): re-read the account, say where it stands."""
    return finish(request)




def error(status: int, message: str) -> JsonResponse:
    """The JSON failure answer: ``{"error": "<a message for the user>"}``."""
    return JsonResponse({"error": message}, status=status)


def _requested_components(request: HttpRequest) -> list[str] | JsonResponse:
    """The components the page shows (its script names them): the session grants
    those only, never every enabled one."""
    enabled = components.enabled()
    asked = [n.strip() for n in request.POST.get("components", "").split(",") if n.strip()]
    if not asked:
        return error(400, _("Name the components this page shows."))
    for name in asked:
        if name not in enabled:
            return error(400, _("The component “%(name)s” is not enabled on this site.")
                         % {"name": name[:100]})
    return list(dict.fromkeys(asked))


def answer(request: HttpRequest) -> JsonResponse:
    """``{"client_secret": ...}``, or a JSON error (404 no account, 400, 502 Stripe)."""
    account = user_account(request)
    if account is None or not account.is_connected:
        return error(404, _("You have no connected Stripe account yet."))
    names = _requested_components(request)
    if isinstance(names, JsonResponse):
        return names
    # Built from the settings' table, so typed loosely (stripe's TypedDict lists
    # every component).
    params: Any = {"account": account.stripe_id, "components": components.session_params(names)}
    try:
        session = get_client().v1.account_sessions.create(params)
    except stripe.StripeError as exc:
        return _failed(request, exc, account)
    return JsonResponse({"client_secret": session.client_secret})


def _failed(request: HttpRequest, exc: stripe.StripeError, account: ExpressAccount) -> JsonResponse:
    log_failure(exc, account, "account session")
    message = failure_message(request, exc, account, "an Account Session")
    if message is None:
        message = _("Stripe could not open your account here just now. Please try again later.")
    # An account out of reach (now marked disconnected) is no account: 404, as before one.
    return error(404 if is_gone(exc) else 502, message)
