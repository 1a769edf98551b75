"""Build Connect events and sign them exactly as Stripe signs webhook deliveries.

Stripe signs ``f"{timestamp}.{payload}"`` with HMAC-SHA256 under the endpoint's
secret and sends ``Stripe-Signature: t=<timestamp>,v1=<hex>``. Tests of a webhook
view need byte-identical payloads and headers, so these helpers work on the
exact string that is posted.
"""

from __future__ import annotations

import copy
import hashlib
import hmac
import json
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from typing import Any

from . import objects

#: The API version stamped on built events; the webhook code must not depend on it.
API_VERSION = "2024-06-20"


def sign_payload(payload: str, secret: str, timestamp: int) -> str:
    """Hex HMAC-SHA256 of ``f"{timestamp}.{payload}"``: Stripe's ``v1`` signature."""
    message = f"{timestamp}.{payload}".encode()
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def signature_header(payload: str, secret: str, timestamp: int | None = None) -> str:
    """The ``Stripe-Signature`` header value for ``payload``: ``t=...,v1=...``."""
    stamp = int(time.time()) if timestamp is None else int(timestamp)
    return f"t={stamp},v1={sign_payload(payload, secret, stamp)}"


def build_event(
    event_type: str,
    data_object: dict[str, Any],
    *,
    account: str | None = None,
    previous_attributes: dict[str, Any] | None = None,
    created: int | None = None,
    livemode: bool = False,
    event_id: str | None = None,
) -> dict[str, Any]:
    """An ``event`` with the top-level keys of a real Connect event."""
    data: dict[str, Any] = {"object": copy.deepcopy(data_object)}
    if previous_attributes is not None:
        data["previous_attributes"] = copy.deepcopy(previous_attributes)
    event: dict[str, Any] = {
        "id": event_id or objects.random_id("evt_", 24),
        "object": "event",
        "account": account,
        "api_version": API_VERSION,
        "created": created if created is not None else objects.now(),
        "data": data,
        "livemode": livemode,
        "pending_webhooks": 1,
        "request": {"id": None, "idempotency_key": None},
        "type": event_type,
    }
    if account is None:
        del event["account"]  # platform events carry no ``account`` key at all
    return event


def to_payload(event_or_payload: dict[str, Any] | str | bytes) -> str:
    """The exact string that gets signed and posted."""
    if isinstance(event_or_payload, bytes):
        return event_or_payload.decode()
    if isinstance(event_or_payload, str):
        return event_or_payload
    return json.dumps(event_or_payload, indent=2)


@dataclass
class Delivery:
    """The answer of a webhook endpoint reached over HTTP."""

    status_code: int
    content: bytes
    headers: dict[str, str] = field(default_factory=dict)

    @property
    def status(self) -> int:
        return self.status_code


def post_to_url(url: str, payload: str, header: str, timeout: float = 10) -> Delivery:
    """POST like Stripe's webhook sender; HTTP errors are returned, not raised."""
    request = urllib.request.Request(
        url,
        data=payload.encode(),
        method="POST",
        headers={
            "Content-Type": "application/json; charset=utf-8",
            "Stripe-Signature": header,
            "User-Agent": "Stripe/1.0 (+https://stripe.com/docs/webhooks)",
        },
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return Delivery(response.status, response.read(), dict(response.headers))
    except urllib.error.HTTPError as error:
        return Delivery(error.code, error.read(), dict(error.headers))
