"""The OAuth ``state`` as the database keeps it: a keyed hash, never the state.

The state is a bearer token while its attempt is pending: whoever holds it can
finish the flow for its user. Storing only ``HMAC-SHA256(SECRET_KEY, state)``
means no admin page, filter, export, backup or database reader can learn a
live state (the admin also refuses lookups on the column). The callback hashes
what Stripe sends back and looks the hash up.

Rotating Django's ``SECRET_KEY`` keeps pending states working when the old key
is in ``SECRET_KEY_FALLBACKS``, as for Django's own signed values.
"""

from __future__ import annotations

from django.conf import settings
from django.utils.crypto import salted_hmac

#: Keeps these hashes apart from every other HMAC made with the same key.
STATE_SALT = "django_stripe_express.ConnectAttempt.state"
#: hexdigest of SHA-256.
HASH_LENGTH = 64


def hash_state(state: str, secret: str | bytes | None = None) -> str:
    """The stored form of ``state`` under ``secret`` (default: ``SECRET_KEY``)."""
    return salted_hmac(STATE_SALT, state, secret=secret, algorithm="sha256").hexdigest()


def candidate_hashes(state: str) -> list[str]:
    """``state``'s hash under ``SECRET_KEY``, then under each fallback key."""
    keys = [settings.SECRET_KEY, *getattr(settings, "SECRET_KEY_FALLBACKS", [])]
    return list(dict.fromkeys(hash_state(state, key) for key in keys))
