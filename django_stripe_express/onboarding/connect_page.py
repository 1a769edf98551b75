"""``connect``'s GET: the page with the button, or the dashboard once set up.

A GET never starts onboarding: a link, a prefetch or a cross-site
``<img src=".../connect/">`` must not create a Stripe account or an attempt
in the user's name. It only reads the user's account and shows the button,
whose form POSTs back to ``connect`` with the CSRF token.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse

from .express_account import user_account
from .state import safe_next_url

CONNECT_TEMPLATE = "django_stripe_express/connect.html"


def show(request: HttpRequest) -> HttpResponse:
    """The button page (overridable template), or the dashboard for a finished account."""
    account = user_account(request)
    if account is not None and account.is_connected and account.details_submitted:
        return redirect("stripe_express:dashboard")
    return TemplateResponse(
        request,
        CONNECT_TEMPLATE,
        {
            "account": account,
            # Where the flow returns to: the `next` this page was given, if it is
            # this site's; never this page itself.
            "next_url": safe_next_url(request, request.GET.get("next")),
        },
    )
