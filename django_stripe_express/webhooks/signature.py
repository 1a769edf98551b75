"""Stripe's webhook signature scheme, checked in constant time.

Stripe sends ``Stripe-Signature: t=<unix time>,v1=<hex>[,v1=<hex>...]`` where
each ``v1`` is HMAC-SHA256 of ``b"<t>." + body`` under the endpoint's signing
secret. Several ``v1`` appear while Stripe rolls a secret, and the app accepts
several secrets because a Connect endpoint and a platform endpoint sign with
different ones. Nothing here ever logs or returns a secret or a signature.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Sequence

SCHEME = "v1"


class InvalidWebhook(Exception):
    """A delivery that is not a genuine, well-formed Stripe event: answered with 400.

    ``reason`` is short and safe to send back; ``log_detail`` adds what an
    operator needs (never a secret, a signature or the payload's content).
    """

    def __init__(self, reason: str, log_detail: str = "") -> None:
        super().__init__(reason)
        self.reason = reason
        self.log_detail = log_detail


def parse_header(header: str) -> tuple[int | None, list[str]]:
    """The timestamp and the ``v1`` signatures of a ``Stripe-Signature`` value."""
    timestamp: int | None = None
    signatures: list[str] = []
    for item in header.split(","):
        key, sep, value = item.strip().partition("=")
        if not sep:
            continue
        if key == "t":
            try:
                timestamp = int(value)
            except ValueError:
                timestamp = None
        elif key == SCHEME:
            signatures.append(value)
    return timestamp, signatures


def expected_signature(payload: bytes, secret: str, timestamp: int) -> str:
    message = str(timestamp).encode() + b"." + payload
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def verify_signature(
    payload: bytes,
    header: str | None,
    secrets: Sequence[str],
    tolerance: int,
    now: float | None = None,
) -> None:
    """Raise `InvalidWebhook` naming the failed check unless a secret signed `payload`."""
    if not header:
        raise InvalidWebhook("missing Stripe-Signature header")
    timestamp, signatures = parse_header(header)
    if timestamp is None:
        raise InvalidWebhook("no timestamp in Stripe-Signature header")
    if not signatures:
        raise InvalidWebhook("no v1 signature in Stripe-Signature header")
    if not secrets:
        raise InvalidWebhook(
            "no signature matched",
            log_detail="STRIPE_EXPRESS['WEBHOOK_SECRETS'] is empty: no delivery can be verified",
        )
    if not _any_match(payload, timestamp, signatures, secrets):
        raise InvalidWebhook(
            "no signature matched",
            log_detail=(
                f"no v1 signature matched any of the {len(secrets)} configured "
                "secret(s); Connect endpoints have their own signing secret, distinct "
                "from the platform endpoint's: add it to STRIPE_EXPRESS['WEBHOOK_SECRETS']"
            ),
        )
    # Checked after the signature so the log tells a replay or a skewed clock
    # (genuine but old) apart from a forgery.
    age = (time.time() if now is None else now) - timestamp
    if tolerance > 0 and age > tolerance:
        raise InvalidWebhook(
            "timestamp outside the tolerance",
            log_detail=f"signed {int(age)}s ago, tolerance is {tolerance}s (replay or clock skew)",
        )


def _any_match(
    payload: bytes, timestamp: int, signatures: list[str], secrets: Sequence[str]
) -> bool:
    # Every comparison runs, so timing says nothing about which secret or
    # signature came close.
    matched = False
    for secret in secrets:
        expected = expected_signature(payload, secret, timestamp)
        for signature in signatures:
            if hmac.compare_digest(expected.encode(), signature.encode("utf-8", "replace")):
                matched = True
    return matched
