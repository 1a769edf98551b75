"""The one place that builds the `stripe.StripeClient` this app talks through.

The host project may use `stripe` for its own purposes with other keys, so no
module global of `stripe` is ever set: every call goes through this client.
"""

from __future__ import annotations

import functools

import stripe

from .conf import app_settings


def get_client() -> stripe.StripeClient:
    """A client configured from the current settings (cached per configuration)."""
    return _build_client(
        api_key=app_settings.SECRET_KEY,
        client_id=app_settings.raw.get("CLIENT_ID") or None,
        api_base=app_settings.API_BASE,
        connect_base=app_settings.CONNECT_BASE,
        max_network_retries=app_settings.MAX_NETWORK_RETRIES,
        timeout=app_settings.TIMEOUT,
        stripe_version=app_settings.STRIPE_VERSION,
    )


@functools.lru_cache(maxsize=8)
def _build_client(
    *,
    api_key: str,
    client_id: str | None,
    api_base: str,
    connect_base: str,
    max_network_retries: int,
    timeout: float,
    stripe_version: str | None,
) -> stripe.StripeClient:
    # Settings are read on every call; the client, with its HTTP session, is
    # reused for as long as they stay the same.
    return stripe.StripeClient(
        api_key,
        client_id=client_id,
        base_addresses={"api": api_base, "connect": connect_base},
        max_network_retries=max_network_retries,
        stripe_version=stripe_version,
        http_client=stripe.RequestsClient(timeout=timeout),
    )
