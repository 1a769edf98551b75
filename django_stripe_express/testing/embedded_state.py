"""What the fake remembers for embedded components: Account Sessions, balances, payouts.

Kept beside `state.FakeState` (as its ``embedded`` field) so the endpoints of
`account_sessions` and the stand-in Connect.js (`connect_js`) share it under
the state's lock, and ``reset()`` clears it with the rest.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from . import objects

PUBLISHABLE_KEY = "pk_test_fake"
#: How long an unclaimed client secret stays usable, in seconds.
SESSION_TTL = 30 * 60


@dataclass
class SessionGrant:
    """One Account Session: its secret, the account it is bound to, its components."""

    account_id: str
    client_secret: str
    #: The answer's ``components``: name -> {"enabled": ..., "features": {...}}.
    components: dict[str, dict[str, Any]]
    created: float
    expires_at: float
    #: The Connect.js instance that claimed the secret ("" while unclaimed): a
    #: client secret serves one instance, as Stripe's are used once.
    instance: str = ""

    @property
    def expired(self) -> bool:
        return time.time() > self.expires_at

    def enabled(self, component: str) -> bool:
        return bool(self.components.get(component, {}).get("enabled"))

    def feature(self, component: str, name: str) -> bool:
        return bool(self.components.get(component, {}).get("features", {}).get(name))


@dataclass
class EmbeddedState:
    """Configuration (``publishable_key``, ``session_ttl``) and what tests set up."""

    publishable_key: str = PUBLISHABLE_KEY
    session_ttl: float = SESSION_TTL
    sessions: dict[str, SessionGrant] = field(default_factory=dict)
    #: account id -> {"available": cents, "pending": cents, "currency": "usd"}.
    balances: dict[str, dict[str, Any]] = field(default_factory=dict)
    #: account id -> payouts, newest first, each a dict in Stripe's payout shape.
    payouts: dict[str, list[dict[str, Any]]] = field(default_factory=dict)

    def reset(self) -> None:
        # A test that changes the key or shortens sessions must not leave it so
        # for the next one (as `FakeState.SETTINGS`).
        self.publishable_key, self.session_ttl = PUBLISHABLE_KEY, SESSION_TTL
        self.sessions.clear()
        self.balances.clear()
        self.payouts.clear()

    def set_balance(
        self, account: dict[str, Any], available: int, pending: int, currency: str | None
    ) -> None:
        """What the balances and payouts components show for ``account`` (in cents)."""
        self.balances[account["id"]] = {
            "available": available, "pending": pending, "currency": _currency(account, currency),
        }

    def add_payout(
        self,
        account: dict[str, Any],
        amount: int,
        *,
        status: str,
        method: str,
        arrival_date: int | None,
        currency: str | None,
    ) -> dict[str, Any]:
        """Record a payout of ``account`` (newest first); return a copy."""
        payout = {
            "id": objects.random_id("po_", 24),
            "object": "payout",
            "amount": amount,
            "arrival_date": arrival_date if arrival_date is not None else objects.now(),
            "currency": _currency(account, currency),
            "method": method,
            "status": status,
        }
        self.payouts.setdefault(account["id"], []).insert(0, payout)
        return dict(payout)


def _currency(account: dict[str, Any], currency: str | None) -> str:
    """``currency``, else the account's default one (USD if it has none), lower case."""
    return (currency or account.get("default_currency") or "usd").lower()
