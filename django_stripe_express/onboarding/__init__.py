"""What a user does with the account they have: the status page (``connect``'s
GET), the Express dashboard (a one-time login link) and disconnecting.

The flows that make an account are beside this module: `platform` (Account
Links and embedded onboarding, where the platform creates the account) and
`oauth` (Express OAuth); `common` is what every flow shares.
"""

from __future__ import annotations

import logging

import stripe
from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.utils.translation import gettext as _

from ..models import ExpressAccount
from ..stripe_api import get_client, log_configuration_error
from . import platform
from .common import report_stripe_error, requested_next, safe_next_url, success_url, user_account
from .oauth import usable_account


def open_dashboard(request: HttpRequest) -> HttpResponse:
    """Redirect to a fresh login link, or to where the user must go first."""
    account = user_account(request)
    if account is None or not account.is_connected:
        messages.info(request, _("Connect your Stripe account first."), fail_silently=True)
        return redirect("stripe_express:connect")
    if not account.details_submitted:
        messages.info(
            request, _("Finish setting up your Stripe account to open its dashboard."),
            fail_silently=True,
        )
        return platform.send_to_link(request, account)
    try:
        link = get_client().v1.accounts.login_links.create(account.stripe_id)
    except stripe.StripeError as exc:
        report_stripe_error(
            request, exc, account, doing="login link",
            message=_("Stripe could not open your dashboard just now. Please try again later."),
        )
        return redirect(success_url(requested_next(request)))
    return HttpResponseRedirect(str(link.url))


logger = logging.getLogger("django_stripe_express.onboarding")


def disconnect(request: HttpRequest) -> HttpResponse:
    """Deauthorize the user's account in this mode; back to the form's ``next``
    (the page with the button), else ``SUCCESS_URL``."""
    done = HttpResponseRedirect(success_url(requested_next(request)))
    account = usable_account(request)
    if account is None:
        messages.info(request, _("You have no connected Stripe account."), fail_silently=True)
        return done
    if not (account.is_connected and account.via_oauth):
        messages.error(
            request,
            _("Your Stripe account cannot be disconnected here. Please contact support."),
            fail_silently=True,
        )
        return done
    try:
        account.disconnect(via_oauth=True, request=request)
    except (stripe.StripeError, AttributeError) as exc:
        return _failed(request, done, account, exc)
    messages.success(request, _("Your Stripe account is disconnected."), fail_silently=True)
    return done


def _failed(
    request: HttpRequest, response: HttpResponse, account: ExpressAccount, exc: Exception
) -> HttpResponse:
    logger.warning("Deauthorizing Stripe account %s failed: %s", account.stripe_id,
                   type(exc).__name__)
    log_configuration_error(exc, "a user's disconnect", account.stripe_id)
    if isinstance(exc, stripe.APIConnectionError):
        text = _("We could not reach Stripe. Your account is still connected; please try again.")
    else:
        text = _("Stripe refused to disconnect your account. Please contact support.")
    messages.error(request, text, fail_silently=True)
    return response


_CONNECT_TEMPLATE = "django_stripe_express/connect.html"

_DASHBOARD_TEMPLATE = "django_stripe_express/dashboard.html"


def show_dashboard(request: HttpRequest) -> HttpResponse:
    """``dashboard``'s GET: a page whose button (a POST) opens the dashboard.

    A login link is made only for a POST from this site: a GET (another site's
    ``<img>``, a prefetch) must not make one.
    """
    return TemplateResponse(
        request,
        _DASHBOARD_TEMPLATE,
        {
            "account": user_account(request),
            "next_url": safe_next_url(request, request.GET.get("next")),
        },
    )


def show(request: HttpRequest) -> HttpResponse:
    """The status page (overridable template), whatever the account's state."""
    account = user_account(request)
    return TemplateResponse(
        request,
        _CONNECT_TEMPLATE,
        {
            "account": account,
            # Where the flow returns to: the `next` this page was given, if it is
            # this site's; never this page itself.
            "next_url": safe_next_url(request, request.GET.get("next")),
        },
    )
