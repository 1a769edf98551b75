"""The capability names Stripe accepts, read from the ``stripe`` library's own types.

``AccountCreateParamsCapabilities`` (generated from Stripe's API specification)
has one key per capability an account can request, so the list follows the
installed stripe release instead of being copied here.
"""

from __future__ import annotations

from stripe.params import AccountCreateParamsCapabilities

#: Every name usable in ``capabilities[<name>][requested]``.
NAMES: frozenset[str] = frozenset(AccountCreateParamsCapabilities.__annotations__)
