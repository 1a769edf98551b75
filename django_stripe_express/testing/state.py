"""Everything the fake knows and remembers, behind one lock, and how it changes.

`_State` holds the configuration (keys, lifetimes), the accounts and what the
endpoints remember (codes, links, idempotency keys, Account Sessions,
events), and the changes Stripe makes to accounts (onboarding finished,
verification required...). `fake.FakeStripe` is a `_State` with a server;
the endpoints (`api`, `api_v2`, `oauth`, `hosted`, `control`) read and
change this state and nothing else, always holding its lock.
"""

from __future__ import annotations

import copy
import random
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field, fields
from typing import Any

from ..accounts.v1 import NAMES as CAPABILITY_NAMES
from . import objects, objects_v2

PUBLISHABLE_KEY = "pk_test_fake"
#: How long an unclaimed Account Session client secret stays usable, in seconds.
_SESSION_TTL = 30 * 60


class FakeStripeError(Exception):
    """Misuse of the fake from a test, e.g. an unknown account id."""


#: How the hosted onboarding page can end when the user finishes it.
_OUTCOMES = {
    "enabled": "Verified: charges and payouts enabled",
    "pending_verification": "Still verifying: Stripe checks a document (pending verification)",
    "review": "Under review: Stripe asks for more information (disabled_reason other, past due)",
}


@dataclass
class RecordedRequest:
    """One request as the fake received it: what the endpoints read, and what
    tests inspect (``fake.requests``). Parameters are decoded (nested dicts and
    lists); ``headers`` keep the names as sent (`header` finds one in any case)."""

    method: str
    path: str
    query: dict[str, Any]
    form: dict[str, Any]
    headers: dict[str, str]
    body: str
    #: The raw ``(key, value)`` pairs of query and body: the idempotency fingerprint.
    pairs: list[tuple[str, str]] = field(default_factory=list)
    #: A JSON body (``/v2`` endpoints), decoded; `json_error` when it was not JSON.
    json_body: Any = None
    json_error: bool = False

    @property
    def params(self) -> dict[str, Any]:
        """Query and form parameters together, as Stripe reads them."""
        return {**self.query, **self.form}

    def header(self, name: str, default: str = "") -> str:
        """The header ``name`` (any case), or ``default``."""
        wanted = name.lower()
        for key, value in self.headers.items():
            if key.lower() == wanted:
                return value
        return default


class _WatchedLock:
    """A re-entrant lock that calls ``watcher()`` just before its outermost release.

    Every change to the fake's state is made holding it (the HTTP endpoints,
    the hosted pages, the control page, the helpers tests call), so the
    moment the outermost holder lets go is the moment a change is complete
    and consistent; `forwarding._Forwarder` looks then and sees every
    change, whichever code made it. The watcher runs with the lock still
    held; it must be quick and must not wait for anything else (it may take
    the lock again: that is re-entrant and calls no watcher).
    """

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._depth = 0  # changed only by the thread holding the lock
        self.watcher: Callable[[], None] | None = None

    def __enter__(self) -> _WatchedLock:
        self._lock.acquire()
        self._depth += 1
        return self

    def __exit__(self, *exc_info: object) -> None:
        try:
            if self._depth == 1 and self.watcher is not None:
                self.watcher()
        finally:
            self._depth -= 1
            self._lock.release()

@dataclass
class _Grant:
    """An OAuth authorization code: single use, short-lived."""

    account_id: str
    created: float
    used: bool = False


@dataclass
class _Link:
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
class _Plan:
    """A planned error or delay for the next ``times`` matching requests.

    ``saved``: the error is the endpoint's own answer, which Stripe saves for
    the request's idempotency key (see `server`); otherwise it comes from
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
    #: The share of matching requests the plan takes (1: each, until ``times``).
    chance: float = 1.0

    def matches(self, method: str, path: str) -> bool:
        wanted_method, _, wanted_path = self.matcher.rpartition(" ")
        if wanted_method and wanted_method.upper() != method.upper():
            return False
        return path.startswith(wanted_path)


@dataclass
class _Replay:
    """A stored response for an ``Idempotency-Key``."""

    fingerprint: tuple[Any, ...]
    status: int
    body: dict[str, Any]
    request_id: str
    saved_at: float


@dataclass
class _SessionGrant:
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


@dataclass(eq=False, repr=False)
class _State:
    """All state of one fake: its configuration and what it remembers.

    Tests change the configuration as plain attributes (``fake.code_ttl = 0``);
    `reset` restores it.
    """

    secret_key: str
    client_id: str
    webhook_secret: str
    host: str = "127.0.0.1"
    #: 0 until the server listens: then the port it got (`fake.FakeStripe.start`).
    port: int = 0
    #: Seconds an OAuth authorization code stays valid.
    code_ttl: float = 300
    #: Seconds an Account Link or login link stays valid.
    link_ttl: float = 300
    #: Stripe refuses login links until the account has submitted its details.
    login_links_require_onboarding: bool = True
    #: Seconds Stripe keeps an idempotency key's saved answer (24 hours).
    idempotency_ttl: float = 24 * 3600
    #: The one publishable key the stand-in Connect.js accepts.
    publishable_key: str = PUBLISHABLE_KEY
    #: Seconds an Account Session's client secret stays claimable.
    session_ttl: float = _SESSION_TTL

    #: Held for every read and change; its watcher sees each change (`forwarding`).
    lock: _WatchedLock = field(default_factory=_WatchedLock)
    #: The live account store, id -> account (changes are visible to the API).
    accounts: dict[str, dict[str, Any]] = field(default_factory=dict)
    codes: dict[str, _Grant] = field(default_factory=dict)
    refresh_tokens: dict[str, str] = field(default_factory=dict)
    links: dict[str, _Link] = field(default_factory=dict)
    idempotency: dict[tuple[str, str], _Replay] = field(default_factory=dict)
    #: Idempotency keys of requests still executing.
    in_flight: set[tuple[str, str]] = field(default_factory=set)
    #: Every request received, oldest first (`requests` gives a copy).
    request_log: list[RecordedRequest] = field(default_factory=list)
    failures: list[_Plan] = field(default_factory=list)
    delays: list[_Plan] = field(default_factory=list)
    #: Snapshot events by id, as ``/v1/events/{id}`` answers them.
    events: dict[str, dict[str, Any]] = field(default_factory=dict)
    #: Thin events (v2) by id, as ``/v2/core/events/{id}`` answers them.
    thin_events: dict[str, dict[str, Any]] = field(default_factory=dict)
    #: What each OAuth page submission carried (`authorizations` gives a copy).
    authorization_log: list[dict[str, Any]] = field(default_factory=list)
    deauthorized: set[str] = field(default_factory=set)
    refusing: bool = False
    #: Account Sessions by client secret (embedded components).
    sessions: dict[str, _SessionGrant] = field(default_factory=dict)
    #: account id -> {"available": cents, "pending": cents, "currency": "usd"}.
    balances: dict[str, dict[str, Any]] = field(default_factory=dict)
    #: account id -> Balance Settings (Accounts v2): {"schedule": ..., "delay_days_override": ...}.
    balance_settings: dict[str, dict[str, Any]] = field(default_factory=dict)
    #: account id -> payouts, newest first, each a dict in Stripe's payout shape.
    payouts: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    #: The platform's balance: currency -> {"available": cents, "pending": cents}.
    platform_balance: dict[str, dict[str, int]] = field(default_factory=dict)
    #: Webhook endpoints (``/v1/webhook_endpoints``) by id, in creation order.
    webhook_endpoints: dict[str, dict[str, Any]] = field(default_factory=dict)
    #: Event destinations (``/v2/core/event_destinations``) by id, in creation order.
    event_destinations: dict[str, dict[str, Any]] = field(default_factory=dict)
    #: Transfers to connected accounts by id, in creation order.
    transfers: dict[str, dict[str, Any]] = field(default_factory=dict)
    #: PaymentIntents and their charges by id (destination charges), in creation order.
    payment_intents: dict[str, dict[str, Any]] = field(default_factory=dict)
    charges: dict[str, dict[str, Any]] = field(default_factory=dict)
    refunds: dict[str, dict[str, Any]] = field(default_factory=dict)
    #: Planned dropped answers: the endpoint runs (and its answer is saved for
    #: the idempotency key), then the connection closes without the answer.
    drops: list[_Plan] = field(default_factory=list)
    #: The `forwarding._Forwarder` that watches this state (set by `fake.FakeStripe`).
    forwarder: Any = None
    #: API requests accepted per second before a 429 ``rate_limit`` (0: no limit),
    #: as Stripe limits each key (`fake.FakeStripe.limit_rate`).
    rate_limit: float = 0
    #: When the API requests of the last second were accepted (the sliding window).
    rate_window: deque[float] = field(default_factory=deque)
    #: How many requests were answered 429 ``rate_limit`` (`rate_limit`).
    rate_limited: int = 0
    #: How many answers were dropped after the work was done (`drops`).
    dropped: int = 0
    #: Draws which requests a plan with a ``chance`` below 1 takes (seeded by the plan).
    drop_random: random.Random = field(default_factory=random.Random)

    #: Settings a test may change, restored by `reset` (a test that sets
    #: ``idempotency_ttl = 0`` must not leave keys expiring for the next one).
    SETTINGS = (
        "code_ttl", "link_ttl", "login_links_require_onboarding", "idempotency_ttl",
        "publishable_key", "session_ttl", "rate_limit", "rate_limited", "dropped",
    )

    @property
    def url(self) -> str:
        host = "127.0.0.1" if self.host in {"", "0.0.0.0"} else self.host
        return f"http://{host}:{self.port}"

    def reset(self) -> None:
        """Forget accounts, codes, links, planned failures and the request log;
        restore the settings."""
        with self.lock:
            defaults = {f.name: f.default for f in fields(self)}
            for name in self.SETTINGS:
                setattr(self, name, defaults[name])
            for name in (
                "accounts", "codes", "refresh_tokens", "links", "idempotency", "in_flight",
                "request_log", "failures", "delays", "events", "thin_events",
                "authorization_log", "deauthorized", "sessions", "balances", "balance_settings",
                "payouts", "platform_balance", "transfers", "payment_intents", "charges",
                "refunds", "drops", "rate_window", "webhook_endpoints", "event_destinations",
            ):
                getattr(self, name).clear()
            self.refusing = False

    def over_rate(self) -> bool:
        """Whether one more API request now goes over `rate_limit` (a sliding
        one-second window); counted as accepted or as refused."""
        with self.lock:
            if not self.rate_limit:
                return False
            now = time.monotonic()
            while self.rate_window and self.rate_window[0] <= now - 1:
                self.rate_window.popleft()
            if len(self.rate_window) >= self.rate_limit:
                self.rate_limited += 1
                return True
            self.rate_window.append(now)
            return False

    @staticmethod
    def _take(plans: list[_Plan], method: str, path: str, **wanted: bool) -> _Plan | None:
        for plan in plans:
            if plan.matches(method, path) and all(
                getattr(plan, name) == value for name, value in wanted.items()
            ):
                plan.times -= 1
                if plan.times <= 0:
                    plans.remove(plan)
                return plan
        return None

    def take_failure(self, method: str, path: str, *, saved: bool) -> _Plan | None:
        with self.lock:
            return self._take(self.failures, method, path, saved=saved)

    def take_drop(self, method: str, path: str) -> _Plan | None:
        with self.lock:
            plan = next((p for p in self.drops if p.matches(method, path)), None)
            if plan is None or (plan.chance < 1 and self.drop_random.random() >= plan.chance):
                return None
            taken = self._take(self.drops, method, path)
            self.dropped += 1
            return taken

    def take_delay(
        self, method: str, path: str, *, executing: bool, answer: bool = False
    ) -> _Plan | None:
        with self.lock:
            return self._take(self.delays, method, path, executing=executing, answer=answer)

    # -- accounts ------------------------------------------------------------

    def account(self, acct_id: str) -> dict[str, Any]:
        """The stored account (the live dict); `FakeStripeError` if unknown."""
        try:
            return self.accounts[acct_id]
        except KeyError:
            raise FakeStripeError(f"No such account in the fake: {acct_id!r}") from None

    def is_deauthorized(self, acct_id: str) -> bool:
        return acct_id in self.deauthorized

    def deauthorize(self, acct_id: str) -> None:
        """The platform loses access, as when the user disconnects it on Stripe.

        From now on every call for this account answers 403 ``account_invalid``,
        as for a deleted one (``del fake.accounts[acct_id]``). Deliver
        ``build_event("account.application.deauthorized", account=...)`` for the
        webhook Stripe sends at the same time.
        """
        with self.lock:
            self.account(acct_id)
            self.deauthorized.add(acct_id)

    def create_account(self, **fields: Any) -> dict[str, Any]:
        """Store a new account (not onboarded unless ``fields`` say so); return a copy.

        Known keywords: ``id``, ``type``, ``country``, ``email``, ``business_type``,
        ``capabilities`` (name -> status), ``metadata``, ``created``; anything else
        is deep-merged into the account, e.g. ``charges_enabled=True``.
        """
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
        objects._deep_merge(account, fields)
        with self.lock:
            self.accounts[account["id"]] = account
            return copy.deepcopy(account)

    def create_v2_account(self, **fields: Any) -> dict[str, Any]:
        """Store a new Accounts v2 account, not onboarded; return a copy (the whole object).

        Keywords: ``account_id``, ``contact_email``, ``display_name``, ``country``,
        ``entity_type``, ``responsibilities``, ``dashboard`` (``"express"``),
        ``recipient`` (True: ``stripe_balance.stripe_transfers`` requested),
        ``merchant`` (``card_payments`` requested), ``metadata``, ``currency``,
        ``created`` (a Unix timestamp).
        """
        account = objects_v2.build_account(**fields)
        with self.lock:
            self.accounts[account["id"]] = account
            return copy.deepcopy(account)

    def close_account(self, acct_id: str) -> dict[str, Any]:
        """Close a v2 account, as Stripe or the platform (``/close``) does; return a copy."""
        with self.lock:
            account = self.account(acct_id)
            account["closed"] = True
            return copy.deepcopy(account)

    def set_capability(
        self,
        acct_id: str,
        name: str,
        status: str,
        *,
        code: str | None = None,
        resolution: str = "provide_info",
    ) -> dict[str, Any]:
        """Set a v2 account's capability (``card_payments``,
        ``stripe_balance.stripe_transfers``...) to ``status``, with a status
        detail when ``code`` is given; return a copy of the account."""
        config = "merchant" if name == "card_payments" else "recipient"
        details = [{"code": code, "resolution": resolution}] if code else []
        with self.lock:
            account = self.account(acct_id)
            objects_v2.set_capability(account, config, name, objects_v2.capability(status, details))
            return copy.deepcopy(account)

    def set_requirements(self, acct_id: str, entries: list[dict[str, Any]]) -> dict[str, Any]:
        """Replace a v2 account's requirement entries (build them with
        `objects_v2.entry`); return a copy of the account."""
        with self.lock:
            account = self.account(acct_id)
            account["requirements"] = objects_v2.requirements(entries)
            return copy.deepcopy(account)

    @staticmethod
    def _capabilities(value: Any) -> dict[str, str]:
        """Capabilities from a test, held to what Stripe's types allow."""
        capabilities = objects._normalize_capabilities(value)
        for name, status in capabilities.items():
            if name not in CAPABILITY_NAMES:
                raise FakeStripeError(f"Stripe has no capability {name!r}")
            if status not in objects._CAPABILITY_STATUSES:
                raise FakeStripeError(
                    f"An account's capability is one of {', '.join(objects._CAPABILITY_STATUSES)}"
                    f", not {status!r} ({name})"
                )
        return capabilities

    def update_account(self, acct_id: str, **fields: Any) -> dict[str, Any]:
        """Deep-merge ``fields`` into the stored account; return a copy."""
        with self.lock:
            account = self.account(acct_id)
            if "capabilities" in fields:
                fields["capabilities"] = self._capabilities(fields["capabilities"])
            objects._deep_merge(account, fields)
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

    def submit_for_verification(
        self, acct_id: str, fields: list[str] | None = None
    ) -> dict[str, Any]:
        """Onboarding submitted, Stripe still verifying ``fields`` (``pending_verification``):
        nothing enabled yet."""
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

    def start_review(self, acct_id: str, fields: list[str] | None = None) -> dict[str, Any]:
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
        self,
        acct_id: str,
        fields: list[str] | None = None,
        disabled_reason: str = "requirements.past_due",
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
        self, acct_id: str, fields: list[str], deadline: int, *, future: bool = False
    ) -> dict[str, Any]:
        """Stripe asks for ``fields`` by ``deadline`` (Unix time); the account stays enabled.

        ``future=True`` puts them in ``future_requirements`` (new rules that
        take effect at ``deadline``) rather than ``requirements``. A v2 account
        gets requirement entries ``currently_due`` (``eventually_due`` when
        ``future``) and the deadline in ``summary.minimum_deadline.time``.
        """
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
    ) -> tuple[str, _Link]:
        """A hosted page's one-time token for ``acct_id``, valid ``link_ttl`` seconds:
        the page's URL (onboarding, or the Express dashboard for ``login``) and the link."""
        token = objects._random_id("", 12)
        now = time.time()
        link = _Link(acct_id, kind, now, now + self.link_ttl, refresh_url, return_url)
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
        code = objects._random_id("ac_", 32)
        with self.lock:
            self.codes[code] = _Grant(acct_id, time.time())
        return code

    # -- embedded components ---------------------------------------------------

    def set_balance(
        self, acct_id: str, *, available: int = 0, pending: int = 0, currency: str | None = None,
        instant_available: int = 0,
    ) -> None:
        """The account's balance (smallest unit; may be negative): what
        ``GET /v1/balance`` for the account and the components show."""
        with self.lock:
            account = self.account(acct_id)
            self.balances[acct_id] = {
                "available": available, "pending": pending,
                "instant_available": instant_available,
                "currency": _currency(account, currency),
            }

    def add_payout(
        self,
        acct_id: str,
        amount: int,
        *,
        status: str = "paid",
        method: str = "standard",
        arrival_date: int | None = None,
        currency: str | None = None,
    ) -> dict[str, Any]:
        """Record a payout of the account (newest first in the components); return it."""
        with self.lock:
            account = self.account(acct_id)
            payout = {
                "id": objects._random_id("po_", 24),
                "object": "payout",
                "amount": amount,
                "arrival_date": arrival_date if arrival_date is not None else objects.now(),
                "currency": _currency(account, currency),
                "method": method,
                "status": status,
            }
            self.payouts.setdefault(acct_id, []).insert(0, payout)
            return dict(payout)

    # -- events ------------------------------------------------------------------
    def build_event(
        self,
        type: str,
        *,
        account: str | None = None,
        data_object: dict[str, Any] | None = None,
        previous_attributes: dict[str, Any] | None = None,
        created: int | None = None,
        livemode: bool = False,
        id: str | None = None,
        capability: str | None = None,
    ) -> dict[str, Any]:
        """An event built from the fake's state; also served at ``/v1/events/{id}``.

        ``account.updated``: the stored account; ``account.application.*``: this
        platform's ``application``; ``capability.updated``: the ``capability``
        (first one of the account unless named). Other types need ``data_object``.
        """
        if data_object is None:
            data_object = self._event_object(type, account, capability)
        event = objects.build_event(
            type,
            data_object,
            account=account,
            previous_attributes=previous_attributes,
            created=created,
            livemode=livemode,
            event_id=id,
        )
        with self.lock:
            self.events[event["id"]] = event
        return copy.deepcopy(event)

    def _event_object(
        self, type_: str, account: str | None, capability: str | None
    ) -> dict[str, Any]:
        if type_.startswith("account.application."):
            return objects.application(self.client_id)
        if account is None:
            raise FakeStripeError(f"{type_}: pass account= or data_object=")
        with self.lock:
            # Snapshot (v1) events show a v2 account in v1 shape, as Stripe does.
            stored = objects_v2.as_v1(self.account(account))
            if type_.startswith("account."):
                return copy.deepcopy(stored)
            if type_.startswith("capability."):
                name = capability or next(iter(stored["capabilities"]), "transfers")
                return objects.capability(stored, name)
        raise FakeStripeError(f"No default data.object for {type_}: pass data_object=")

    def build_thin_event(
        self,
        type: str,
        *,
        account: str | None = None,
        created: float | None = None,
        livemode: bool = False,
        id: str | None = None,
        use_case: str = "account_onboarding",
        capability: str | None = None,
        context: str | None = None,
    ) -> dict[str, Any]:
        """A thin event notification (``object: "v2.core.event"``) for an event
        destination, built from the fake's state; the full event is served at
        ``/v2/core/events/{id}``. Sign and post it with `signed` / `post_event`.

        ``v2.core.account...`` types point at the account (``related_object``);
        ``v2.core.account_link.returned`` carries it in the fetched event's
        ``data`` (``account_id``, ``configurations``, ``use_case``); a
        ``...capability_status_updated`` event names the ``capability`` in its
        ``data.updated_capability`` (default: the configuration's one the app requests).
        ``context``: the account the event happened in (``null`` by default: the platform).
        """
        notification = objects_v2._thin_event(
            type, account=account, created=created, event_id=id, livemode=livemode,
            context=context,
        )
        data: dict[str, Any] | None = None
        if type.startswith("v2.core.account_link.") and account is not None:
            with self.lock:
                applied = list(self.account(account)["applied_configurations"])
            data = {"account_id": account, "configurations": applied, "use_case": use_case}
        elif type.endswith("].capability_status_updated"):
            default = "card_payments" if "merchant" in type else "stripe_balance.stripe_transfers"
            data = {"updated_capability": capability or default}
        with self.lock:
            self.thin_events[notification["id"]] = objects_v2._full_event(notification, data)
        return copy.deepcopy(notification)


def _currency(account: dict[str, Any], currency: str | None) -> str:
    """``currency``, else the account's default one (USD if it has none), lower case."""
    return (currency or account.get("default_currency") or "usd").lower()
