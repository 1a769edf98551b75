"""The OAuth `state`: issued with each attempt, consumed exactly once.

The state is what ties Stripe's redirect back to the user who started the
flow (CSRF protection, as in django-allauth's statekit). It is random, kept
server-side on a `ConnectAttempt` as a keyed hash only (`state_hash`), and
consumed by one conditional UPDATE on that hash, so two callbacks racing with
the same state cannot both win, on any database.

"Consumed" is `finished_at` being set while the outcome is still pending: the
code exchange that follows records the real outcome.
"""

from __future__ import annotations

import logging
import secrets
from datetime import datetime, timedelta

from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone

from ..conf import app_settings
from ..landing import safe_next_url as safe_next_url  # kept importable from here
from ..models import ConnectAttempt, ExpressAccount
from ..signals import connect_failed, notify
from ..state_hash import candidate_hashes, hash_state
from .express_account import user_pk

logger = logging.getLogger(__name__)

Outcome = ConnectAttempt.Outcome
STATE_BYTES = 32  # token_urlsafe(32): 43 characters, 256 bits


class StateError(Exception):
    """The callback's state cannot be used.

    `outcome` is what was recorded on `attempt` (expired, wrong_user) or what
    happened (state_reused); both are None for a missing or unknown state.
    The user-facing page never tells an unknown state from another user's.
    """

    def __init__(self, outcome: str | None = None, attempt: ConnectAttempt | None = None) -> None:
        super().__init__(outcome or "unknown_state")
        self.outcome = outcome
        self.attempt = attempt


def issue_state(
    request: HttpRequest, *, flow: str = ConnectAttempt.Flow.OAUTH, next_url: str | None = None
) -> tuple[ConnectAttempt, str]:
    """The user's attempt and its fresh, random state (only its hash is stored).

    The user's unfinished attempt in this mode (pending, unexpired) is reused
    with a new state rather than a new row added: starting again, in another
    tab or after going back, never multiplies rows. The older state stops
    working, so only the newest authorize link can finish.
    """
    state = secrets.token_urlsafe(STATE_BYTES)
    now = timezone.now()
    values = {
        "state_hash": hash_state(state),
        "next_url": safe_next_url(request, next_url),
        "expires_at": now + timedelta(seconds=app_settings.STATE_MAX_AGE),
    }
    unfinished = (
        ConnectAttempt.objects.filter(
            user_id=user_pk(request), flow=flow, livemode=app_settings.livemode,
            outcome=Outcome.PENDING, finished_at__isnull=True, expires_at__gt=now,
        )
        .order_by("-created_at", "-pk")
        .first()
    )
    # Conditional, as `consume_state` is: a callback may consume it meanwhile.
    if unfinished is not None and ConnectAttempt.objects.filter(
        pk=unfinished.pk, outcome=Outcome.PENDING, finished_at__isnull=True
    ).update(**values):
        for name, value in values.items():
            setattr(unfinished, name, value)
        return unfinished, state
    attempt = ConnectAttempt.objects.create(
        user_id=user_pk(request), flow=flow, livemode=app_settings.livemode, created_at=now,
        **values,
    )
    return attempt, state


def consume_state(request: HttpRequest, state: str | None) -> ConnectAttempt:
    """The pending OAuth attempt for `state`, now consumed; or `StateError`.

    The UPDATE's WHERE clause checks owner, outcome, consumption and expiry at
    once, so its row count is the single source of truth under concurrency.
    """
    if not state:
        raise StateError()
    now = timezone.now()
    hashes = candidate_hashes(state)
    pending = ConnectAttempt.objects.filter(
        state_hash__in=hashes, flow=ConnectAttempt.Flow.OAUTH, outcome=Outcome.PENDING,
        finished_at__isnull=True,
    )
    won = pending.filter(user_id=user_pk(request), expires_at__gt=now).update(finished_at=now)
    attempt = ConnectAttempt.objects.filter(
        state_hash__in=hashes, flow=ConnectAttempt.Flow.OAUTH
    ).first()
    if won:
        assert attempt is not None
        return attempt
    if attempt is None:
        raise StateError()
    if attempt.user_id != request.user.pk:
        # A state that reached another user has leaked (or is a login-CSRF
        # attempt): burn it, and answer exactly as for an unknown state.
        _end(request, pending, attempt, Outcome.WRONG_USER, now)
        raise StateError(Outcome.WRONG_USER, attempt)
    if attempt.outcome == Outcome.PENDING and attempt.finished_at is None:
        _end(request, pending, attempt, Outcome.EXPIRED, now)
        raise StateError(Outcome.EXPIRED, attempt)
    # Already consumed (finished, or another request is exchanging it right now):
    # its recorded outcome stays; the replay is only logged.
    logger.warning("Stripe Express OAuth state reused: attempt=%s", attempt.pk)
    raise StateError(Outcome.STATE_REUSED, attempt)


def _end(
    request: HttpRequest,
    pending: QuerySet[ConnectAttempt],
    attempt: ConnectAttempt,
    outcome: str,
    now: datetime,
) -> None:
    """Record `outcome` on the attempt, only if it is still pending and unconsumed."""
    updated = pending.update(outcome=outcome, finished_at=now)
    if not updated:
        return
    attempt.refresh_from_db()
    logger.warning("Stripe Express OAuth state refused: outcome=%s attempt=%s", outcome,
                   attempt.pk)
    notify(
        connect_failed, f"refused state of attempt {attempt.pk}",
        sender=ExpressAccount, attempt=attempt, user=request.user, request=request,
        outcome=str(outcome), error_code="", error_description="",
    )
