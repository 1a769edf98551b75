"""``FakeStripe``: a local Stripe that the real ``stripe`` library talks to over HTTP.

Tests point ``stripe.StripeClient`` at ``fake.url`` through ``base_addresses``
and drive the fake's state directly (create accounts, finish onboarding, plan
failures) without patching the ``stripe`` module. A `FakeStripe` is the
fake's `state._State` (its accounts, its settings, the changes Stripe makes)
with an HTTP server serving `ROUTES`, planned failures and webhook helpers.
"""

from __future__ import annotations

import contextlib
import copy
import datetime
import threading
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

from ..conf import _FAKE_CLIENT_ID, _FAKE_WEBHOOK_SECRET
from . import (
    api,
    api_v2,
    control,
    destinations,
    forwarding,
    hosted,
    oauth,
    objects,
    objects_v2,
    payouts,
    transfers,
)
from .hosted import _SCRIPT_PATH
from .server import _FakeStripeServer, _Routes
from .state import PUBLISHABLE_KEY, FakeStripeError, RecordedRequest, _Plan, _SessionGrant, _State

SECRET_KEY = "sk_test_fake"
CLIENT_ID = _FAKE_CLIENT_ID
WEBHOOK_SECRET = _FAKE_WEBHOOK_SECRET
__all__ = ["CLIENT_ID", "PUBLISHABLE_KEY", "ROUTES", "SECRET_KEY", "WEBHOOK_SECRET", "FakeStripe"]

#: Every route the fake serves: what the app calls and docs/testing.md lists
#: (tests/test_fake_routes.py holds the two equal).
ROUTES: _Routes = (
    api.ROUTES + api_v2.ROUTES + transfers.ROUTES + payouts.ROUTES + destinations.ROUTES
    + oauth.ROUTES
    + hosted.ROUTES + control.ROUTES
)


class FakeStripe(_State):
    """A running fake: its state, an HTTP server, and the controls tests use."""

    #: Sends each change of an account to a webhook URL, once `forward_to` is called.
    forwarder: forwarding._Forwarder

    def __init__(
        self,
        secret_key: str = SECRET_KEY,
        client_id: str = CLIENT_ID,
        webhook_secret: str = WEBHOOK_SECRET,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        super().__init__(
            secret_key=secret_key, client_id=client_id, webhook_secret=webhook_secret,
            host=host, port=port,
        )
        self._server: _FakeStripeServer | None = None
        self._thread: threading.Thread | None = None
        self.forwarder = forwarding._Forwarder(self)

    # -- lifecycle -----------------------------------------------------------

    def start(self) -> FakeStripe:
        """Listen on ``host:port`` (port 0: any free port) in a daemon thread."""
        if self._server is not None:
            return self
        self._server = _FakeStripeServer((self.host, self.port), self, ROUTES)
        self.port = self._server.server_address[1]
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
        """Forget accounts, codes, links, planned failures and the request log;
        restore the settings; stop forwarding."""
        self.forwarder.stop()
        self.forwarder.forget()
        super().reset()

    # -- forwarding events, as `stripe listen --forward-to` -------------------

    def forward_to(
        self, url: str, *, retries: int = 2, backoff: float = 0.5
    ) -> forwarding._Forwarder:
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
        return forwarding.trigger(self, type, account=account, capability=capability, url=url)

    # -- addresses and settings ----------------------------------------------

    @property
    def api_base(self) -> str:
        return self.url

    @property
    def connect_base(self) -> str:
        return self.url

    @property
    def connect_js_url(self) -> str:
        """The stand-in Connect.js (``CONNECT_JS_URL``)."""
        return self.url + _SCRIPT_PATH

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
    def requests(self) -> list[RecordedRequest]:
        """The requests received so far, oldest first (a copy)."""
        with self.lock:
            return list(self.request_log)

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
        with self.lock:
            return copy.deepcopy(self.authorization_log)

    def account_sessions(self, acct_id: str | None = None) -> list[_SessionGrant]:
        """The Account Sessions created (for ``acct_id`` only, if given), oldest first."""
        with self.lock:
            grants = list(self.sessions.values())
        return [copy.copy(g) for g in grants if acct_id is None or g.account_id == acct_id]

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
        body = _error_body(endpoint, status, error, code, message)
        if saved is None:
            saved = status >= 500 or status == 402
        plan = _Plan(endpoint, times, status=status, body=body, saved=saved)
        with self.lock:
            self.failures.append(plan)

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
        with self.lock:
            self.delays.append(
                _Plan(endpoint, times, delay=seconds, executing=executing, answer=answer)
            )

    def drop_after_commit(
        self, endpoint: str, times: int = 1, *, chance: float = 1.0, seed: int | None = None
    ) -> None:
        """Run the next ``times`` requests to ``endpoint`` (as `fail_next` names it),
        then close the connection without the answer: Stripe did the work (and saved
        its answer for the idempotency key), the client sees a dropped connection.

        ``chance`` below 1 drops each matching request with that probability
        instead (a flaky network: ``chance=0.05, times=10**9`` drops about one
        answer in twenty, retries included), drawn from ``seed``. `dropped` counts
        the answers dropped."""
        if not 0 < chance <= 1:
            raise ValueError(f"chance is a probability in (0, 1], not {chance!r}")
        with self.lock:
            if seed is not None:
                self.drop_random.seed(seed)
            self.drops.append(_Plan(endpoint, times, chance=chance))

    def limit_rate(self, per_second: float | None) -> None:
        """Answer API requests beyond ``per_second`` in any second with Stripe's 429
        ``rate_limit`` (Stripe: about 100 a second live, 25 in test mode); None or
        0 lifts the limit. `rate_limited` counts the refusals."""
        with self.lock:
            self.rate_limit = per_second or 0
            self.rate_window.clear()

    def forget_idempotency_keys(self) -> None:
        """Stripe pruned every saved key ("24 hours later"): a key used again is new."""
        with self.lock:
            self.idempotency.clear()

    # -- the platform's money ------------------------------------------------------

    def add_funds(self, amount: int, currency: str = "usd", *, pending: bool = False) -> None:
        """Add ``amount`` to the platform's available (or pending) balance."""
        with self.lock:
            funds = transfers.balance_of(self, currency.lower())
            funds["pending" if pending else "available"] += amount

    def make_funds_available(self, currency: str | None = None) -> dict[str, Any]:
        """Pending funds become available; the ``balance.available`` event (kept,
        forwarded when forwarding) is returned to deliver it yourself."""
        with self.lock:
            return transfers.make_funds_available(self, currency)

    def balance(self, currency: str = "usd") -> dict[str, int]:
        """The platform's ``available`` and ``pending`` amounts in ``currency``."""
        with self.lock:
            return dict(transfers.balance_of(self, currency.lower()))

    def succeed_payment_intent(self, intent_id: str) -> list[dict[str, Any]]:
        """The customer pays PaymentIntent ``intent_id`` (made with
        ``POST /v1/payment_intents``): its charge, and with ``transfer_data`` the
        destination's transfer. Returns the events (``transfer.created``,
        ``charge.succeeded``, ``payment_intent.succeeded``), kept and forwarded
        when forwarding, to deliver with `deliver`."""
        with self.lock:
            return transfers.succeed_payment_intent(self, intent_id)

    def charges_made(self) -> list[dict[str, Any]]:
        """The charges made, oldest first."""
        with self.lock:
            return [copy.deepcopy(c) for c in self.charges.values()]

    def transfers_made(self, **filters: Any) -> list[dict[str, Any]]:
        """The transfers made, oldest first (those whose fields equal ``filters``)."""
        with self.lock:
            return [
                copy.deepcopy(t) for t in self.transfers.values()
                if all(t.get(k) == v for k, v in filters.items())
            ]

    # -- connected accounts' payouts -------------------------------------------------

    def create_payout(
        self, acct_id: str, amount: int, currency: str | None = None, *,
        method: str = "standard", automatic: bool = True,
    ) -> dict[str, Any]:
        """A pending payout of the account; returns its ``payout.created`` event
        (kept, forwarded when forwarding). The payout is ``event["data"]["object"]``."""
        with self.lock:
            return payouts.create_payout(self, acct_id, amount, currency, method=method,
                                         automatic=automatic)

    def settle_payout(self, payout_id: str, failure_code: str | None = None) -> dict[str, Any]:
        """The payout is paid, or fails with ``failure_code`` (``payouts.FAILURE_MESSAGES``);
        returns the ``payout.paid`` / ``payout.failed`` event."""
        with self.lock:
            return payouts.settle_payout(self, payout_id, failure_code)

    def run_payout_schedule(
        self, day: datetime.date | None = None, acct_ids: list[str] | None = None
    ) -> list[dict[str, Any]]:
        """Stripe's automatic payouts of ``day`` (today by default): every account (or
        those of ``acct_ids``) with payouts enabled whose schedule pays out that day
        pays out its available balance; returns the ``payout.created`` events."""
        with self.lock:
            return payouts.run_schedule(self, day or datetime.date.today(), acct_ids)

    def update_external_account(self, acct_id: str) -> dict[str, Any]:
        """The user changes their bank account: ``account.external_account.updated``."""
        with self.lock:
            return payouts.external_account_updated(self, acct_id)

    @contextlib.contextmanager
    def _refusing(self, previous: bool) -> Iterator[None]:
        try:
            yield
        finally:
            self.refusing = previous

    def refuse_connections(self, refuse: bool = True) -> contextlib.AbstractContextManager[None]:
        """Close every connection without answering, from now on.

        Returns a context manager that restores the previous behaviour on exit:
        ``with fake.refuse_connections(): ...``; or call ``refuse_connections(False)``.
        """
        previous = self.refusing
        self.refusing = refuse
        return self._refusing(previous)

    # -- the app's side ----------------------------------------------------------

    def connected_account(
        self, user: Any, *, onboarded: bool = True, accounts_api: str = "v2"
    ) -> Any:
        """A user connected as the default flow (Account Links) leaves them, in one line.

        Creates the account here (Accounts v2 unless ``accounts_api="v1"``),
        finishes its onboarding (unless ``onboarded=False``), and stores the
        user's `ExpressAccount` read through the app, as the flow does on the
        user's return. Returns the saved row. Django and the app's settings
        pointed at this fake are needed (the ``fake_stripe`` fixture).
        """
        # Imported here: the fake itself runs without Django (a demo server).
        from ..conf import app_settings
        from ..models import ExpressAccount, Flow, retrieve_account

        email = getattr(user, "email", None) or None
        if accounts_api == "v2":
            data = self.create_v2_account(contact_email=email, recipient=True)
        else:
            data = self.create_account(email=email)
        if onboarded:
            self.complete_onboarding(data["id"])
        account = ExpressAccount(
            user=user, livemode=app_settings.livemode, stripe_id=data["id"],
            accounts_api=accounts_api, connected_via=Flow.ACCOUNT_LINKS,
        )
        account.apply(retrieve_account(data["id"], accounts_api))
        account.save()
        return account

    # -- webhooks --------------------------------------------------------------

    def signed(
        self,
        event_or_payload: dict[str, Any] | str | bytes,
        secret: str | None = None,
        timestamp: int | None = None,
    ) -> tuple[str, str]:
        """``(payload, Stripe-Signature header)`` as Stripe would deliver them."""
        return forwarding.signed(self, event_or_payload, secret, timestamp)

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
        from django.apps import apps
        from django.db import router
        from django.test import TestCase

        # The app's database, as its `models.database_alias` finds it (the app
        # keeps all its models on one database: check E013).
        alias = router.db_for_write(apps.get_model("django_stripe_express", "ExpressAccount"))
        with TestCase.captureOnCommitCallbacks(using=alias, execute=True):
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
        and gives a `Delivery` (``status_code``, ``content``); a client
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
            return forwarding._post_to_url(target, payload, header)
        if path is None:
            from django.urls import reverse

            path = reverse("stripe_express:webhook")
        return target.post(
            path, data=payload, content_type="application/json", HTTP_STRIPE_SIGNATURE=header
        )


_DEFAULT_MESSAGES = {
    401: "Invalid API Key provided.",
    402: "Your card was declined.",
    403: "The provided key does not have access to this resource.",
    404: "Unrecognized request URL.",
    409: "This object cannot be accessed right now because another API request or Stripe "
    "process is currently accessing it. If you see this error intermittently, retry the "
    "request.",
    429: "Request rate limit exceeded. Learn more about rate limits here "
    "https://stripe.com/docs/rate-limits.",
    500: "An unknown error occurred",
}
_FALLBACK_MESSAGE = "Forced error from the fake Stripe."


def _error_body(
    endpoint: str, status: int, error: dict[str, Any] | None, code: str | None, message: str | None
) -> dict[str, Any]:
    """``error`` (the whole body or its inner hash) as a body; else one built from
    ``code`` and ``message`` for ``endpoint``'s family."""
    if error is not None:
        if "error" in error:
            return error
        return {"error": error}
    if "/oauth" in endpoint:
        oauth_code = code or ("invalid_client" if status == 401 else "invalid_request")
        return objects.oauth_error(oauth_code, message or f"Forced error: {oauth_code}")
    text = message or _DEFAULT_MESSAGES.get(status, _FALLBACK_MESSAGE)
    if "/v2/" in endpoint:
        # v2 errors name their kind in `type`: `rate_limit` for 429, as Stripe.
        type_ = {429: "rate_limit", 500: "api_error"}.get(status, "invalid_request_error")
        return objects_v2.error(text, type_=type_, code=code)
    type_ = {402: "card_error", 500: "api_error"}.get(status, "invalid_request_error")
    default_code = {402: "card_declined", 409: "lock_timeout", 429: "rate_limit"}.get(status)
    return objects.api_error(text, type_=type_, code=code or default_code)
