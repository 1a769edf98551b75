"""The ``dashboard`` view's logic: a one-time login link to the Express dashboard.

Works for accounts from either flow: a login link only needs the account id and
the platform key. Stripe refuses login links until onboarding is finished, so
an unfinished account is sent to finish it through an Account Link, in both
modes. (Sending OAuth users back to ``connect`` would loop, since ``connect``
sends a user who already has an account to this view.)
"""

from __future__ import annotations

import stripe
from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect
from django.utils.translation import gettext as _

from ..client import get_client
from ..landing import requested_next, success_url
from . import account_links
from .express_account import user_account
from .stripe_failures import report_stripe_error


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
        return account_links.send_to_link(request, account)
    try:
        link = get_client().v1.accounts.login_links.create(account.stripe_id)
    except stripe.StripeError as exc:
        report_stripe_error(
            request, exc, account, doing="login link",
            message=_("Stripe could not open your dashboard just now. Please try again later."),
        )
        return redirect(success_url(requested_next(request)))
    return HttpResponseRedirect(str(link.url))
