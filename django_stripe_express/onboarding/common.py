"""What every onboarding flow shares: the user's account, how an attempt that
failed ends, where the user lands, and what the flows prefill.

A failure always leaves three things behind: the outcome and Stripe's error on
the `ConnectAttempt` (for support staff), a message the user understands, and
the `connect_failed` signal (for the host project); what a Stripe error means
is `stripe_api.failure`'s to say. Every redirect at the end of a flow goes
through `success_url` or `failure_url`: the ``next`` the user started from
when it is safe, else ``SUCCESS_URL`` / ``FAILURE_URL`` (a path, a URL or a
URL name; by default the app's own ``connect`` page, which every project that
includes the app's URLs has).
"""

from __future__ import annotations

import logging
import math
import time
from typing import Any

import stripe
from django.contrib import messages
from django.core.cache import BaseCache, caches
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, resolve_url
from django.template.response import TemplateResponse
from django.urls import NoReverseMatch, reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.module_loading import import_string
from django.utils.translation import gettext, gettext_lazy
from stripe.oauth_error import OAuthError

from ..conf import app_settings
from ..models import ConnectAttempt, ExpressAccount, notify
from ..signals import connect_failed
from ..stripe_api import (
    CREDENTIALS,
    GONE,
    KEY_IN_USE,
    KEY_IN_USE_MESSAGE,
    OAUTH,
    UNREACHABLE,
    failure,
    log_configuration_error,
)


def user_pk(request: HttpRequest) -> Any:
    """The logged-in user's primary key (every view of the flows requires login)."""
    return request.user.pk


def user_account(request: HttpRequest) -> ExpressAccount | None:
    """The user's account for the configured mode, connected or not."""
    return ExpressAccount.objects.for_user(user_pk(request)).first()


logger = logging.getLogger("django_stripe_express.onboarding")


# -- what one user may spend of the platform's Stripe quota ---------------------------
# Stripe's rate limit is the key's, shared by every user (and by the platform's
# payments if it uses the same key): each request that may call Stripe in a
# user's name is counted per user, in Django's cache. The window opens with
# the user's first request and closes ``USER_RATE_WINDOW`` seconds later, so a
# burst never gets twice the limit by straddling a clock boundary.


def quota_cache() -> BaseCache:
    """The cache that counts requests and keeps unused Account Links (``USER_RATE_CACHE``)."""
    return caches[app_settings.USER_RATE_CACHE]


def over_quota(request: HttpRequest) -> int | None:
    """Count one request that may call Stripe for the user; None while within
    ``USER_RATE_LIMIT``, else the seconds until the window ends (``Retry-After``)."""
    limit = app_settings.USER_RATE_LIMIT
    if limit <= 0:
        return None
    window = max(1, app_settings.USER_RATE_WINDOW)
    now = time.time()
    key = f"django-stripe-express:quota:{user_pk(request)}"
    cache = quota_cache()
    cache.add(f"{key}:opened", now, timeout=window)
    cache.add(key, 0, timeout=window)
    try:
        count = cache.incr(key)
    except ValueError:  # expired between add and incr: this request opens a window
        cache.set(key, 1, timeout=window)
        count = 1
    if count <= limit:
        return None
    opened = cache.get(f"{key}:opened", now)
    return max(1, math.ceil(float(opened) + window - now))


_THROTTLED_TEMPLATE = "django_stripe_express/throttled.html"


def throttled(request: HttpRequest, wait: int, *, as_json: bool = False) -> HttpResponse:
    """429 with ``Retry-After``: JSON for the script's endpoint, a page otherwise."""
    text = gettext(
        "Too many requests to Stripe from your account. Please wait %(seconds)d seconds "
        "and try again."
    ) % {"seconds": wait}
    logger.warning("User %s is over USER_RATE_LIMIT; refused for %ds", user_pk(request), wait)
    response: HttpResponse
    if as_json:
        response = JsonResponse({"error": text}, status=429)
    else:
        response = TemplateResponse(
            request, _THROTTLED_TEMPLATE, {"message": text, "retry_after": wait}, status=429
        )
    response["Retry-After"] = str(wait)
    return response

Outcome = ConnectAttempt.Outcome

# What the user reads for each outcome. Worded for the user, not for staff:
# Stripe's own description is kept on the attempt, never shown.
MESSAGES = {
    Outcome.DECLINED: gettext_lazy(
        "You cancelled connecting your Stripe account. Nothing was changed."
    ),
    Outcome.OAUTH_ERROR: gettext_lazy("Stripe could not connect your account. Please try again."),
    Outcome.INVALID_GRANT: gettext_lazy(
        "This Stripe connection link has expired or was already used. Please start again."
    ),
    Outcome.INVALID_CLIENT: gettext_lazy(
        "Connecting Stripe accounts is not set up correctly on this site. "
        "Please contact support."
    ),
    Outcome.INVALID_REQUEST: gettext_lazy(
        "Stripe could not connect your account. Please try again."
    ),
    Outcome.CAPABILITY_NOT_GRANTED: gettext_lazy(
        "Your Stripe account cannot be used here yet: it lacks a capability this site "
        "needs. Please finish your Stripe setup and try again."
    ),
    Outcome.EXPIRED: gettext_lazy("This connection attempt has expired. Please start again."),
    Outcome.STATE_REUSED: gettext_lazy("This connection attempt was already completed."),
    Outcome.WRONG_USER: gettext_lazy("This connection attempt was started by another user."),
    Outcome.ACCOUNT_ALREADY_LINKED: gettext_lazy(
        "This Stripe account is already linked to another user or another account on "
        "this site. Please contact support."
    ),
    Outcome.STRIPE_UNREACHABLE: gettext_lazy(
        "We could not reach Stripe. Please try again in a few minutes."
    ),
    Outcome.STRIPE_ERROR: gettext_lazy("Stripe reported an error. Please try again later."),
}

DEFAULT_MESSAGE = gettext_lazy("Your Stripe account could not be connected. Please try again.")

# Stripe's OAuth error codes with an outcome of their own.
_OAUTH_CODES = {
    "access_denied": Outcome.DECLINED,
    "invalid_grant": Outcome.INVALID_GRANT,
    "invalid_client": Outcome.INVALID_CLIENT,
    "invalid_request": Outcome.INVALID_REQUEST,
}


def _message_for(outcome: str) -> str:
    """The translated message a user sees for `outcome`."""
    return str(MESSAGES.get(outcome, DEFAULT_MESSAGE))  # type: ignore[call-overload]


def oauth_error_outcome(code: str, description: str = "") -> str:
    """The outcome for an OAuth error `code` (redirect or token endpoint)."""
    if code == "invalid_request" and "capabilit" in description.lower():
        # A failed `assert_capabilities`: Stripe says invalid_request and names
        # the capabilities in the description.
        return Outcome.CAPABILITY_NOT_GRANTED
    return _OAUTH_CODES.get(code, Outcome.OAUTH_ERROR)


def stripe_error_outcome(exc: BaseException) -> tuple[str, str, str]:
    """``(outcome, error_code, description)`` of an attempt that a Stripe call
    ended, from what `stripe_api.failure` says the exception means."""
    meaning = failure(exc)
    if isinstance(exc, OAuthError) or meaning.kind == OAUTH:
        return oauth_error_outcome(meaning.code, meaning.description), meaning.code, \
            meaning.description
    if meaning.kind == UNREACHABLE:
        return Outcome.STRIPE_UNREACHABLE, "", meaning.description
    return Outcome.STRIPE_ERROR, meaning.code, meaning.description


def fail_attempt(
    request: HttpRequest,
    attempt: ConnectAttempt | None,
    outcome: str,
    *,
    error_code: str = "",
    description: str = "",
    message: str | None = None,
) -> None:
    """Record `outcome` on `attempt`, tell the user, send `connect_failed`.

    `attempt` may be ``None`` (no attempt matched). Only a pending attempt is
    changed: one that already ended keeps its first outcome. `message`
    overrides the standard user message for `outcome`.
    """
    if attempt is not None and attempt.pk and attempt.is_pending:
        attempt.finish(outcome, error_code=error_code, description=description)
    # Codes only: descriptions can echo request details.
    logger.info(
        "Stripe Express onboarding failed: outcome=%s code=%s attempt=%s",
        outcome, error_code or "-", attempt.pk if attempt is not None else "-",
    )
    messages.error(request, message or _message_for(outcome), fail_silently=True)
    notify(
        connect_failed,
        f"failed attempt {attempt.pk if attempt is not None else '-'}",
        sender=ExpressAccount,
        attempt=attempt,
        user=getattr(request, "user", None),
        request=request,
        outcome=str(outcome),
        error_code=error_code,
        error_description=description,
    )



def log_failure(exc: stripe.StripeError, account: ExpressAccount | None, doing: str) -> str:
    """One WARNING line for a Stripe failure; its outcome (see `stripe_error_outcome`).

    Codes and ids only: Stripe's texts can echo request parameters (a refused
    key is logged with Stripe's message too, by `log_configuration_error`).
    """
    outcome, code, _description = stripe_error_outcome(exc)
    logger.warning(
        "Stripe Express %s failed: outcome=%s code=%s http_status=%s account=%s request_id=%s",
        doing, outcome, code or "-", getattr(exc, "http_status", None) or "-",
        account.stripe_id if account else "-", exc.request_id or "-",
    )
    return outcome


def failure_message(
    request: HttpRequest, exc: stripe.StripeError, account: ExpressAccount | None, doing: str
) -> str | None:
    """The user's message for the failures that have one of their own, after what
    each entails; None for the others.

    Stripe refused the platform's credentials (logged at ERROR: only the
    platform can fix it), the account is out of the platform's reach (marked
    disconnected), Stripe is rate limiting.
    """
    meaning = failure(exc)
    if meaning.kind == CREDENTIALS:
        log_configuration_error(exc, doing, account.stripe_id if account else "")
    elif meaning.kind == GONE:
        if account is None:
            return None
        account.mark_gone(request)
    return meaning.user_message


def report_stripe_error(
    request: HttpRequest,
    exc: stripe.StripeError,
    account: ExpressAccount | None,
    *,
    doing: str,
    message: str | None = None,
) -> None:
    """Message and log line for a Stripe failure outside an onboarding attempt."""
    outcome = log_failure(exc, account, doing)
    text = failure_message(request, exc, account, doing)
    if text is None:
        unreachable = isinstance(exc, stripe.APIConnectionError)
        text = _message_for(outcome) if unreachable or message is None else message
    messages.error(request, text, fail_silently=True)


def fail(
    request: HttpRequest, attempt: ConnectAttempt, exc: stripe.StripeError,
    account: ExpressAccount | None = None,
) -> HttpResponse:
    """End ``attempt`` with the outcome for ``exc``; the redirect back to where the
    user started (``FAILURE_URL`` without a ``next``)."""
    outcome, code, description = stripe_error_outcome(exc)
    message = failure_message(request, exc, account, "onboarding")
    if message is None and failure(exc).kind == KEY_IN_USE:
        message = str(KEY_IN_USE_MESSAGE)
    fail_attempt(request, attempt, outcome, error_code=code, description=description,
                 message=message)
    return redirect(failure_url(attempt.next_url))


#: The default of ``SUCCESS_URL`` and ``FAILURE_URL``.
STATUS_PAGE = "stripe_express:connect"


def safe_next_url(request: HttpRequest, url: str | None) -> str:
    """`url` if it points at this site (over HTTPS when this request is), else ""."""
    if url and url_has_allowed_host_and_scheme(
        url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return url
    return ""


def _resolve_setting(key: str, value: str) -> str:
    """``value`` (a path, URL or URL name) as a URL; the status page if it names none."""
    try:
        return str(resolve_url(value))
    except NoReverseMatch:
        logger.warning(
            "STRIPE_EXPRESS[%r] is neither a URL nor a URL name (check W016): "
            "sending the user to the app's status page instead", key,
        )
        return reverse(STATUS_PAGE)


def success_url(next_url: str = "") -> str:
    """``next_url`` (already checked safe) if any, else ``SUCCESS_URL``."""
    return next_url or _resolve_setting("SUCCESS_URL", app_settings.SUCCESS_URL)


def failure_url(next_url: str = "") -> str:
    """``next_url`` (already checked safe) if any, else ``FAILURE_URL``."""
    return next_url or _resolve_setting("FAILURE_URL", app_settings.FAILURE_URL)


def requested_next(request: HttpRequest) -> str:
    """The request's own ``next`` (a form field or the query string), if it is safe."""
    return safe_next_url(request, request.POST.get("next") or request.GET.get("next"))


# Stripe's Connect OAuth reference lists the `stripe_user` fields; those marked
# "Standard only" (street_address, city, state, zip, physical_product,
# currency, block_kana/kanji, building_kana/kanji) are silently dropped for
# Express accounts, so they are not sent: the user would type them again
# without the platform knowing. The kana/kanji names and gender are for JP.
_STRIPE_USER_FIELDS = frozenset(
    {
        "email",
        "url",
        "country",
        "phone_number",
        "business_name",
        "business_type",
        "first_name",
        "last_name",
        "dob_day",
        "dob_month",
        "dob_year",
        "product_description",
        "first_name_kana",
        "first_name_kanji",
        "last_name_kana",
        "last_name_kanji",
        "gender",
    }
)


def default_prefill(request: HttpRequest) -> dict[str, Any]:
    """The user's email, first and last name, where the user model has them."""
    user = request.user
    values = {
        "email": getattr(user, "email", ""),
        "first_name": getattr(user, "first_name", ""),
        "last_name": getattr(user, "last_name", ""),
    }
    return {key: value for key, value in values.items() if value}


def prefill_for(request: HttpRequest) -> dict[str, str]:
    """The configured prefill, limited to the fields Express honours, as strings."""
    path = app_settings.PREFILL
    if not path:
        return {}
    values = import_string(path)(request) or {}
    return {
        key: str(value)
        for key, value in values.items()
        if key in _STRIPE_USER_FIELDS and value not in (None, "")
    }
