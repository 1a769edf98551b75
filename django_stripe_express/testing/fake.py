"""``FakeStripe``: a local Stripe that the real ``stripe`` library talks to over HTTP.

Tests point ``stripe.StripeClient`` at ``fake.url`` through ``base_addresses``
and drive the fake's state directly (create accounts, finish onboarding, plan
failures) without patching the ``stripe`` module.
"""

from __future__ import annotations

import contextlib
import copy
import threading
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

from ..conf import _FAKE_CLIENT_ID, _FAKE_WEBHOOK_SECRET
from . import events, objects, objects_v2, planned_errors
from .connect_js import SCRIPT_PATH
from .embedded_state import PUBLISHABLE_KEY, SessionGrant
from .forwarding import Forwarder
from .state import Failure, FakeState, FakeStripeError, RecordedRequest

SECRET_KEY = "sk_test_fake"
CLIENT_ID = _FAKE_CLIENT_ID
WEBHOOK_SECRET = _FAKE_WEBHOOK_SECRET
__all__ = ["CLIENT_ID", "PUBLISHABLE_KEY", "SECRET_KEY", "WEBHOOK_SECRET", "FakeStripe"]

class FakeStripe:
    """A running fake: HTTP server, state and the controls tests use."""

    def __init__(
        self,
        secret_key: str = SECRET_KEY,
        client_id: str = CLIENT_ID,
        webhook_secret: str = WEBHOOK_SECRET,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        self.host = host
        self.port = port
        self.state = FakeState(
            secret_key=secret_key, client_id=client_id, webhook_secret=webhook_secret
        )
        self._server: Any = None
        self._thread: threading.Thread | None = None
        #: Sends each change of an account to a webhook URL, once `forward_to` is called.
        self.forwarder = Forwarder(self)
        self.state.forwarder = self.forwarder

    # -- lifecycle -----------------------------------------------------------

    def start(self) -> FakeStripe:
        """Listen on ``host:port`` (port 0: any free port) in a daemon thread."""
        from .server import FakeStripeServer

        if self._server is not None:
            return self
        self._server = FakeStripeServer((self.host, self.port), self.state)
        self.port = self._server.server_address[1]
        self.state.url = self.url
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},  # so stop() returns quickly
            name=f"fake-stripe-{self.port}",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self.forwarder.stop()
        if self._server is None:
            return
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server = None
        self._thread = None

    def __enter__(self) -> FakeStripe:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def reset(self) -> None:
        """Forget accounts, codes, links, planned failures and the request log; stop forwarding."""
        self.forwarder.stop()
        self.forwarder.forget()
        self.state.reset()

    # -- forwarding events, as `stripe listen --forward-to` -------------------

    def forward_to(self, url: str, *, retries: int = 2, backoff: float = 0.5) -> Forwarder:
        """POST every later change of an account to ``url``, as the events Stripe sends.

        ``url`` is the webhook's full URL (``http://127.0.0.1:8000/stripe/webhook/``).
        Each change, whoever makes it, becomes ``account.updated``,
        ``capability.updated`` or ``account.application.deauthorized``, signed
        with the webhook secret and posted from a background thread (see
        `forwarding`); a delivery without a 2xx answer is tried ``retries``
        more times. ``forwarder.deliveries`` says what happened,
        ``forwarder.wait()`` waits for the queue to empty.
        """
        self.forwarder.start(url, retries=retries, backoff=backoff)
        return self.forwarder

    def stop_forwarding(self) -> None:
        self.forwarder.stop()

    def trigger(
        self,
        type: str,
        *,
        account: str,
        capability: str | None = None,
        url: str | None = None,
    ) -> tuple[dict[str, Any], str | None]:
        """Build ``type`` for ``account`` from the fake's state and send it now.

        A snapshot event (`build_event`), or a thin one for a ``v2.`` type
        (`build_thin_event`). To ``url``, or to the forwarding URL;
        ``(event, where it went)``, where is None when there is nowhere to send it.
        """
        if type.startswith("v2."):
            event = self.build_thin_event(type, account=account, capability=capability)
        else:
            event = self.build_event(type, account=account, capability=capability)
        return event, self.forwarder.send(event, url)

    # -- configuration (kept on the state, where the endpoints read it) ------

    @property
    def secret_key(self) -> str:
        return self.state.secret_key

    @property
    def client_id(self) -> str:
        return self.state.client_id

    @property
    def webhook_secret(self) -> str:
        return self.state.webhook_secret

    @property
    def code_ttl(self) -> float:
        """Seconds an OAuth authorization code stays valid."""
        return self.state.code_ttl

    @code_ttl.setter
    def code_ttl(self, seconds: float) -> None:
        self.state.code_ttl = seconds

    @property
    def link_ttl(self) -> float:
        """Seconds an Account Link or login link stays valid."""
        return self.state.link_ttl

    @link_ttl.setter
    def link_ttl(self, seconds: float) -> None:
        self.state.link_ttl = seconds

    @property
    def idempotency_ttl(self) -> float:
        """Seconds an idempotency key's saved answer is replayed (Stripe: 24 hours)."""
        return self.state.idempotency_ttl

    @idempotency_ttl.setter
    def idempotency_ttl(self, seconds: float) -> None:
        self.state.idempotency_ttl = seconds

    @property
    def login_links_require_onboarding(self) -> bool:
        """Stripe refuses login links until the account has submitted its details."""
        return self.state.login_links_require_onboarding

    @login_links_require_onboarding.setter
    def login_links_require_onboarding(self, value: bool) -> None:
        self.state.login_links_require_onboarding = value

    @property
    def publishable_key(self) -> str:
        """The one publishable key the stand-in Connect.js accepts."""
        return self.state.embedded.publishable_key

    @publishable_key.setter
    def publishable_key(self, key: str) -> None:
        self.state.embedded.publishable_key = key

    @property
    def session_ttl(self) -> float:
        """Seconds an Account Session's client secret stays claimable."""
        return self.state.embedded.session_ttl

    @session_ttl.setter
    def session_ttl(self, seconds: float) -> None:
        self.state.embedded.session_ttl = seconds

    # -- addresses and settings ----------------------------------------------

    @property
    def url(self) -> str:
        host = "127.0.0.1" if self.host in {"", "0.0.0.0"} else self.host
        return f"http://{host}:{self.port}"

    @property
    def api_base(self) -> str:
        return self.url

    @property
    def connect_base(self) -> str:
        return self.url

    @property
    def connect_js_url(self) -> str:
        """The stand-in Connect.js (``CONNECT_JS_URL``)."""
        return self.url + SCRIPT_PATH

    def settings(self) -> dict[str, Any]:
        """Keys to merge into ``settings.STRIPE_EXPRESS`` so the app talks to this fake."""
        return {
            "API_BASE": self.api_base,
            "CONNECT_BASE": self.connect_base,
            "CONNECT_JS_URL": self.connect_js_url,
            "SECRET_KEY": self.secret_key,
            "PUBLISHABLE_KEY": self.publishable_key,
            "CLIENT_ID": self.client_id,
            "WEBHOOK_SECRETS": [self.webhook_secret],
            "MAX_NETWORK_RETRIES": 0,
            "TIMEOUT": 2,
        }

    # -- inspection ----------------------------------------------------------

    @property
    def accounts(self) -> dict[str, dict[str, Any]]:
        """The live account store, id -> account (mutations are visible to the API)."""
        return self.state.accounts

    @property
    def requests(self) -> list[RecordedRequest]:
        with self.state.lock:
            return list(self.state.requests)

    def requests_to(self, path: str, method: str | None = None) -> list[RecordedRequest]:
        """Received requests whose path starts with ``path`` (and match ``method``)."""
        return [
            r
            for r in self.requests
            if r.path.startswith(path) and (method is None or r.method == method.upper())
        ]

    @property
    def authorizations(self) -> list[dict[str, Any]]:
        """What each OAuth page submission carried (client_id, stripe_user, ...)."""
        with self.state.lock:
            return copy.deepcopy(self.state.authorizations)

    def is_deauthorized(self, acct_id: str) -> bool:
        return acct_id in self.state.deauthorized

    def deauthorize(self, acct_id: str) -> None:
        """The platform loses access, as when the user disconnects it on Stripe.

        From now on every call for this account answers 403 ``account_invalid``,
        as for a deleted one (``del fake.accounts[acct_id]``). Deliver
        ``build_event("account.application.deauthorized", account=...)`` for the
        webhook Stripe sends at the same time.
        """
        self.state.deauthorize(acct_id)

    # -- accounts ------------------------------------------------------------

    def create_account(self, **fields: Any) -> dict[str, Any]:
        """Store a new account (not onboarded unless ``fields`` say so); return a copy.

        Known keywords: ``id``, ``type``, ``country``, ``email``, ``business_type``,
        ``capabilities`` (name -> status), ``metadata``, ``created``; anything else
        is deep-merged into the account, e.g. ``charges_enabled=True``.
        """
        return self.state.create_account(**fields)

    def create_v2_account(self, **fields: Any) -> dict[str, Any]:
        """Store a new Accounts v2 account, not onboarded; return a copy (the whole object).

        Keywords: ``account_id``, ``contact_email``, ``display_name``, ``country``,
        ``entity_type``, ``responsibilities``, ``dashboard`` (``"express"``),
        ``recipient`` (True: ``stripe_balance.stripe_transfers`` requested),
        ``merchant`` (``card_payments`` requested), ``metadata``, ``currency``,
        ``created`` (a Unix timestamp).
        """
        return self.state.create_v2_account(**fields)

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
        return self.state.set_capability(acct_id, name, status, code, resolution)

    def set_requirements(self, acct_id: str, entries: list[dict[str, Any]]) -> dict[str, Any]:
        """Replace a v2 account's requirement entries (build them with
        `objects_v2.entry`); return a copy of the account."""
        return self.state.set_requirements(acct_id, entries)

    def close_account(self, acct_id: str) -> dict[str, Any]:
        """Close a v2 account, as Stripe or the platform (``/close``) does; return a copy."""
        return self.state.close_account(acct_id)

    def update_account(self, acct_id: str, **fields: Any) -> dict[str, Any]:
        """Deep-merge ``fields`` into the stored account; return a copy."""
        return self.state.update_account(acct_id, **fields)

    def complete_onboarding(self, acct_id: str) -> dict[str, Any]:
        """Make the account fully enabled, as after a finished hosted onboarding."""
        return self.state.complete_onboarding(acct_id)

    def submit_for_verification(
        self, acct_id: str, fields: list[str] | None = None
    ) -> dict[str, Any]:
        """Onboarding submitted, Stripe still verifying ``fields`` (``pending_verification``)."""
        return self.state.submit_for_verification(acct_id, fields)

    def start_review(self, acct_id: str, fields: list[str] | None = None) -> dict[str, Any]:
        """Onboarding submitted, then a review: ``disabled_reason: other``, ``fields`` past due."""
        return self.state.start_review(acct_id, fields)

    def require_verification(
        self,
        acct_id: str,
        fields: list[str] | None = None,
        disabled_reason: str = "requirements.past_due",
    ) -> dict[str, Any]:
        """Restrict the account: ``fields`` past due, charges and payouts disabled."""
        return self.state.require_verification(acct_id, fields, disabled_reason)

    def require_by(
        self, acct_id: str, fields: list[str], deadline: int, *, future: bool = False
    ) -> dict[str, Any]:
        """Stripe asks for ``fields`` by ``deadline`` (Unix time); the account stays enabled.

        ``future=True`` puts them in ``future_requirements`` (new rules that
        take effect at ``deadline``) rather than ``requirements``. A v2 account
        gets requirement entries ``currently_due`` (``eventually_due`` when
        ``future``) and the deadline in ``summary.minimum_deadline.time``.
        """
        return self.state.require_by(acct_id, fields, deadline, future=future)

    def issue_code(
        self, stripe_user_id: str | None = None, *, complete: bool = True, **account_fields: Any
    ) -> str:
        """An OAuth code, as if the user had just finished the hosted page."""
        return self.state.issue_code(stripe_user_id, complete=complete, **account_fields)

    def new_code(self, acct_id: str) -> str:
        return self.state.new_code(acct_id)

    # -- embedded components -------------------------------------------------

    def account_sessions(self, acct_id: str | None = None) -> list[SessionGrant]:
        """The Account Sessions created (for ``acct_id`` only, if given), oldest first."""
        with self.state.lock:
            grants = list(self.state.embedded.sessions.values())
        return [copy.copy(g) for g in grants if acct_id is None or g.account_id == acct_id]

    def set_balance(
        self, acct_id: str, *, available: int = 0, pending: int = 0, currency: str | None = None
    ) -> None:
        """What the balances and payouts components show (amounts in cents)."""
        with self.state.lock:
            account = self.state.account(acct_id)
            self.state.embedded.set_balance(account, available, pending, currency)

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
        with self.state.lock:
            account = self.state.account(acct_id)
            return self.state.embedded.add_payout(
                account, amount, status=status, method=method, arrival_date=arrival_date,
                currency=currency,
            )

    # -- failures ------------------------------------------------------------

    def fail_next(
        self,
        endpoint: str,
        *,
        status: int = 400,
        error: dict[str, Any] | None = None,
        code: str | None = None,
        message: str | None = None,
        times: int = 1,
        saved: bool | None = None,
    ) -> None:
        """Answer the next ``times`` requests to ``endpoint`` with a Stripe error.

        ``endpoint`` is a path prefix, optionally with a method: ``"/v1/accounts"``,
        ``"POST /v1/account_links"``, ``"/oauth/token"``. ``error`` is either the
        whole body or the inner ``error`` hash; otherwise one is built from
        ``code``/``message`` in the format of that endpoint (OAuth or ``/v1``).

        ``saved``: whether the failure happened once the endpoint was executing,
        so that Stripe saves it for the request's idempotency key and replays it
        (with ``Stripe-Should-Retry: false`` for a 5xx). By default, as Stripe:
        5xx and 402 answers are saved, other 4xx answers are not.
        """
        body = planned_errors.error_body(endpoint, status, error, code, message)
        if saved is None:
            saved = status >= 500 or status == 402
        plan = Failure(endpoint, times, status=status, body=body, saved=saved)
        with self.state.lock:
            self.state.failures.append(plan)

    def delay_next(
        self,
        endpoint: str,
        seconds: float,
        times: int = 1,
        *,
        executing: bool = False,
        answer: bool = False,
    ) -> None:
        """Hold the next matching requests ``seconds``, then answer normally.

        By default the request reaches Stripe late (a slow network). With
        ``executing=True`` Stripe is slow to execute it: its idempotency key is
        in use meanwhile, so a request with the same key gets a 409
        ``idempotency_key_in_use``. With ``answer=True`` Stripe reads its state
        at once and the answer arrives late: what it says may be out of date
        by the time it arrives.
        """
        with self.state.lock:
            self.state.delays.append(
                Failure(endpoint, times, delay=seconds, executing=executing, answer=answer)
            )

    @contextlib.contextmanager
    def _refusing(self, previous: bool) -> Iterator[None]:
        try:
            yield
        finally:
            self.state.refusing = previous

    def refuse_connections(self, refuse: bool = True) -> contextlib.AbstractContextManager[None]:
        """Close every connection without answering, from now on.

        Returns a context manager that restores the previous behaviour on exit:
        ``with fake.refuse_connections(): ...``; or call ``refuse_connections(False)``.
        """
        previous = self.state.refusing
        self.state.refusing = refuse
        return self._refusing(previous)

    # -- events --------------------------------------------------------------

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
        event = events.build_event(
            type,
            data_object,
            account=account,
            previous_attributes=previous_attributes,
            created=created,
            livemode=livemode,
            event_id=id,
        )
        with self.state.lock:
            self.state.events[event["id"]] = event
        return copy.deepcopy(event)

    def _event_object(
        self, type_: str, account: str | None, capability: str | None
    ) -> dict[str, Any]:
        if type_.startswith("account.application."):
            return objects.application(self.state.client_id)
        if account is None:
            raise FakeStripeError(f"{type_}: pass account= or data_object=")
        with self.state.lock:
            # Snapshot (v1) events show a v2 account in v1 shape, as Stripe does.
            stored = objects_v2.as_v1(self.state.account(account))
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
    ) -> dict[str, Any]:
        """A thin event notification (``object: "v2.core.event"``) for an event
        destination, built from the fake's state; the full event is served at
        ``/v2/core/events/{id}``. Sign and post it with `signed` / `post_event`.

        ``v2.core.account...`` types point at the account (``related_object``);
        ``v2.core.account_link.returned`` carries it in the fetched event's
        ``data`` (``account_id``, ``configurations``, ``use_case``); a
        ``...capability_status_updated`` event names the ``capability`` in its
        ``data.updated_capability`` (default: the configuration's one the app requests).
        """
        notification = objects_v2.thin_event(
            type, account=account, created=created, event_id=id, livemode=livemode
        )
        data: dict[str, Any] | None = None
        if type.startswith("v2.core.account_link.") and account is not None:
            with self.state.lock:
                applied = list(self.state.account(account)["applied_configurations"])
            data = {"account_id": account, "configurations": applied, "use_case": use_case}
        elif type.endswith("].capability_status_updated"):
            default = "card_payments" if "merchant" in type else "stripe_balance.stripe_transfers"
            data = {"updated_capability": capability or default}
        with self.state.lock:
            self.state.thin_events[notification["id"]] = objects_v2.full_event(notification, data)
        return copy.deepcopy(notification)

    def signed(
        self,
        event_or_payload: dict[str, Any] | str | bytes,
        secret: str | None = None,
        timestamp: int | None = None,
    ) -> tuple[str, str]:
        """``(payload, Stripe-Signature header)`` as Stripe would deliver them."""
        payload = events.to_payload(event_or_payload)
        secret = secret or self.state.webhook_secret
        return payload, events.signature_header(payload, secret, timestamp)

    def deliver(
        self,
        target: Any,
        event: dict[str, Any] | str | bytes,
        secret: str | None = None,
        *,
        path: str | None = None,
        timestamp: int | None = None,
    ) -> Any:
        """`post_event`, then run what the delivery left for the commit: the signals.

        The webhook sends its signals (``account_updated``, ``webhook_event``...)
        once its database transaction commits. A test's own transaction never
        commits, so with ``post_event`` and a test client the receivers see
        nothing. With a test client this wraps the delivery in Django's
        ``TestCase.captureOnCommitCallbacks(execute=True)`` on the app's
        database, so they run as in production, before this returns. A URL
        target is a server with transactions of its own: a plain `post_event`.
        """
        if isinstance(target, str):
            return self.post_event(target, event, secret, timestamp=timestamp)
        from django.test import TestCase

        from ..models import database_alias

        with TestCase.captureOnCommitCallbacks(using=database_alias(), execute=True):
            return self.post_event(target, event, secret, path=path, timestamp=timestamp)

    def post_event(
        self,
        target: Any,
        event: dict[str, Any] | str | bytes,
        secret: str | None = None,
        *,
        path: str | None = None,
        timestamp: int | None = None,
    ) -> Any:
        """Deliver a signed event to a URL (urllib) or a Django test ``Client``.

        A URL must be the webhook's full URL (``http://127.0.0.1:8000/stripe/webhook/``)
        and gives an ``events.Delivery`` (``status_code``, ``content``); a client
        gives its response. For a client, ``path`` defaults to the app's webhook URL.
        In a test, `deliver` also runs the signals the webhook sends on commit.
        """
        payload, header = self.signed(event, secret, timestamp)
        if isinstance(target, str):
            if urlsplit(target).path in ("", "/"):
                # The usual slip: the server's address (live_server.url) instead of
                # the webhook's, which would only answer 404.
                raise FakeStripeError(
                    f"post_event needs the webhook's full URL, e.g. {target.rstrip('/')}"
                    "/stripe/webhook/ (reverse('stripe_express:webhook')), not the site's."
                )
            return events.post_to_url(target, payload, header)
        if path is None:
            from django.urls import reverse

            path = reverse("stripe_express:webhook")
        return target.post(
            path, data=payload, content_type="application/json", HTTP_STRIPE_SIGNATURE=header
        )
