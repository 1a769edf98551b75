"""``connect``'s GET: the user's Stripe status page, with the button.

A GET never starts onboarding: a link, a prefetch or a cross-site
``<img src=".../connect/">`` must not create a Stripe account or an attempt
in the user's name. It only reads the user's account and shows the button,
whose form POSTs back to ``connect`` with the CSRF token.

It is also where the flows land by default (``SUCCESS_URL``, ``FAILURE_URL``),
so it shows every account as it is, a finished one included: sending that
one on to the Stripe dashboard would take a user who just finished
onboarding off the site, and loop when the dashboard link fails.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse

from ..landing import safe_next_url
from .express_account import user_account

CONNECT_TEMPLATE = "django_stripe_express/connect.html"


def show(request: HttpRequest) -> HttpResponse:
    """The status page (overridable template), whatever the account's state."""
    account = user_account(request)
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
