"""Thin views: each hands the request to a plain function (see `onboarding/`
and `webhooks/`) and returns what it answers."""

import functools
from collections.abc import Callable

from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import redirect_to_login
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_http_methods, require_POST

from . import onboarding as _onboarding
from .conf import ONBOARDING_ACCOUNT_LINKS, ONBOARDING_EMBEDDED, ONBOARDING_OAUTH, app_settings
from .onboarding import oauth, platform
from .webhooks.receive import webhook_response

_View = Callable[[HttpRequest], HttpResponse]

#: Which flow ``connect``'s POST starts, per ``ONBOARDING`` value: a new flow
#: adds its entry here, and the view stays as it is.
_STARTS: dict[str, _View] = {
    ONBOARDING_OAUTH: oauth.start,
    ONBOARDING_ACCOUNT_LINKS: platform.start,
    ONBOARDING_EMBEDDED: platform.start_embedded,
}


def _login_required_json(view: _View) -> _View:
    """`login_required` for a JSON endpoint: a script's fetch (which asks for
    JSON) gets 401 JSON it can read; a browser navigation gets the login page."""

    @functools.wraps(view)
    def wrapped(request: HttpRequest) -> HttpResponse:
        if request.user.is_authenticated:
            return view(request)
        if request.accepts("text/html"):
            return redirect_to_login(request.get_full_path())
        return platform.error(401, _("Your session has ended. Please log in again."))

    return wrapped


# csrf_protect as well as the middleware: these POSTs act in the user's name at
# Stripe, so they stay protected even in a project that dropped the middleware.
@csrf_protect
@require_http_methods(["GET", "HEAD", "POST"])
@login_required
def connect(request: HttpRequest) -> HttpResponse:
    """POST: start onboarding with the configured flow. GET: the user's Stripe
    status page, with the button; a GET never starts anything."""
    if request.method == "POST":
        # An unknown value is OAuth's: check E003 reports it.
        return _STARTS.get(app_settings.ONBOARDING, oauth.start)(request)
    return _onboarding.show(request)


@login_required  # keeps the query string, so the state survives the login
def oauth_callback(request: HttpRequest) -> HttpResponse:
    """Stripe's redirect back from OAuth onboarding, with a code or an error."""
    return oauth.handle_callback(request)


@login_required
def onboarding_refresh(request: HttpRequest) -> HttpResponse:
    """Stripe's ``refresh_url``: the Account Link expired or was used."""
    return platform.refresh(request)


@login_required
def onboarding_return(request: HttpRequest) -> HttpResponse:
    """Stripe's ``return_url``: the user left the hosted onboarding."""
    return platform.finish(request)


@login_required
def dashboard(request: HttpRequest) -> HttpResponse:
    """Open the user's Express dashboard through a one-time login link."""
    return _onboarding.open_dashboard(request)


@csrf_protect  # like every POST here but the webhook
@require_POST
@login_required
def disconnect(request: HttpRequest) -> HttpResponse:
    """The user's own "disconnect" button (OAuth connections only)."""
    return _onboarding.disconnect(request)


@csrf_protect  # the page's POST (the component's exit) re-reads the account
@require_http_methods(["GET", "HEAD", "POST"])
@login_required
def onboarding(request: HttpRequest) -> HttpResponse:
    """Embedded onboarding. GET: the page hosting Stripe's onboarding component.
    POST (sent when the component exits): re-read the account, then land."""
    if request.method == "POST":
        return platform.finish_embedded(request)
    return platform.show(request)


@never_cache  # a client secret must never be stored by a cache
@csrf_protect  # the page sends the token; another site cannot get a session
@require_POST
@_login_required_json
def account_session(request: HttpRequest) -> HttpResponse:
    """JSON ``{"client_secret": ...}`` of an Account Session for the user's own account."""
    return platform.answer(request)


@transaction.non_atomic_requests  # the webhook commits its own, short transactions
@csrf_exempt  # Stripe sends no CSRF token; the signature authenticates the sender
@require_POST
def webhook(request: HttpRequest) -> HttpResponse:
    """Stripe's deliveries: verified, recorded once, applied (see `webhooks`).

    Served as ``webhook`` and ``thin_webhook``: it takes snapshot events and
    thin event notifications alike.
    """
    return webhook_response(request)
