"""Ending the link between the platform and an Express account.

One function for the user's own "disconnect" action and the admin's. OAuth
connections are deauthorized at Stripe (``client.oauth.deauthorize``, which
needs the platform's ``CLIENT_ID``). Accounts the platform created itself
(Account Links) cannot be deauthorized, so for those the link ends locally.
"""

from __future__ import annotations

import stripe
from django.http import HttpRequest
from django.utils import timezone
from stripe.oauth_error import OAuthError

from .client import get_client
from .models import ExpressAccount
from .signals import account_deauthorized, notify


def no_longer_connected(exc: OAuthError) -> bool:
    """Stripe's answer when the platform was already disconnected (a missed
    ``account.application.deauthorized`` event): invalid_client "This
    application is not connected to stripe account acct_..., or that account
    does not exist."""
    return exc.code == "invalid_client" and "not connected" in str(exc.user_message or "")


def disconnect_account(
    account: ExpressAccount,
    *,
    via_oauth: bool,
    request: HttpRequest | None = None,
    client: stripe.StripeClient | None = None,
) -> None:
    """Deauthorize at Stripe when ``via_oauth``, then mark disconnected and signal.

    Stripe answering that the platform is no longer connected counts as done.
    Any other Stripe error propagates and leaves the row untouched (the library
    raises a bare ``AttributeError`` for an OAuth error code it does not know:
    callers catch that with ``stripe.StripeError``).
    """
    if via_oauth:
        try:
            (client or get_client()).oauth.deauthorize({"stripe_user_id": account.stripe_id})
        except OAuthError as exc:
            if not no_longer_connected(exc):
                raise
    account.deauthorized_at = timezone.now()
    account.save(update_fields=["deauthorized_at", "updated_at"])
    notify(
        account_deauthorized, f"disconnecting {account.stripe_id}",
        sender=ExpressAccount, account=account, event=None, request=request,
    )
