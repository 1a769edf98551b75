"""``Idempotency-Key`` handling as Stripe's ``/v1`` API does it.

Stripe (docs.stripe.com/idempotency) saves the status and body of the first
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

import time
from dataclasses import dataclass

from . import objects
from .api import error
from .state import FakeState, Replay
from .wire import Request, Response

Scope = tuple[str, str]  # (Stripe-Account header, key): keys are per account


def saved_by_stripe(status: int, path: str = "/v1/") -> bool:
    """Whether Stripe keeps an answer: success, or (``/v1``) a failure of the running endpoint.

    4xx answers (but 402, a card declined while executing) come from validation
    and checks made before the endpoint ran.
    """
    if path.startswith("/v2/"):
        return status < 400
    return status < 400 or status == 402 or status >= 500


@dataclass(frozen=True)
class Claim:
    """A keyed request allowed to execute; `finish` saves its answer."""

    scope: Scope
    fingerprint: tuple[object, ...]
    request_id: str


def begin(state: FakeState, request: Request, key: str) -> Response | Claim:
    """The saved answer (or a refusal) for a reused key; else a claim to execute.

    Call with ``state.lock`` held.
    """
    scope = (request.headers.get("stripe-account", ""), key)
    fingerprint = (request.method, request.path, tuple(sorted(request.pairs)))
    stored = state.idempotency.get(scope)
    if stored is not None and time.time() - stored.saved_at > state.idempotency_ttl:
        del state.idempotency[scope]  # pruned after 24 hours: a new request
        stored = None
    if stored is not None:
        if stored.fingerprint != fingerprint:
            return error(
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
        return error(
            409,
            "There is currently another in-progress request using this Idempotent Key "
            "(that probably means you submitted twice, and the other request is still "
            f"going through): {key}. Please try again later.",
            type_="invalid_request_error",
            code="idempotency_key_in_use",
        )
    state.in_flight.add(scope)
    return Claim(scope, fingerprint, objects.random_id("req_", 14))


def finish(state: FakeState, claim: Claim, response: Response) -> Response:
    """Save `response` for the key when Stripe would; release the key.

    Call with ``state.lock`` held.
    """
    state.in_flight.discard(claim.scope)
    path = str(claim.fingerprint[1])
    if saved_by_stripe(response.status, path) and isinstance(response.body, dict):
        state.idempotency[claim.scope] = Replay(
            claim.fingerprint, response.status, response.body, claim.request_id, time.time()
        )
        response.headers.update(_retry_header(response.status))
    response.headers.setdefault("Request-Id", claim.request_id)
    response.headers["Idempotency-Key"] = claim.scope[1]
    return response


def release(state: FakeState, claim: Claim) -> None:
    """Forget a claim whose request never finished (the handler raised)."""
    with state.lock:
        state.in_flight.discard(claim.scope)


def _retry_header(status: int) -> dict[str, str]:
    # A saved server error is replayed as is: retrying it is pointless.
    return {"Stripe-Should-Retry": "false"} if status >= 500 else {}
