"""What the OAuth link prefills on Stripe's onboarding form.

``STRIPE_EXPRESS["PREFILL"]`` names a ``callable(request) -> dict``; this module
has the default and the list of ``stripe_user[...]`` fields Stripe honours for
Express accounts, so nothing else is ever sent.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.utils.module_loading import import_string

from .conf import app_settings

# Stripe's Connect OAuth reference lists the `stripe_user` fields; those marked
# "Standard only" (street_address, city, state, zip, physical_product,
# currency, block_kana/kanji, building_kana/kanji) are silently dropped for
# Express accounts, so they are not sent: the user would type them again
# without the platform knowing. The kana/kanji names and gender are for JP.
STRIPE_USER_FIELDS = frozenset(
    {
        "email",
        "url",
        "country",
        "phone_number",
        "business_name",
        "business_type",
        "first_name",
        "last_name",
        "dob_day",
        "dob_month",
        "dob_year",
        "product_description",
        "first_name_kana",
        "first_name_kanji",
        "last_name_kana",
        "last_name_kanji",
        "gender",
    }
)


def default_prefill(request: HttpRequest) -> dict[str, Any]:
    """The user's email, first and last name, where the user model has them."""
    user = request.user
    values = {
        "email": getattr(user, "email", ""),
        "first_name": getattr(user, "first_name", ""),
        "last_name": getattr(user, "last_name", ""),
    }
    return {key: value for key, value in values.items() if value}


def prefill_for(request: HttpRequest) -> dict[str, str]:
    """The configured prefill, limited to the fields Express honours, as strings."""
    path = app_settings.PREFILL
    if not path:
        return {}
    values = import_string(path)(request) or {}
    return {
        key: str(value)
        for key, value in values.items()
        if key in STRIPE_USER_FIELDS and value not in (None, "")
    }
