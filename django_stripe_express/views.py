"""Thin views: each hands the request to a plain function (see `onboarding/`
and `webhooks/`) and returns what it answers."""

from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from .conf import ONBOARDING_ACCOUNT_LINKS, app_settings
from .onboarding import account_links, login_link, oauth, user_disconnect
from .webhooks.response import webhook_response


@login_required
def connect(request: HttpRequest) -> HttpResponse:
    """Start onboarding with the configured flow (GET; a POST form works too)."""
    if app_settings.ONBOARDING == ONBOARDING_ACCOUNT_LINKS:
        return account_links.start(request)
    return oauth.start(request)


@login_required  # keeps the query string, so the state survives the login
def oauth_callback(request: HttpRequest) -> HttpResponse:
    """Stripe's redirect back from OAuth onboarding, with a code or an error."""
    return oauth.handle_callback(request)


@login_required
def onboarding_refresh(request: HttpRequest) -> HttpResponse:
    """Stripe's ``refresh_url``: the Account Link expired or was used."""
    return account_links.refresh(request)


@login_required
def onboarding_return(request: HttpRequest) -> HttpResponse:
    """Stripe's ``return_url``: the user left the hosted onboarding."""
    return account_links.finish(request)


@login_required
def dashboard(request: HttpRequest) -> HttpResponse:
    """Open the user's Express dashboard through a one-time login link."""
    return login_link.open_dashboard(request)


@require_POST  # CSRF-protected by the middleware, like every POST here but the webhook
@login_required
def disconnect(request: HttpRequest) -> HttpResponse:
    """The user's own "disconnect" button (OAuth connections only)."""
    return user_disconnect.disconnect(request)


@transaction.non_atomic_requests  # the webhook commits its own, short transactions
@csrf_exempt  # Stripe sends no CSRF token; the signature authenticates the sender
@require_POST
def webhook(request: HttpRequest) -> HttpResponse:
    """Stripe's deliveries: verified, recorded once, applied (see `webhooks`)."""
    return webhook_response(request)
