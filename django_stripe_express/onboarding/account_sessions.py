"""The ``account_session`` view's logic: an Account Session for the user's own account.

Connect.js calls the page's ``fetchClientSecret``, which POSTs here; the
answer is ``{"client_secret": "..."}`` for the logged-in user's account in
this mode, never anyone else's (the account comes from the session's user,
nothing in the request names one). The page may ask for some components
(``components=payouts,balances``); only enabled ones are granted. Failures
answer JSON with a message the page can show, and are logged with codes and
ids only: the client secret is never logged or stored.
"""

from __future__ import annotations

import logging
from typing import Any

import stripe
from django.http import HttpRequest, JsonResponse
from django.utils.translation import gettext as _

from .. import components
from ..client import get_client
from ..models import ExpressAccount
from .express_account import user_account
from .stripe_failures import failure_message, is_gone, log_failure

logger = logging.getLogger(__name__)


def error(status: int, message: str) -> JsonResponse:
    """The JSON failure answer: ``{"error": "<a message for the user>"}``."""
    return JsonResponse({"error": message}, status=status)


def requested_components(request: HttpRequest) -> list[str] | JsonResponse:
    """The components the page asked for (all enabled ones if it named none)."""
    enabled = components.enabled()
    asked = [n.strip() for n in request.POST.get("components", "").split(",") if n.strip()]
    for name in asked:
        if name not in enabled:
            return error(400, _("The component “%(name)s” is not enabled on this site.")
                         % {"name": name[:100]})
    return asked or list(enabled)


def answer(request: HttpRequest) -> JsonResponse:
    """``{"client_secret": ...}``, or a JSON error (404 no account, 400, 502 Stripe)."""
    account = user_account(request)
    if account is None or not account.is_connected:
        return error(404, _("You have no connected Stripe account yet."))
    names = requested_components(request)
    if isinstance(names, JsonResponse):
        return names
    # Built from the settings' table, so typed loosely (stripe's TypedDict lists
    # every component).
    params: Any = {"account": account.stripe_id, "components": components.session_params(names)}
    try:
        session = get_client().v1.account_sessions.create(params)
    except stripe.StripeError as exc:
        return _failed(request, exc, account)
    return JsonResponse({"client_secret": session.client_secret})


def _failed(request: HttpRequest, exc: stripe.StripeError, account: ExpressAccount) -> JsonResponse:
    log_failure(exc, account, "account session", logger)
    message = failure_message(request, exc, account, "an Account Session")
    if message is None:
        message = _("Stripe could not open your account here just now. Please try again later.")
    # An account out of reach (now marked disconnected) is no account: 404, as before one.
    return error(404 if is_gone(exc) else 502, message)
