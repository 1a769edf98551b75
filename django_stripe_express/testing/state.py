"""Everything the fake knows and remembers, behind one lock, and how it changes.

Kept apart from the HTTP layer so tests can set up and inspect state directly
(``fake.create_account``, ``fake.requests``) and so ``reset()`` is one call.
The endpoints (`api`, `oauth`) read and change this state and nothing else;
`fake.FakeStripe` is the facade tests hold.
"""

from __future__ import annotations

import copy
import time
from dataclasses import dataclass, field, fields
from typing import Any

from ..accounts.v1 import NAMES as CAPABILITY_NAMES
from . import objects, objects_v2
from .embedded_state import EmbeddedState
from .watched_lock import WatchedLock


class FakeStripeError(Exception):
    """Misuse of the fake from a test, e.g. an unknown account id."""


#: How the hosted onboarding page can end when the user finishes it.
OUTCOMES = {
    "enabled": "Verified: charges and payouts enabled",
    "pending_verification": "Still verifying: Stripe checks a document (pending verification)",
    "review": "Under review: Stripe asks for more information (disabled_reason other, past due)",
}


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
    """A planned error or delay for the next ``times`` matching requests.

    ``saved``: the error is the endpoint's own answer, which Stripe saves for
    the request's idempotency key (see `idempotency`); otherwise it comes from
    a layer before the endpoint (rate limiter, validation) and nothing is saved.
    ``executing``: the delay is spent executing, with the idempotency key held.
    ``answer``: the delay is spent after executing: Stripe read its state at
    once, and the answer reaches the client late.
    """

    matcher: str
    times: int
    status: int = 0
    body: dict[str, Any] | None = None
    delay: float = 0.0
    saved: bool = False
    executing: bool = False
    answer: bool = False

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
    request_id: str
    saved_at: float


@dataclass
class FakeState:
    """All state of one fake server: its configuration and what it remembers."""

    secret_key: str
    client_id: str
    webhook_secret: str
    #: The server's address once it listens (``FakeStripe.start``).
    url: str = ""
    #: Seconds an OAuth authorization code stays valid.
    code_ttl: float = 300
    #: Seconds an Account Link or login link stays valid.
    link_ttl: float = 300
    #: Stripe refuses login links until the account has submitted its details.
    login_links_require_onboarding: bool = True
    #: Seconds Stripe keeps an idempotency key's saved answer (24 hours).
    idempotency_ttl: float = 24 * 3600

    #: Held for every read and change; its watcher sees each change (`forwarding`).
    lock: WatchedLock = field(default_factory=WatchedLock)
    accounts: dict[str, dict[str, Any]] = field(default_factory=dict)
    codes: dict[str, Grant] = field(default_factory=dict)
    refresh_tokens: dict[str, str] = field(default_factory=dict)
    links: dict[str, Link] = field(default_factory=dict)
    idempotency: dict[tuple[str, str], Replay] = field(default_factory=dict)
    #: Idempotency keys of requests still executing.
    in_flight: set[tuple[str, str]] = field(default_factory=set)
    requests: list[RecordedRequest] = field(default_factory=list)
    failures: list[Failure] = field(default_factory=list)
    delays: list[Failure] = field(default_factory=list)
    events: dict[str, dict[str, Any]] = field(default_factory=dict)
    #: Thin events (v2) by id, as ``/v2/core/events/{id}`` answers them.
    thin_events: dict[str, dict[str, Any]] = field(default_factory=dict)
    authorizations: list[dict[str, Any]] = field(default_factory=list)
    deauthorized: set[str] = field(default_factory=set)
    refusing: bool = False
    #: Account Sessions, balances and payouts (embedded components).
    embedded: EmbeddedState = field(default_factory=EmbeddedState)
    #: The `forwarding.Forwarder` of the `FakeStripe` that owns this state.
    forwarder: Any = None

    #: Settings a test may change, restored by `reset` (a test that sets
    #: ``idempotency_ttl = 0`` must not leave keys expiring for the next one).
    SETTINGS = ("code_ttl", "link_ttl", "login_links_require_onboarding", "idempotency_ttl")

    def reset(self) -> None:
        with self.lock:
            defaults = {f.name: f.default for f in fields(self)}
            for name in self.SETTINGS:
                setattr(self, name, defaults[name])
            self.accounts.clear()
            self.codes.clear()
            self.refresh_tokens.clear()
            self.links.clear()
            self.idempotency.clear()
            self.in_flight.clear()
            self.requests.clear()
            self.failures.clear()
            self.delays.clear()
            self.events.clear()
            self.thin_events.clear()
            self.authorizations.clear()
            self.deauthorized.clear()
            self.refusing = False
            self.embedded.reset()

    @staticmethod
    def _take(plans: list[Failure], method: str, path: str, **wanted: bool) -> Failure | None:
        for plan in plans:
            if plan.matches(method, path) and all(
                getattr(plan, name) == value for name, value in wanted.items()
            ):
                plan.times -= 1
                if plan.times <= 0:
                    plans.remove(plan)
                return plan
        return None

    def take_failure(self, method: str, path: str, *, saved: bool) -> Failure | None:
        with self.lock:
            return self._take(self.failures, method, path, saved=saved)

    def take_delay(
        self, method: str, path: str, *, executing: bool, answer: bool = False
    ) -> Failure | None:
        with self.lock:
            return self._take(self.delays, method, path, executing=executing, answer=answer)

    # -- accounts ------------------------------------------------------------

    def account(self, acct_id: str) -> dict[str, Any]:
        """The stored account (the live dict); `FakeStripeError` if unknown."""
        try:
            return self.accounts[acct_id]
        except KeyError:
            raise FakeStripeError(f"No such account in the fake: {acct_id!r}") from None

    def create_account(self, **fields: Any) -> dict[str, Any]:
        """Store a new account (see `FakeStripe.create_account`); return a copy."""
        fields = dict(fields)
        account = objects.build_account(
            account_id=fields.pop("id", None),
            account_type=fields.pop("type", "express"),
            country=fields.pop("country", "US"),
            email=fields.pop("email", None),
            business_type=fields.pop("business_type", None),
            capabilities=self._capabilities(fields.pop("capabilities", {"transfers": "inactive"})),
            metadata=fields.pop("metadata", None),
            created=fields.pop("created", None),
        )
        objects.deep_merge(account, fields)
        with self.lock:
            self.accounts[account["id"]] = account
            return copy.deepcopy(account)

    def create_v2_account(self, **fields: Any) -> dict[str, Any]:
        """Store a new v2 account (see `FakeStripe.create_v2_account`); return a copy."""
        account = objects_v2.build_account(**fields)
        with self.lock:
            self.accounts[account["id"]] = account
            return copy.deepcopy(account)

    def deauthorize(self, acct_id: str) -> None:
        """The platform loses access (see `FakeStripe.deauthorize`)."""
        with self.lock:
            self.account(acct_id)
            self.deauthorized.add(acct_id)

    def close_account(self, acct_id: str) -> dict[str, Any]:
        """Close a v2 account, as Stripe or the platform (``/close``) does; return a copy."""
        with self.lock:
            account = self.account(acct_id)
            account["closed"] = True
            return copy.deepcopy(account)

    def set_capability(
        self, acct_id: str, name: str, status: str, code: str | None, resolution: str
    ) -> dict[str, Any]:
        """Set a v2 account's capability (see `FakeStripe.set_capability`); return a copy."""
        config = "merchant" if name == "card_payments" else "recipient"
        details = [{"code": code, "resolution": resolution}] if code else []
        with self.lock:
            account = self.account(acct_id)
            objects_v2.set_capability(account, config, name, objects_v2.capability(status, details))
            return copy.deepcopy(account)

    def set_requirements(self, acct_id: str, entries: list[dict[str, Any]]) -> dict[str, Any]:
        """Replace a v2 account's requirement entries; return a copy."""
        with self.lock:
            account = self.account(acct_id)
            account["requirements"] = objects_v2.requirements(entries)
            return copy.deepcopy(account)

    @staticmethod
    def _capabilities(value: Any) -> dict[str, str]:
        """Capabilities from a test, held to what Stripe's types allow."""
        capabilities = objects.normalize_capabilities(value)
        for name, status in capabilities.items():
            if name not in CAPABILITY_NAMES:
                raise FakeStripeError(f"Stripe has no capability {name!r}")
            if status not in objects.CAPABILITY_STATUSES:
                raise FakeStripeError(
                    f"An account's capability is one of {', '.join(objects.CAPABILITY_STATUSES)}"
                    f", not {status!r} ({name})"
                )
        return capabilities

    def update_account(self, acct_id: str, **fields: Any) -> dict[str, Any]:
        """Deep-merge ``fields`` into the stored account; return a copy."""
        with self.lock:
            account = self.account(acct_id)
            if "capabilities" in fields:
                fields["capabilities"] = self._capabilities(fields["capabilities"])
            objects.deep_merge(account, fields)
            return copy.deepcopy(account)

    def complete_onboarding(self, acct_id: str) -> dict[str, Any]:
        """Make the account fully enabled, as after a finished hosted onboarding."""
        with self.lock:
            account = self.account(acct_id)
            if account.get("object") == objects_v2.V2_OBJECT:
                objects_v2.complete_onboarding(account)
                return copy.deepcopy(account)
            self._submitted(account)
            account["charges_enabled"] = True
            account["payouts_enabled"] = True
            account["requirements"] = objects.requirements()
            names = account["capabilities"] or ["transfers"]
            account["capabilities"] = dict.fromkeys(names, "active")
            return copy.deepcopy(account)

    def _submitted(self, account: dict[str, Any]) -> None:
        """What submitting the hosted onboarding form always does."""
        account["details_submitted"] = True
        account["business_type"] = account["business_type"] or "individual"
        account["future_requirements"] = objects.requirements()
        if account["tos_acceptance"].get("date") is None:
            account["tos_acceptance"].update(date=objects.now(), ip="127.0.0.1")

    def submit_for_verification(self, acct_id: str, fields: list[str] | None) -> dict[str, Any]:
        """Onboarding submitted; Stripe is still verifying ``fields``: nothing enabled yet."""
        checking = list(fields or ["individual.verification.document"])
        with self.lock:
            account = self.account(acct_id)
            if account.get("object") == objects_v2.V2_OBJECT:
                objects_v2.submit_for_verification(account, fields)
                return copy.deepcopy(account)
            self._submitted(account)
            account["charges_enabled"] = False
            account["payouts_enabled"] = False
            account["requirements"] = objects.requirements(
                pending_verification=checking,
                disabled_reason="requirements.pending_verification",
            )
            account["capabilities"] = dict.fromkeys(account["capabilities"] or ["transfers"],
                                                    "pending")
            return copy.deepcopy(account)

    def start_review(self, acct_id: str, fields: list[str] | None) -> dict[str, Any]:
        """Onboarding submitted; Stripe reviews the account and asks for ``fields``.

        As Stripe reports such a review: ``disabled_reason`` ``other`` with the
        fields in ``past_due``, charges and payouts disabled.
        """
        asked = list(fields or ["business_profile.product_description"])
        with self.lock:
            account = self.account(acct_id)
            if account.get("object") == objects_v2.V2_OBJECT:
                objects_v2.start_review(account, fields)
                return copy.deepcopy(account)
            self._submitted(account)
            account["charges_enabled"] = False
            account["payouts_enabled"] = False
            account["requirements"] = objects.requirements(
                asked, past_due=asked, disabled_reason="other"
            )
            account["capabilities"] = dict.fromkeys(account["capabilities"] or ["transfers"],
                                                    "inactive")
            return copy.deepcopy(account)

    def finish_onboarding(self, acct_id: str, outcome: str) -> dict[str, Any]:
        """End the hosted onboarding the way ``outcome`` (one of `OUTCOMES`) says."""
        if outcome == "pending_verification":
            return self.submit_for_verification(acct_id, None)
        if outcome == "review":
            return self.start_review(acct_id, None)
        return self.complete_onboarding(acct_id)

    def require_verification(
        self, acct_id: str, fields: list[str] | None, disabled_reason: str
    ) -> dict[str, Any]:
        """Restrict the account: ``fields`` past due, charges and payouts disabled."""
        due = list(fields or ["individual.verification.document"])
        with self.lock:
            account = self.account(acct_id)
            if account.get("object") == objects_v2.V2_OBJECT:
                objects_v2.require_verification(account, fields)
                return copy.deepcopy(account)
            account["charges_enabled"] = False
            account["payouts_enabled"] = False
            account["requirements"] = objects.requirements(
                due, past_due=due, disabled_reason=disabled_reason
            )
            account["capabilities"] = dict.fromkeys(account["capabilities"], "inactive")
            return copy.deepcopy(account)

    def require_by(
        self, acct_id: str, fields: list[str], deadline: int, *, future: bool
    ) -> dict[str, Any]:
        """Ask for ``fields`` by ``deadline`` while charges and payouts stay enabled."""
        key = "future_requirements" if future else "requirements"
        with self.lock:
            account = self.account(acct_id)
            if account.get("object") == objects_v2.V2_OBJECT:
                objects_v2.require_by(account, fields, deadline, future=future)
                return copy.deepcopy(account)
            current = account[key]
            due = list(dict.fromkeys([*current["currently_due"], *fields]))
            account[key] = objects.requirements(
                due, eventually_due=current["eventually_due"], past_due=current["past_due"]
            )
            account[key]["current_deadline"] = int(deadline)
            return copy.deepcopy(account)

    # -- hosted pages ----------------------------------------------------------

    def new_link(
        self, acct_id: str, kind: str, refresh_url: str = "", return_url: str = ""
    ) -> tuple[str, Link]:
        """A hosted page's one-time token for ``acct_id``, valid ``link_ttl`` seconds:
        the page's URL (onboarding, or the Express dashboard for ``login``) and the link."""
        token = objects.random_id("", 12)
        now = time.time()
        link = Link(acct_id, kind, now, now + self.link_ttl, refresh_url, return_url)
        self.links[token] = link
        page = "express" if kind == "login" else "setup/e"
        return f"{self.url}/{page}/{acct_id}/{token}", link

    # -- OAuth codes ----------------------------------------------------------

    def issue_code(
        self, stripe_user_id: str | None = None, *, complete: bool = True, **account_fields: Any
    ) -> str:
        """An OAuth code, as if the user had just finished the hosted page."""
        with self.lock:
            if stripe_user_id is None:
                stripe_user_id = self.create_account(**account_fields)["id"]
            elif account_fields:
                self.update_account(stripe_user_id, **account_fields)
            if complete:
                self.complete_onboarding(stripe_user_id)
            return self.new_code(stripe_user_id)

    def new_code(self, acct_id: str) -> str:
        code = objects.random_id("ac_", 32)
        with self.lock:
            self.codes[code] = Grant(acct_id, time.time())
        return code
