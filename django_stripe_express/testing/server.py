"""The HTTP side: parse requests, apply planned failures, auth and idempotency, route.

One ``ThreadingHTTPServer`` in a daemon thread serves the routes it is given
(`fake.ROUTES`); every step of a request that reads or changes state runs
under the state lock, so concurrent clients see consistent state and
idempotent replays are exact. Planned delays are spent outside it.

Requests reach the endpoints as `state.RecordedRequest` (parameters decoded
from Stripe's bracketed form encoding, ``metadata[plan]=pro`` and
``suggested_capabilities[0]=transfers``, into nested dicts and lists) and
endpoints answer with a `Response`.

Idempotency keys: Stripe (docs.stripe.com/idempotency) saves the status and body of the first
request made with a key once the endpoint began executing, whatever it answered,
a 500 included, and replays them to every request with that key for 24 hours.
The same key with other parameters gets an ``idempotency_error``. Nothing is
saved for a request that failed validation or was refused before the endpoint
ran (rate limits, authentication), nor for one that arrived while another
request with the key was still executing: that one gets a 409
``idempotency_key_in_use`` and may be retried.

stripe-python retries 409s and 5xx answers by itself with the same key; for a
5xx that Stripe saved, retrying only replays it, so such an answer carries
``Stripe-Should-Retry: false`` (as the library expects, see its
``HTTPClient._should_retry``).

``/v2`` keeps only successes: "retries don't repeat successful operations;
Stripe retries failed or partially failed work" (docs.stripe.com/api/idempotent_requests),
so a retry after a failure executes again. The other rules are the same.
"""

from __future__ import annotations

import base64
import json
import logging
import re
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from . import objects
from .state import RecordedRequest, _Replay, _State

_TOKEN = re.compile(r"\[([^\]]*)\]")


def _split(key: str) -> list[str]:
    head, bracket, rest = key.partition("[")
    if not bracket:
        return [key]
    return [head, *_TOKEN.findall("[" + rest)]


def _listify(value: Any) -> Any:
    """Turn dicts keyed only by integers (``a[0]``, ``a[]``) into lists."""
    if not isinstance(value, dict):
        return value
    converted = {k: _listify(v) for k, v in value.items()}
    if converted and all(isinstance(k, str) and k.isdigit() for k in converted):
        return [converted[k] for k in sorted(converted, key=int)]
    return converted


def _decode_pairs(pairs: Iterable[tuple[str, str]]) -> dict[str, Any]:
    """Nest ``(key, value)`` pairs: ``a[b][0]=x`` becomes ``{"a": {"b": ["x"]}}``."""
    root: dict[str, Any] = {}
    for key, value in pairs:
        parts = _split(key)
        node = root
        for part in parts[:-1]:
            child = node.get(part)
            if not isinstance(child, dict):
                child = {}
                node[part] = child
            node = child
        last = parts[-1]
        if last == "":
            last = str(len(node))
        node[last] = value
    return {k: _listify(v) for k, v in root.items()}


def _decode_query(query: str) -> dict[str, Any]:
    """Decode a urlencoded string, keeping blank values (Stripe unsets with ``""``)."""
    return _decode_pairs(parse_qsl(query, keep_blank_values=True))


def _as_list(value: Any) -> list[str]:
    """Read a parameter that may arrive as one value or as a list."""
    if value is None:
        return []
    if isinstance(value, list):
        return [str(v) for v in value]
    return [str(value)]


def _is_url(value: Any) -> bool:
    """An absolute http(s) URL with a host, as Stripe wants ``refresh_url`` / ``return_url``."""
    return isinstance(value, str) and bool(re.match(r"https?://[^\s/]+", value))


def _as_bool(value: Any) -> bool:
    """Stripe's encoder sends booleans as ``"true"`` / ``"false"``."""
    return str(value).lower() in {"true", "1", "on", "yes"}


@dataclass
class Response:
    """What to send back; ``body`` is JSON-encoded when it is a dict."""

    status: int
    body: dict[str, Any] | str = ""
    headers: dict[str, str] = field(default_factory=dict)

    @classmethod
    def json(cls, status: int, body: dict[str, Any]) -> Response:
        return cls(status, body)

    @classmethod
    def html(cls, status: int, text: str) -> Response:
        return cls(status, text, {"Content-Type": "text/html; charset=utf-8"})

    @classmethod
    def redirect(cls, location: str) -> Response:
        return cls(302, "", {"Location": location})

    def encode(self) -> tuple[bytes, str]:
        if isinstance(self.body, dict):
            return json.dumps(self.body, indent=2).encode(), "application/json"
        content_type = self.headers.get("Content-Type", "text/plain; charset=utf-8")
        return self.body.encode(), content_type


#: An endpoint: ``handler(state, request, **url_groups) -> Response``.
Route = Callable[..., Response]
#: The route table: ``(method, path pattern, endpoint)``, first match wins.
_Routes = list[tuple[str, re.Pattern[str], Route]]


logger = logging.getLogger("django_stripe_express.testing")

#: The API's paths: authenticated, idempotent; the rest are hosted pages and OAuth.
_API_PREFIXES = ("/v1/", "/v2/")


class _FakeStripeServer(ThreadingHTTPServer):
    """Serves one fake's state; can drop connections to simulate an outage."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], state: _State, routes: _Routes) -> None:
        self.state = state
        self.routes = routes
        super().__init__(address, _Handler)

    def verify_request(self, request: Any, client_address: Any) -> bool:
        # False makes socketserver close the socket without a reply: the client
        # sees a dropped connection, as when Stripe cannot be reached.
        return not self.state.refusing

    def handle_error(self, request: Any, client_address: Any) -> None:
        # Clients that time out close their end; that is expected, not an error.
        logger.debug("fake Stripe: connection error from %s", client_address, exc_info=True)


class _Handler(BaseHTTPRequestHandler):
    server: _FakeStripeServer
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

    def _read(self) -> RecordedRequest:
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
        return RecordedRequest(
            method=self.command,
            path=parts.path.rstrip("/") or "/",
            query=_decode_pairs(query_pairs),
            form={} if json_body is not None or json_error else _decode_pairs(form_pairs),
            headers=dict(self.headers.items()),
            body=body,
            pairs=query_pairs + form_pairs,
            json_body=json_body,
            json_error=json_error,
        )

    def _serve(self) -> None:
        state = self.server.state
        request = self._read()
        with state.lock:
            state.request_log.append(request)
        # A slow network: the request reaches Stripe late.
        delay = state.take_delay(request.method, request.path, executing=False)
        if delay:
            time.sleep(delay.delay)
        response = dispatch(state, self.server.routes, request)
        if state.take_drop(request.method, request.path):
            # Stripe did the work and saved the answer; the answer is lost on the way.
            self.close_connection = True
            logger.debug("fake Stripe: answer to %s %s dropped", request.method, request.path)
            return
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
            headers = {"Request-Id": objects._random_id("req_", 14), **response.headers}
            headers.pop("Content-Type", None)
            self.send_header("Cache-Control", "no-cache, no-store")
            for name, value in headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(payload)
        except (TimeoutError, BrokenPipeError, ConnectionResetError):
            logger.debug("fake Stripe: client went away before the answer")


def dispatch(state: _State, routes: _Routes, request: RecordedRequest) -> Response:
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
            response = _endpoint(state, routes, request)
            return response if claim is None else finish(state, claim, response)
    finally:
        if claim is not None:
            release(state, claim)


_LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")


def _loopback_name(netloc: str) -> bool:
    host = urlsplit("//" + netloc).hostname or ""
    return host.lower() in _LOOPBACK_HOSTS


def _foreign(request: RecordedRequest) -> Response | None:
    """Refuse what only another site could send.

    The fake listens on this machine: a ``Host`` that is not a loopback name is
    DNS rebinding (a page of another site reading the fake as its own); a
    browser POST whose ``Origin`` is not this machine, or that the browser
    calls ``cross-site``, is another site's form (the control page's buttons,
    ``/fake/trigger``). Tools (curl, the stripe library, the trigger command)
    send neither header.
    """
    host = request.header("host")
    if host and not _loopback_name(host):
        return Response.json(403, {"error": "The fake Stripe answers loopback hosts only."})
    if request.method == "POST":
        origin = request.header("origin")
        if origin and (origin == "null" or not _loopback_name(urlsplit(origin).netloc)):
            return Response.json(403, {"error": "Cross-site requests are refused."})
        if request.header("sec-fetch-site") == "cross-site":
            return Response.json(403, {"error": "Cross-site requests are refused."})
    return None


def _before_endpoint(state: _State, request: RecordedRequest) -> Response | _Claim | None:
    foreign = _foreign(request)
    if foreign is not None:
        return foreign
    failure = state.take_failure(request.method, request.path, saved=False)
    if failure is not None and failure.body is not None:
        return Response.json(failure.status, failure.body)
    if not request.path.startswith(_API_PREFIXES):
        return None
    denied = _authenticate(state, request)
    if denied:
        return denied
    if state.over_rate():
        return _rate_limited()
    key = request.header("idempotency-key")
    if request.method != "POST" or not key:
        return None
    return begin(state, request, key)


def _endpoint(state: _State, routes: _Routes, request: RecordedRequest) -> Response:
    failure = state.take_failure(request.method, request.path, saved=True)
    if failure is not None and failure.body is not None:
        return Response.json(failure.status, failure.body)
    return route(routes, state, request)


def _bearer_key(request: RecordedRequest) -> str | None:
    """The API key from ``Authorization: Bearer`` or Basic auth (``curl -u sk_...:``)."""
    header = request.header("authorization")
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    if scheme.lower() == "basic" and value.strip():
        try:
            return base64.b64decode(value.strip()).decode().partition(":")[0] or None
        except ValueError:
            return None
    return None


def api_error(
    status: int,
    message: str,
    *,
    code: str | None = None,
    param: str | None = None,
    type_: str = "invalid_request_error",
) -> Response:
    """A ``/v1`` error answer."""
    return Response.json(status, objects.api_error(message, type_=type_, code=code, param=param))


def _authenticate(state: _State, request: RecordedRequest) -> Response | None:
    key = _bearer_key(request)
    if not key:
        return api_error(
            401,
            "You did not provide an API key. You need to provide your API "
            "key in the Authorization header, using Bearer auth (e.g. "
            "'Authorization: Bearer YOUR_SECRET_KEY'). See "
            "https://stripe.com/docs/api#authentication for details, or we can "
            "help at https://support.stripe.com/.",
        )
    if key != state.secret_key:
        return api_error(401, f"Invalid API Key provided: {objects._mask_key(key)}")
    return None


def route(routes: _Routes, state: _State, request: RecordedRequest) -> Response:
    for method, pattern, handler in routes:
        match = pattern.fullmatch(request.path)
        if match and method == request.method:
            return handler(state, request, **match.groupdict())
    return api_error(
        404,
        f"Unrecognized request URL ({request.method}: {request.path}). Please "
        "see https://stripe.com/docs or we can help at https://support.stripe.com/.",
    )


Scope = tuple[str, str]  # (Stripe-Account header, key): keys are per account


def _saved_by_stripe(status: int, path: str = "/v1/") -> bool:
    """Whether Stripe keeps an answer: success, or (``/v1``) a failure of the running endpoint.

    4xx answers (but 402, a card declined while executing) come from validation
    and checks made before the endpoint ran.
    """
    if path.startswith("/v2/"):
        return status < 400
    return status < 400 or status == 402 or status >= 500


@dataclass(frozen=True)
class _Claim:
    """A keyed request allowed to execute; `finish` saves its answer."""

    scope: Scope
    fingerprint: tuple[object, ...]
    request_id: str


def begin(state: _State, request: RecordedRequest, key: str) -> Response | _Claim:
    """The saved answer (or a refusal) for a reused key; else a claim to execute.

    Call with ``state.lock`` held.
    """
    scope = (request.header("stripe-account"), key)
    fingerprint = (request.method, request.path, tuple(sorted(request.pairs)))
    stored = state.idempotency.get(scope)
    if stored is not None and time.time() - stored.saved_at > state.idempotency_ttl:
        del state.idempotency[scope]  # pruned after 24 hours: a new request
        stored = None
    if stored is not None:
        if stored.fingerprint != fingerprint:
            return api_error(
                400,
                "Keys for idempotent requests can only be used with the same "
                "parameters they were first used with. Try using a key other than "
                f"'{key}' if you meant to execute a different request.",
                type_="idempotency_error",
            )
        return Response(
            stored.status,
            dict(stored.body),
            {
                "Idempotent-Replayed": "true",
                "Original-Request": stored.request_id,
                "Idempotency-Key": key,
                **_retry_header(stored.status),
            },
        )
    if scope in state.in_flight:
        return api_error(
            409,
            "There is currently another in-progress request using this Idempotent Key "
            "(that probably means you submitted twice, and the other request is still "
            f"going through): {key}. Please try again later.",
            type_="invalid_request_error",
            code="idempotency_key_in_use",
        )
    state.in_flight.add(scope)
    return _Claim(scope, fingerprint, objects._random_id("req_", 14))


def finish(state: _State, claim: _Claim, response: Response) -> Response:
    """Save `response` for the key when Stripe would; release the key.

    Call with ``state.lock`` held.
    """
    state.in_flight.discard(claim.scope)
    path = str(claim.fingerprint[1])
    if _saved_by_stripe(response.status, path) and isinstance(response.body, dict):
        state.idempotency[claim.scope] = _Replay(
            claim.fingerprint, response.status, response.body, claim.request_id, time.time()
        )
        response.headers.update(_retry_header(response.status))
    response.headers.setdefault("Request-Id", claim.request_id)
    response.headers["Idempotency-Key"] = claim.scope[1]
    return response


def release(state: _State, claim: _Claim) -> None:
    """Forget a claim whose request never finished (the handler raised)."""
    with state.lock:
        state.in_flight.discard(claim.scope)


def _rate_limited() -> Response:
    """Stripe's 429 for a key over its rate: refused before the idempotency layer,
    so nothing is saved for the key and the same request may come again.
    ``Retry-After`` is the fake's hint (Stripe does not promise the header)."""
    body = objects.api_error(
        "Request rate limit exceeded. Learn more about rate limits here "
        "https://stripe.com/docs/rate-limits.", type_="invalid_request_error", code="rate_limit")
    return Response(429, body, {"Retry-After": "1"})


def _retry_header(status: int) -> dict[str, str]:
    # A saved server error is replayed as is: retrying it is pointless.
    return {"Stripe-Should-Retry": "false"} if status >= 500 else {}
