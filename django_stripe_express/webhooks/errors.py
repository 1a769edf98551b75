"""Why a delivery was refused before anything was stored."""

from __future__ import annotations


class InvalidWebhook(Exception):
    """A delivery that is not a genuine, well-formed Stripe event: answered with 400.

    ``reason`` is short and safe to send back; ``log_detail`` adds what an
    operator needs (never a secret or a signature).
    """

    def __init__(self, reason: str, log_detail: str = "") -> None:
        super().__init__(reason)
        self.reason = reason
        self.log_detail = log_detail


class AlreadyProcessed(Exception):
    """Another delivery of the same event got there first (internal control flow)."""
