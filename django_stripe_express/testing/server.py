"""The HTTP side: parse requests, apply planned failures, auth and idempotency, route.

One ``ThreadingHTTPServer`` in a daemon thread; every request is handled under
the state lock (after any planned delay), so concurrent clients see consistent
state and idempotent replays are exact.
"""

from __future__ import annotations

import json
import logging
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from . import api, oauth, objects, v2
from .params import decode_pairs
from .state import FakeState, RecordedRequest, Replay
from .wire import Request, Response

logger = logging.getLogger("django_stripe_express.testing")

ROUTES = api.ROUTES + v2.ROUTES + oauth.ROUTES
#: The API's paths: authenticated, idempotent; the rest are hosted pages and OAuth.
API_PREFIXES = ("/v1/", "/v2/")


class FakeStripeServer(ThreadingHTTPServer):
    """Serves one fake's state; can drop connections to simulate an outage."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], state: FakeState) -> None:
        self.state = state
        super().__init__(address, Handler)

    def verify_request(self, request: Any, client_address: Any) -> bool:
        # False makes socketserver close the socket without a reply: the client
        # sees a dropped connection, as when Stripe cannot be reached.
        return not self.state.refusing

    def handle_error(self, request: Any, client_address: Any) -> None:
        # Clients that time out close their end; that is expected, not an error.
        logger.debug("fake Stripe: connection error from %s", client_address, exc_info=True)


class Handler(BaseHTTPRequestHandler):
    server: FakeStripeServer
    server_version = "stripe"
    sys_version = ""

    def log_message(self, format: str, *args: Any) -> None:
        logger.debug("fake Stripe: " + format, *args)

    def do_GET(self) -> None:
        self._serve()

    def do_POST(self) -> None:
        self._serve()

    def do_DELETE(self) -> None:
        self._serve()

    def _read(self) -> Request:
        parts = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length).decode("utf-8", "replace") if length else ""
        query_pairs = parse_qsl(parts.query, keep_blank_values=True)
        form_pairs: list[tuple[str, str]] = []
        json_body: Any = None
        json_error = False
        if "json" in (self.headers.get("Content-Type") or ""):
            # /v2 takes JSON; its canonical form is the idempotency fingerprint.
            try:
                json_body = json.loads(body) if body else None
                form_pairs = [("json", json.dumps(json_body, sort_keys=True))]
            except ValueError:
                json_error = True
                form_pairs = [("json", body)]
        elif self.command == "POST":
            form_pairs = parse_qsl(body, keep_blank_values=True)
        return Request(
            method=self.command,
            path=parts.path.rstrip("/") or "/",
            query=decode_pairs(query_pairs),
            form={} if json_body is not None or json_error else decode_pairs(form_pairs),
            headers={k.lower(): v for k, v in self.headers.items()},
            body=body,
            pairs=query_pairs + form_pairs,
            json_body=json_body,
            json_error=json_error,
        )

    def _serve(self) -> None:
        state = self.server.state
        request = self._read()
        with state.lock:
            state.requests.append(
                RecordedRequest(
                    request.method,
                    request.path,
                    request.query,
                    request.form,
                    dict(self.headers.items()),
                    request.body,
                )
            )
        delay = state.take_delay(request.method, request.path)
        if delay:
            time.sleep(delay.delay)
        with state.lock:
            response = dispatch(state, request)
        self._send(response)

    def _send(self, response: Response) -> None:
        payload, content_type = response.encode()
        try:
            self.send_response(response.status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(payload)))
            self.send_header("Request-Id", objects.random_id("req_", 14))
            self.send_header("Cache-Control", "no-cache, no-store")
            for name, value in response.headers.items():
                if name != "Content-Type":
                    self.send_header(name, value)
            self.end_headers()
            self.wfile.write(payload)
        except (TimeoutError, BrokenPipeError, ConnectionResetError):
            logger.debug("fake Stripe: client went away before the answer")


def dispatch(state: FakeState, request: Request) -> Response:
    """Answer one request: planned failure, then auth, idempotency and the route."""
    failure = state.take_failure(request.method, request.path)
    if failure is not None and failure.body is not None:
        return Response.json(failure.status, failure.body)
    if not request.path.startswith(API_PREFIXES):
        return route(state, request)
    denied = authenticate(state, request)
    if denied:
        return denied
    key = request.headers.get("idempotency-key")
    if request.method != "POST" or not key:
        return route(state, request)
    return idempotent(state, request, key)


def authenticate(state: FakeState, request: Request) -> Response | None:
    key = oauth.bearer_key(request)
    if not key:
        return api.error(
            401,
            "You did not provide an API key. You need to provide your API "
            "key in the Authorization header, using Bearer auth (e.g. "
            "'Authorization: Bearer YOUR_SECRET_KEY'). See "
            "https://stripe.com/docs/api#authentication for details, or we can "
            "help at https://support.stripe.com/.",
        )
    if key != state.secret_key:
        return api.error(401, f"Invalid API Key provided: {objects.mask_key(key)}")
    return None


def idempotent(state: FakeState, request: Request, key: str) -> Response:
    """Replay the stored answer for a reused key; refuse it with other params."""
    scope = (request.headers.get("stripe-account", ""), key)
    fingerprint = (request.method, request.path, tuple(sorted(request.pairs)))
    stored = state.idempotency.get(scope)
    if stored is not None:
        if stored.fingerprint != fingerprint:
            return api.error(
                400,
                "Keys for idempotent requests can only be used with the same "
                "parameters they were first used with. Try using a key other than "
                f"'{key}' if you meant to execute a different request.",
                type_="idempotency_error",
            )
        return Response(
            stored.status,
            dict(stored.body),
            {"Idempotent-Replayed": "true", "Original-Request": "req_replayed"},
        )
    response = route(state, request)
    # Stripe saves a result only once the endpoint began executing: a request
    # that failed validation (4xx here) can be retried with the same key.
    if response.status < 400 and isinstance(response.body, dict):
        state.idempotency[scope] = Replay(fingerprint, response.status, response.body)
    return response


def route(state: FakeState, request: Request) -> Response:
    for method, pattern, handler in ROUTES:
        match = pattern.fullmatch(request.path)
        if match and method == request.method:
            return handler(state, request, **match.groupdict())
    return api.error(
        404,
        f"Unrecognized request URL ({request.method}: {request.path}). Please "
        "see https://stripe.com/docs or we can help at https://support.stripe.com/.",
    )
