"""Everything the fake remembers between requests, behind one lock.

Kept apart from the HTTP layer so tests can set up and inspect state directly
(``fake.create_account``, ``fake.requests``) and so ``reset()`` is one call.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any


@dataclass
class RecordedRequest:
    """One request as the fake received it, for assertions in tests."""

    method: str
    path: str
    query: dict[str, Any]
    form: dict[str, Any]
    headers: dict[str, str]
    body: str

    @property
    def params(self) -> dict[str, Any]:
        """Query and form parameters together, as Stripe reads them."""
        return {**self.query, **self.form}


@dataclass
class Grant:
    """An OAuth authorization code: single use, short-lived."""

    account_id: str
    created: float
    used: bool = False


@dataclass
class Link:
    """An Account Link or login link token for a hosted page."""

    account_id: str
    kind: str
    created: float
    expires_at: float
    refresh_url: str = ""
    return_url: str = ""
    opened: bool = False
    used: bool = False


@dataclass
class Failure:
    """A planned error or delay for the next ``times`` matching requests."""

    matcher: str
    times: int
    status: int = 0
    body: dict[str, Any] | None = None
    delay: float = 0.0

    def matches(self, method: str, path: str) -> bool:
        wanted_method, _, wanted_path = self.matcher.rpartition(" ")
        if wanted_method and wanted_method.upper() != method.upper():
            return False
        return path.startswith(wanted_path)


@dataclass
class Replay:
    """A stored response for an ``Idempotency-Key``."""

    fingerprint: tuple[Any, ...]
    status: int
    body: dict[str, Any]


@dataclass
class FakeState:
    """All mutable state of one fake server."""

    lock: threading.RLock = field(default_factory=threading.RLock)
    accounts: dict[str, dict[str, Any]] = field(default_factory=dict)
    codes: dict[str, Grant] = field(default_factory=dict)
    refresh_tokens: dict[str, str] = field(default_factory=dict)
    links: dict[str, Link] = field(default_factory=dict)
    idempotency: dict[tuple[str, str], Replay] = field(default_factory=dict)
    requests: list[RecordedRequest] = field(default_factory=list)
    failures: list[Failure] = field(default_factory=list)
    delays: list[Failure] = field(default_factory=list)
    events: dict[str, dict[str, Any]] = field(default_factory=dict)
    authorizations: list[dict[str, Any]] = field(default_factory=list)
    deauthorized: set[str] = field(default_factory=set)
    refusing: bool = False

    def reset(self) -> None:
        with self.lock:
            self.accounts.clear()
            self.codes.clear()
            self.refresh_tokens.clear()
            self.links.clear()
            self.idempotency.clear()
            self.requests.clear()
            self.failures.clear()
            self.delays.clear()
            self.events.clear()
            self.authorizations.clear()
            self.deauthorized.clear()
            self.refusing = False

    @staticmethod
    def _take(plans: list[Failure], method: str, path: str) -> Failure | None:
        for plan in plans:
            if plan.matches(method, path):
                plan.times -= 1
                if plan.times <= 0:
                    plans.remove(plan)
                return plan
        return None

    def take_failure(self, method: str, path: str) -> Failure | None:
        with self.lock:
            return self._take(self.failures, method, path)

    def take_delay(self, method: str, path: str) -> Failure | None:
        with self.lock:
            return self._take(self.delays, method, path)
