"""What the fake remembers for embedded components: Account Sessions, balances, payouts.

Kept beside `state.FakeState` (as its ``embedded`` field) so the endpoints of
`account_sessions` and the stand-in Connect.js (`connect_js`) share it under
the state's lock, and ``reset()`` clears it with the rest.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

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
        self.sessions.clear()
        self.balances.clear()
        self.payouts.clear()
