"""Account Links onboarding: the platform creates the Express account, Stripe hosts the form.

``start`` (behind ``connect``'s POST when ``ONBOARDING = "account_links"``) makes sure
the user's account exists (`express_account`) and sends them to an onboarding
link (``/v1/account_links``, or for a v2 account ``/v2/core/account_links``
with its ``use_case``); ``refresh`` makes a new link when Stripe says the
old one expired or was used; ``finish`` (behind ``onboarding_return``)
re-reads the account and tells the user where they stand. Every Stripe failure
ends in a message and a redirect (`stripe_failures`), never a 500.
"""

from __future__ import annotations

import stripe
from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from ..accounts import UPDATE_FIELDS, apply_account, as_dict
from ..accounts_v2 import is_closed
from ..client import get_client
from ..conf import app_settings
from ..humanize import humanize_requirements
from ..landing import failure_url, success_url
from ..models import ConnectAttempt, ExpressAccount
from ..retrieve import retrieve_account
from ..signals import account_updated, notify
from ..status import AccountStatus
from .express_account import PLATFORM_CREATED, user_account, user_pk
from .platform_accounts import close_attempt, open_attempt
from .stripe_failures import fail, mark_gone, report_stripe_error


def create_link(request: HttpRequest, account: ExpressAccount) -> str:
    """A fresh onboarding link's URL (v1 or v2, as the account); raises `stripe.StripeError`."""
    refresh_url = request.build_absolute_uri(reverse("stripe_express:onboarding_refresh"))
    return_url = request.build_absolute_uri(reverse("stripe_express:onboarding_return"))
    if account.is_v2:
        return create_v2_link(account, refresh_url, return_url)
    link = get_client().v1.account_links.create(
        {
            "account": account.stripe_id,
            "type": "account_onboarding",
            "refresh_url": refresh_url,
            "return_url": return_url,
        }
    )
    return str(link.url)


def create_v2_link(account: ExpressAccount, refresh_url: str, return_url: str) -> str:
    """A fresh v2 Account Link's URL (``/v2/core/account_links``); raises `stripe.StripeError`."""
    use_case = link_use_case(account)
    link = get_client().v2.core.account_links.create(
        {
            "account": account.stripe_id,
            "use_case": {
                "type": use_case,
                use_case: {"refresh_url": refresh_url, "return_url": return_url},  # type: ignore[misc]
            },
        }
    )
    return str(link.url)


def link_use_case(account: ExpressAccount) -> str:
    """v2: ``account_onboarding`` until the user submitted their details, then
    ``account_update``."""
    return "account_update" if account.details_submitted else "account_onboarding"


def needs_update_link(account: ExpressAccount) -> bool:
    """A v2 user who finished onboarding but must update details gets a link, not the dashboard.

    (v1 Express accounts cannot have ``account_update`` links: their dashboard
    is where they update details.)
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
        and not needs_update_link(account)
    ):
        return redirect("stripe_express:dashboard")
    started = open_attempt(request, ConnectAttempt.Flow.ACCOUNT_LINKS, account)
    if isinstance(started, HttpResponse):
        return started
    attempt, connected = started
    try:
        url = create_link(request, connected)
    except stripe.StripeError as exc:
        # The account is kept: the next visit only needs a new link.
        attempt.account = connected
        attempt.save(update_fields=["account"])
        return fail(request, attempt, exc, connected)
    close_attempt(attempt, connected)
    return HttpResponseRedirect(url)


def refresh(request: HttpRequest) -> HttpResponse:
    """``onboarding_refresh``: the link expired or was used; make a new one.

    A GET, so it never creates an account: without a connected one the user
    goes to ``connect``'s page, whose button starts onboarding (a POST).
    """
    return send_to_link(request, user_account(request))


def send_to_link(request: HttpRequest, account: ExpressAccount | None) -> HttpResponse:
    """Redirect to a new Account Link for `account` (the request's user's, as read)."""
    if account is None or not account.is_connected:
        return redirect("stripe_express:connect")
    try:
        url = create_link(request, account)
    except stripe.StripeError as exc:
        report_stripe_error(request, exc, account, doing="account link")
        return redirect(failure_url(latest_next(request)))
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
    try:
        data = retrieve_account(account.stripe_id, account.accounts_api)
    except stripe.StripeError as exc:
        report_stripe_error(request, exc, account, doing="account refresh on return")
        return redirect(success_url(latest_next(request)))
    if is_closed(as_dict(data)):
        mark_gone(account, request)
        messages.error(
            request,
            _("Your Stripe account was closed. Connect again to set up a new one."),
            fail_silently=True,
        )
        return redirect(success_url(latest_next(request)))
    previous_status = account.status
    apply_account(account, data)
    account.save(update_fields=UPDATE_FIELDS)
    notify(
        account_updated, f"return from onboarding of {account.stripe_id}",
        sender=ExpressAccount, account=account, previous_status=previous_status,
        source="onboarding", event=None,
    )
    level, text = status_message(account)
    messages.add_message(request, level, text, fail_silently=True)
    return redirect(success_url(latest_next(request)))


def latest_next(request: HttpRequest) -> str:
    """The ``next`` of the user's latest attempt of a flow that ends here (Account
    Links, embedded), or "": Stripe's return and refresh URLs carry none, so the
    way back is kept on the attempt.

    Both flows count: an embedded onboarding that could not load Connect.js
    goes on in the hosted form and returns through ``onboarding_return``.
    """
    next_url = (
        ConnectAttempt.objects.filter(
            user_id=user_pk(request),
            flow__in=PLATFORM_CREATED,
            livemode=app_settings.livemode,
        )
        .order_by("-created_at", "-pk")
        .values_list("next_url", flat=True)
        .first()
    )
    return next_url or ""


def status_message(account: ExpressAccount) -> tuple[int, str]:
    """What the user reads on return: done, or what Stripe still needs."""
    due = humanize_requirements(account.currently_due)
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
