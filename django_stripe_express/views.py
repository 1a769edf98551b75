"""Thin views: each hands the request to a plain function (see `onboarding/`
and `webhooks/`) and returns what it answers."""

import functools
from collections.abc import Callable

from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import redirect_to_login
from django.db import transaction
from django.http import HttpRequest, HttpResponse, HttpResponseForbidden
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_http_methods, require_POST

from . import onboarding as _onboarding
from .conf import ONBOARDING_ACCOUNT_LINKS, ONBOARDING_EMBEDDED, ONBOARDING_OAUTH, app_settings
from .onboarding import common, oauth, platform
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


def _spends_quota(
    *, methods: tuple[str, ...] = ("GET", "POST"), as_json: bool = False
) -> Callable[[_View], _View]:
    """Count the request against the user's ``USER_RATE_LIMIT`` (for `methods`): each
    may call Stripe with the platform's key, which all users share. Over the
    limit: 429 with ``Retry-After``, and Stripe is not called."""

    def decorate(view: _View) -> _View:
        @functools.wraps(view)
        def wrapped(request: HttpRequest) -> HttpResponse:
            if request.method in methods:
                wait = common.over_quota(request)
                if wait is not None:
                    return common.throttled(request, wait, as_json=as_json)
            return view(request)

        return wrapped

    return decorate


#: ``Sec-Fetch-Site`` values of a request this site made (or the user typed).
_OWN_REQUEST = ("same-origin", "none")


def _top_level_only(view: _View) -> _View:
    """Refuse another site's subresource request (``<img>``, ``fetch``, a frame).

    Stripe sends the user back to ``refresh_url`` / ``return_url`` with a
    top-level navigation (``Sec-Fetch-Mode: navigate``, ``Sec-Fetch-Dest:
    document``): that is allowed from any site, and carries the session cookie
    under ``SameSite=Lax``. Another site's ``<img src>`` or script is not a
    navigation: refused before anything is done. A browser that sends no
    ``Sec-Fetch-*`` headers relies on ``SameSite`` alone (Django's default, Lax,
    keeps the cookie off those requests).
    """

    @functools.wraps(view)
    def wrapped(request: HttpRequest) -> HttpResponse:
        site = request.headers.get("Sec-Fetch-Site")
        if site is not None and site not in _OWN_REQUEST:
            navigation = request.headers.get("Sec-Fetch-Mode") == "navigate" and (
                request.headers.get("Sec-Fetch-Dest", "document") == "document"
            )
            if not navigation or request.method != "GET":
                return HttpResponseForbidden(
                    _("This page can only be opened directly, not from another site."),
                    content_type="text/plain; charset=utf-8",
                )
        return view(request)

    return wrapped


# csrf_protect as well as the middleware: these POSTs act in the user's name at
# Stripe, so they stay protected even in a project that dropped the middleware.
@csrf_protect
@require_http_methods(["GET", "HEAD", "POST"])
@login_required
@_spends_quota(methods=("POST",))
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


@_top_level_only
@csrf_protect  # the POST (a click on this site) carries the token
@require_http_methods(["GET", "POST"])
@login_required
@_spends_quota()
def onboarding_refresh(request: HttpRequest) -> HttpResponse:
    """Stripe's ``refresh_url`` (a GET: the Account Link expired or was used), or
    the user's click on this site (a POST): a new link."""
    return platform.refresh(request)


@_top_level_only
@require_http_methods(["GET"])
@login_required
@_spends_quota()
def onboarding_return(request: HttpRequest) -> HttpResponse:
    """Stripe's ``return_url``: the user left the hosted onboarding."""
    return platform.finish(request)


def _own_navigation(request: HttpRequest) -> bool:
    """A top-level navigation the browser says this site started (a redirect
    after one of its POSTs, a click on its link): never another site's request,
    nor an ``<img>`` on this one. Browsers without ``Sec-Fetch-*`` never qualify."""
    return (
        request.headers.get("Sec-Fetch-Site") == "same-origin"
        and request.headers.get("Sec-Fetch-Mode") == "navigate"
        and request.headers.get("Sec-Fetch-Dest") == "document"
    )


@csrf_protect  # a login link is made only for this site's own form
@require_http_methods(["GET", "HEAD", "POST"])
@login_required
@_spends_quota(methods=("POST", "GET"))
def dashboard(request: HttpRequest) -> HttpResponse:
    """Open the user's Express dashboard through a one-time login link: on a POST
    (the button), or a GET the browser says is this site's own navigation (the
    redirect after ``connect``). Any other GET gets a page whose button does it."""
    if request.method == "POST" or (request.method == "GET" and _own_navigation(request)):
        return _onboarding.open_dashboard(request)
    return _onboarding.show_dashboard(request)


@csrf_protect  # like every POST here but the webhook
@require_POST
@login_required
def disconnect(request: HttpRequest) -> HttpResponse:
    """The user's own "disconnect" button (OAuth connections only)."""
    return _onboarding.disconnect(request)


@csrf_protect  # the page's POST (the component's exit) re-reads the account
@require_http_methods(["GET", "HEAD", "POST"])
@login_required
@_spends_quota(methods=("POST",))
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
@_spends_quota(methods=("POST",), as_json=True)
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
