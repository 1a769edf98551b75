"""Reading one account from Stripe with the API that created it.

A v1 account is read with ``/v1/accounts/{id}``; a v2 account with
``/v2/core/accounts/{id}`` and ``include`` for every part the app reads
(Stripe leaves the rest out). One call either way. The flows, the admin's
refresh and the sync command all read through here.
"""

from __future__ import annotations

from typing import Any

import stripe

from ..conf import ACCOUNTS_V2
from ..stripe_api import get_client
from .v2 import INCLUDE


def retrieve_account(
    stripe_id: str, accounts_api: str, client: stripe.StripeClient | None = None
) -> Any:
    """The account as Stripe sees it now; raises `stripe.StripeError`."""
    client = client or get_client()
    if accounts_api == ACCOUNTS_V2:
        params: Any = {"include": list(INCLUDE)}  # the typed params want literals
        return client.v2.core.accounts.retrieve(stripe_id, params)
    return client.v1.accounts.retrieve(stripe_id)
