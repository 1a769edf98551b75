"""Thin views: each hands the request to a plain function (see `onboarding/`
and `webhooks/`) and returns what it answers."""

from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_http_methods, require_POST

from .onboarding import account_links, connect_page, flows, login_link, oauth, user_disconnect
from .webhooks.http import webhook_response


# csrf_protect as well as the middleware: these POSTs act in the user's name at
# Stripe, so they stay protected even in a project that dropped the middleware.
@csrf_protect
@require_http_methods(["GET", "HEAD", "POST"])
@login_required
def connect(request: HttpRequest) -> HttpResponse:
    """POST: start onboarding with the configured flow. GET: the button's page
    (or the dashboard once onboarding is done); a GET never starts anything."""
    if request.method == "POST":
        return flows.start(request)
    return connect_page.show(request)


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


@csrf_protect  # like every POST here but the webhook
@require_POST
@login_required
def disconnect(request: HttpRequest) -> HttpResponse:
    """The user's own "disconnect" button (OAuth connections only)."""
    return user_disconnect.disconnect(request)


@transaction.non_atomic_requests  # the webhook commits its own, short transactions
@csrf_exempt  # Stripe sends no CSRF token; the signature authenticates the sender
@require_POST
def webhook(request: HttpRequest) -> HttpResponse:
    """Stripe's deliveries: verified, recorded once, applied (see `webhooks`).

    Served as ``webhook`` and ``thin_webhook``: it takes snapshot events and
    thin event notifications alike.
    """
    return webhook_response(request)
