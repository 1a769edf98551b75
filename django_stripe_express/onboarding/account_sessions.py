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
from ..diagnostics import MESSAGE as CONFIGURATION_MESSAGE
from ..diagnostics import log_configuration_error
from ..models import ExpressAccount
from .express_account import user_account
from .outcomes import stripe_error_outcome
from .stripe_failures import GONE_MESSAGE, is_gone, mark_gone

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
    outcome, code, _description = stripe_error_outcome(exc)
    # Codes and ids only: Stripe's texts can echo request parameters (a refused
    # key is logged with Stripe's message too, by `log_configuration_error`).
    logger.warning(
        "Stripe Express account session failed: outcome=%s code=%s http_status=%s account=%s "
        "request_id=%s",
        outcome, code or "-", getattr(exc, "http_status", None) or "-", account.stripe_id,
        exc.request_id or "-",
    )
    if log_configuration_error(exc, "an Account Session", account.stripe_id):
        return error(502, str(CONFIGURATION_MESSAGE))
    if is_gone(exc):
        mark_gone(account, request)
        return error(404, str(GONE_MESSAGE))
    if isinstance(exc, stripe.RateLimitError):
        return error(502, _("Stripe is busy right now. Please try again in a minute."))
    return error(502, _("Stripe could not open your account here just now. "
                        "Please try again later."))
