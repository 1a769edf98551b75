"""The user's "disconnect" action: deauthorize the platform, mark the account.

Only OAuth-connected platforms can deauthorize (`client.oauth.deauthorize`
needs the platform's `CLIENT_ID`). With Account Links the platform created the
account itself and Stripe has nothing to deauthorize, so the action is refused
with a message pointing to support.
"""

from __future__ import annotations

import logging

import stripe
from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.utils.translation import gettext as _

from ..conf import ONBOARDING_OAUTH, app_settings
from ..diagnostics import log_configuration_error
from ..disconnect import disconnect_account
from ..landing import requested_next, success_url
from ..models import ExpressAccount
from .oauth import usable_account

logger = logging.getLogger(__name__)


def allowed(account: ExpressAccount | None) -> bool:
    """Whether the user may disconnect ``account`` here (the button shows its form
    only then): a connected account, with OAuth onboarding."""
    return (
        account is not None and account.is_connected
        and app_settings.ONBOARDING == ONBOARDING_OAUTH
    )


def disconnect(request: HttpRequest) -> HttpResponse:
    """Deauthorize the user's account in this mode; back to the form's ``next``
    (the page with the button), else ``SUCCESS_URL``."""
    done = HttpResponseRedirect(success_url(requested_next(request)))
    account = usable_account(request)
    if account is None:
        messages.info(request, _("You have no connected Stripe account."), fail_silently=True)
        return done
    if not allowed(account):
        messages.error(
            request,
            _("Your Stripe account cannot be disconnected here. Please contact support."),
            fail_silently=True,
        )
        return done
    try:
        disconnect_account(account, via_oauth=True, request=request)
    except (stripe.StripeError, AttributeError) as exc:
        return _failed(request, done, account, exc)
    messages.success(request, _("Your Stripe account is disconnected."), fail_silently=True)
    return done


def _failed(
    request: HttpRequest, response: HttpResponse, account: ExpressAccount, exc: Exception
) -> HttpResponse:
    logger.warning("Deauthorizing Stripe account %s failed: %s", account.stripe_id,
                   type(exc).__name__)
    log_configuration_error(exc, "a user's disconnect", account.stripe_id)
    if isinstance(exc, stripe.APIConnectionError):
        text = _("We could not reach Stripe. Your account is still connected; please try again.")
    else:
        text = _("Stripe refused to disconnect your account. Please contact support.")
    messages.error(request, text, fail_silently=True)
    return response
