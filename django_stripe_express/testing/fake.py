"""``FakeStripe``: a local Stripe that the real ``stripe`` library talks to over HTTP.

Tests point ``stripe.StripeClient`` at ``fake.url`` through ``base_addresses``
and drive the fake's state directly (create accounts, finish onboarding, plan
failures) without patching the ``stripe`` module.
"""

from __future__ import annotations

import contextlib
import copy
import threading
import time
from collections.abc import Iterator
from typing import Any

from . import events, objects
from .state import Failure, FakeState, Grant, RecordedRequest

SECRET_KEY = "sk_test_fake"
CLIENT_ID = "ca_fake"
WEBHOOK_SECRET = "whsec_fake"

_DEFAULT_MESSAGES = {
    401: "Invalid API Key provided.",
    402: "Your card was declined.",
    403: "The provided key does not have access to this resource.",
    404: "Unrecognized request URL.",
    409: "Another request is modifying this object; please retry.",
    429: "Request rate limit exceeded. Learn more about rate limits here "
    "https://stripe.com/docs/rate-limits.",
    500: "An unknown error occurred",
}


class FakeStripeError(Exception):
    """Misuse of the fake from a test, e.g. an unknown account id."""


def normalize_capabilities(value: Any) -> dict[str, str]:
    """Accept ``{"transfers": "active"}`` or the API's ``{"transfers": {"requested": True}}``."""
    result: dict[str, str] = {}
    for name, spec in (value or {}).items():
        if isinstance(spec, dict):
            if str(spec.get("requested", "true")).lower() in {"true", "1"}:
                result[name] = "inactive"
        elif isinstance(spec, bool):
            if spec:
                result[name] = "inactive"
        else:
            result[name] = str(spec)
    return result


def _error_body(
    endpoint: str, status: int, error: dict[str, Any] | None, code: str | None, message: str | None
) -> dict[str, Any]:
    if error is not None:
        if "error" in error:
            return error
        return {"error": error}
    if "/oauth" in endpoint:
        oauth_code = code or ("invalid_client" if status == 401 else "invalid_request")
        return objects.oauth_error(oauth_code, message or f"Forced error: {oauth_code}")
    if status == 429:
        code = code or "rate_limit"
    type_ = {402: "card_error", 500: "api_error"}.get(status, "invalid_request_error")
    if status == 402:
        code = code or "card_declined"
    text = message or _DEFAULT_MESSAGES.get(status, "Forced error from the fake Stripe.")
    return objects.api_error(text, type_=type_, code=code)


class FakeStripe:
    """A running fake: HTTP server, state and the controls tests use."""

    #: Seconds an OAuth authorization code stays valid.
    code_ttl: float = 300
    #: Seconds an Account Link or login link stays valid.
    link_ttl: float = 300
    #: Stripe refuses login links until the account has submitted its details.
    login_links_require_onboarding: bool = True

    def __init__(
        self,
        secret_key: str = SECRET_KEY,
        client_id: str = CLIENT_ID,
        webhook_secret: str = WEBHOOK_SECRET,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        self.secret_key = secret_key
        self.client_id = client_id
        self.webhook_secret = webhook_secret
        self.host = host
        self.port = port
        self.state = FakeState()
        self._server: Any = None
        self._thread: threading.Thread | None = None

    # -- lifecycle -----------------------------------------------------------

    def start(self) -> FakeStripe:
        """Listen on ``host:port`` (port 0: any free port) in a daemon thread."""
        from .server import FakeStripeServer

        if self._server is not None:
            return self
        self._server = FakeStripeServer((self.host, self.port), self)
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
        """Forget accounts, codes, links, planned failures and the request log."""
        self.state.reset()

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

    def settings(self) -> dict[str, Any]:
        """Keys to merge into ``settings.STRIPE_EXPRESS`` so the app talks to this fake."""
        return {
            "API_BASE": self.api_base,
            "CONNECT_BASE": self.connect_base,
            "SECRET_KEY": self.secret_key,
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

    # -- accounts ------------------------------------------------------------

    def _account(self, acct_id: str) -> dict[str, Any]:
        try:
            return self.state.accounts[acct_id]
        except KeyError:
            raise FakeStripeError(f"No such account in the fake: {acct_id!r}") from None

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
            capabilities=normalize_capabilities(
                fields.pop("capabilities", {"transfers": "inactive"})
            ),
            metadata=fields.pop("metadata", None),
            created=fields.pop("created", None),
        )
        objects.deep_merge(account, fields)
        with self.state.lock:
            self.state.accounts[account["id"]] = account
            return copy.deepcopy(account)

    def update_account(self, acct_id: str, **fields: Any) -> dict[str, Any]:
        """Deep-merge ``fields`` into the stored account; return a copy."""
        with self.state.lock:
            account = self._account(acct_id)
            if "capabilities" in fields:
                fields["capabilities"] = normalize_capabilities(fields["capabilities"])
            objects.deep_merge(account, fields)
            return copy.deepcopy(account)

    def complete_onboarding(self, acct_id: str) -> dict[str, Any]:
        """Make the account fully enabled, as after a finished hosted onboarding."""
        with self.state.lock:
            account = self._account(acct_id)
            account["details_submitted"] = True
            account["charges_enabled"] = True
            account["payouts_enabled"] = True
            account["business_type"] = account["business_type"] or "individual"
            account["requirements"] = objects.requirements()
            account["future_requirements"] = objects.requirements()
            names = account["capabilities"] or ["transfers"]
            account["capabilities"] = dict.fromkeys(names, "active")
            if account["tos_acceptance"].get("date") is None:
                account["tos_acceptance"].update(date=objects.now(), ip="127.0.0.1")
            return copy.deepcopy(account)

    def require_verification(
        self,
        acct_id: str,
        fields: list[str] | None = None,
        disabled_reason: str = "requirements.past_due",
    ) -> dict[str, Any]:
        """Restrict the account: ``fields`` past due, charges and payouts disabled."""
        due = list(fields or ["individual.verification.document"])
        with self.state.lock:
            account = self._account(acct_id)
            account["charges_enabled"] = False
            account["payouts_enabled"] = False
            account["requirements"] = objects.requirements(
                due, past_due=due, disabled_reason=disabled_reason
            )
            account["capabilities"] = dict.fromkeys(account["capabilities"], "inactive")
            return copy.deepcopy(account)

    def issue_code(
        self, stripe_user_id: str | None = None, *, complete: bool = True, **account_fields: Any
    ) -> str:
        """An OAuth code, as if the user had just finished the hosted page."""
        with self.state.lock:
            if stripe_user_id is None:
                stripe_user_id = self.create_account(**account_fields)["id"]
            elif account_fields:
                self.update_account(stripe_user_id, **account_fields)
            if complete:
                self.complete_onboarding(stripe_user_id)
            return self.new_code(stripe_user_id)

    def new_code(self, acct_id: str) -> str:
        code = objects.random_id("ac_", 32)
        with self.state.lock:
            self.state.codes[code] = Grant(acct_id, time.time())
        return code

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
    ) -> None:
        """Answer the next ``times`` requests to ``endpoint`` with a Stripe error.

        ``endpoint`` is a path prefix, optionally with a method: ``"/v1/accounts"``,
        ``"POST /v1/account_links"``, ``"/oauth/token"``. ``error`` is either the
        whole body or the inner ``error`` hash; otherwise one is built from
        ``code``/``message`` in the format of that endpoint (OAuth or ``/v1``).
        """
        body = _error_body(endpoint, status, error, code, message)
        with self.state.lock:
            self.state.failures.append(Failure(endpoint, times, status=status, body=body))

    def delay_next(self, endpoint: str, seconds: float, times: int = 1) -> None:
        """Hold the next matching responses ``seconds`` (then answer normally)."""
        with self.state.lock:
            self.state.delays.append(Failure(endpoint, times, delay=seconds))

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
            return objects.application(self.client_id)
        if account is None:
            raise FakeStripeError(f"{type_}: pass account= or data_object=")
        with self.state.lock:
            stored = self._account(account)
            if type_.startswith("account."):
                return copy.deepcopy(stored)
            if type_.startswith("capability."):
                name = capability or next(iter(stored["capabilities"]), "transfers")
                return objects.capability(stored, name)
        raise FakeStripeError(f"No default data.object for {type_}: pass data_object=")

    def signed(
        self,
        event_or_payload: dict[str, Any] | str | bytes,
        secret: str | None = None,
        timestamp: int | None = None,
    ) -> tuple[str, str]:
        """``(payload, Stripe-Signature header)`` as Stripe would deliver them."""
        payload = events.to_payload(event_or_payload)
        return payload, events.signature_header(payload, secret or self.webhook_secret, timestamp)

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

        A URL gives an ``events.Delivery`` (``status_code``, ``content``); a client
        gives its response. For a client, ``path`` defaults to the app's webhook URL.
        """
        payload, header = self.signed(event, secret, timestamp)
        if isinstance(target, str):
            return events.post_to_url(target, payload, header)
        if path is None:
            from django.urls import reverse

            path = reverse("stripe_express:webhook")
        return target.post(
            path, data=payload, content_type="application/json", HTTP_STRIPE_SIGNATURE=header
        )
