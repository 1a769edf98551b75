"""The HTTP side: parse requests, apply planned failures, auth and idempotency, route.

One ``ThreadingHTTPServer`` in a daemon thread; every step of a request that
reads or changes state runs under the state lock, so concurrent clients see
consistent state and idempotent replays are exact. Planned delays are spent
outside it.
"""

from __future__ import annotations

import json
import logging
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from . import account_sessions, api, connect_js, control, idempotency, oauth, objects, v2
from .params import decode_pairs
from .state import FakeState, RecordedRequest
from .wire import Request, Response

logger = logging.getLogger("django_stripe_express.testing")

ROUTES = (
    api.ROUTES + v2.ROUTES + oauth.ROUTES + account_sessions.ROUTES + connect_js.ROUTES
    + control.ROUTES
)
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
        # A slow network: the request reaches Stripe late.
        delay = state.take_delay(request.method, request.path, executing=False)
        if delay:
            time.sleep(delay.delay)
        response = dispatch(state, request)
        # A slow network back: Stripe has answered, the answer arrives late.
        late = state.take_delay(request.method, request.path, executing=False, answer=True)
        if late:
            time.sleep(late.delay)
        self._send(response)

    def _send(self, response: Response) -> None:
        payload, content_type = response.encode()
        try:
            self.send_response(response.status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(payload)))
            headers = {"Request-Id": objects.random_id("req_", 14), **response.headers}
            headers.pop("Content-Type", None)
            self.send_header("Cache-Control", "no-cache, no-store")
            for name, value in headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(payload)
        except (TimeoutError, BrokenPipeError, ConnectionResetError):
            logger.debug("fake Stripe: client went away before the answer")


def dispatch(state: FakeState, request: Request) -> Response:
    """Answer one request as Stripe's layers would, in their order.

    Planned failures from before the endpoint, authentication, the idempotency
    layer (a saved answer, or the key claimed), then the endpoint: a planned
    failure of its own, or the route. Only the endpoint's part runs with the key
    claimed, so a planned slow execution (`delay_next(executing=True)`) holds it.
    """
    with state.lock:
        early = _before_endpoint(state, request)
    if isinstance(early, Response):
        return early
    claim = early
    try:
        slow = state.take_delay(request.method, request.path, executing=True)
        if slow:
            time.sleep(slow.delay)
        with state.lock:
            response = _endpoint(state, request)
            return response if claim is None else idempotency.finish(state, claim, response)
    finally:
        if claim is not None:
            idempotency.release(state, claim)


def _before_endpoint(state: FakeState, request: Request) -> Response | idempotency.Claim | None:
    failure = state.take_failure(request.method, request.path, saved=False)
    if failure is not None and failure.body is not None:
        return Response.json(failure.status, failure.body)
    if not request.path.startswith(API_PREFIXES):
        return None
    denied = authenticate(state, request)
    if denied:
        return denied
    key = request.headers.get("idempotency-key")
    if request.method != "POST" or not key:
        return None
    return idempotency.begin(state, request, key)


def _endpoint(state: FakeState, request: Request) -> Response:
    failure = state.take_failure(request.method, request.path, saved=True)
    if failure is not None and failure.body is not None:
        return Response.json(failure.status, failure.body)
    return route(state, request)


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
