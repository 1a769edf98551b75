"""The start shared by the flows where the platform creates the account.

Account Links and embedded onboarding both begin the same way: record an
attempt (with where to land afterwards), and make sure the user has a
connected account, created through `express_account` (once per user and
mode) when there is none or the old one was disconnected. They differ only
in where they send the user next: Stripe's hosted form, or the platform's
own onboarding page.
"""

from __future__ import annotations

import datetime
import secrets

from django.http import HttpRequest, HttpResponse
from django.utils import timezone

from ..conf import app_settings
from ..landing import requested_next
from ..models import ConnectAttempt, ExpressAccount
from .express_account import create_account, user_pk


def open_attempt(
    request: HttpRequest, flow: str, account: ExpressAccount | None
) -> tuple[ConnectAttempt, ExpressAccount] | HttpResponse:
    """A new attempt of ``flow`` and the user's connected account; or the failure redirect.

    ``account`` is the user's account in this mode, as the caller read it.
    """
    connected = account if account is not None and account.is_connected else None
    attempt = ConnectAttempt.objects.create(
        user_id=user_pk(request),
        flow=flow,
        # These flows have no state; a random value keeps the column unique.
        state_hash=secrets.token_hex(32),
        livemode=app_settings.livemode,
        expires_at=timezone.now() + datetime.timedelta(seconds=app_settings.STATE_MAX_AGE),
        account=connected,
        stripe_user_id=connected.stripe_id if connected else "",
        # Where to land when onboarding ends; only URLs of this site.
        next_url=requested_next(request),
    )
    if connected is None:  # none yet, or a disconnected one to replace
        stored = create_account(request, attempt, existing=account)
        if isinstance(stored, HttpResponse):
            return stored
        connected = stored
    return attempt, connected


def close_attempt(attempt: ConnectAttempt, account: ExpressAccount) -> None:
    """The attempt reached onboarding: it is done, connected to ``account``."""
    attempt.account = account
    attempt.stripe_user_id = account.stripe_id
    attempt.outcome = ConnectAttempt.Outcome.CONNECTED
    attempt.finished_at = timezone.now()
    attempt.save(update_fields=["account", "stripe_user_id", "outcome", "finished_at"])
