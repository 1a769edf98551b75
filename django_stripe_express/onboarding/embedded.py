"""Embedded onboarding: Stripe's onboarding component on the platform's own page.

``start`` (behind ``connect``'s POST when ``ONBOARDING = "embedded"``) makes
sure the user's account exists, created as the other platform-created flow
does (`platform_accounts`), and leads to the ``onboarding`` page; ``show``
is that page; ``finish`` (the page's POST, sent when the component exits)
re-reads the account exactly as the hosted flow's return does.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse

from ..models import ConnectAttempt
from . import account_links
from .express_account import user_account
from .platform_accounts import close_attempt, open_attempt

ONBOARDING_TEMPLATE = "django_stripe_express/onboarding.html"
#: The form the page submits when the onboarding component exits.
EXIT_FORM_ID = "stripe-express-onboarding-exit"


def start(request: HttpRequest) -> HttpResponse:
    """``connect``'s POST in embedded mode: the user's account, then the onboarding page."""
    started = open_attempt(request, ConnectAttempt.Flow.EMBEDDED, user_account(request))
    if isinstance(started, HttpResponse):
        return started
    attempt, account = started
    close_attempt(attempt, account)
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
        ONBOARDING_TEMPLATE,
        {
            "account": account,
            "exit_form_id": EXIT_FORM_ID,
            "exit_url": reverse("stripe_express:onboarding"),
        },
    )


def finish(request: HttpRequest) -> HttpResponse:
    """The component exited (or the user left): re-read the account, say where it stands."""
    return account_links.finish(request)
