"""Copying a Stripe Account object onto an `ExpressAccount`.

The OAuth and Account Links flows, the webhooks, the admin's refresh action and
the sync command all store Stripe's view of an account the same way, here.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import stripe
from django.utils import timezone

from .models import ExpressAccount

# The model fields that mirror Stripe's Account object.
STRIPE_FIELDS = (
    "charges_enabled",
    "payouts_enabled",
    "details_submitted",
    "requirements",
    "future_requirements",
    "capabilities",
    "country",
    "email",
    "business_type",
    "default_currency",
    "disabled_reason",
)
# What `apply_account` may change, for `save(update_fields=...)` and `bulk_update`.
UPDATE_FIELDS = (*STRIPE_FIELDS, "status", "synced_at", "updated_at")


def as_dict(value: Any) -> dict[str, Any]:
    """A plain, JSON-ready dict from a dict or a StripeObject (which, in stripe
    16, is no longer a dict and has no ``.get``)."""
    if value is None:
        return {}
    if isinstance(value, stripe.StripeObject):
        return value.to_dict(recursive=True, for_json=True)
    return dict(value)


def stripe_values(data: Mapping[str, Any] | stripe.StripeObject) -> dict[str, Any]:
    """The model's values for a Stripe Account object (a dict or StripeObject)."""
    data = as_dict(data)
    requirements = as_dict(data.get("requirements"))
    return {
        "charges_enabled": bool(data.get("charges_enabled")),
        "payouts_enabled": bool(data.get("payouts_enabled")),
        "details_submitted": bool(data.get("details_submitted")),
        "requirements": requirements,
        "future_requirements": as_dict(data.get("future_requirements")),
        "capabilities": as_dict(data.get("capabilities")),
        "country": data.get("country") or "",
        "email": data.get("email") or "",
        "business_type": data.get("business_type") or "",
        "default_currency": data.get("default_currency") or "",
        "disabled_reason": requirements.get("disabled_reason") or "",
    }


def apply_account(
    account: ExpressAccount, data: Mapping[str, Any] | stripe.StripeObject
) -> None:
    """Set `account`'s Stripe fields and status from `data`, without saving."""
    for field, value in stripe_values(data).items():
        setattr(account, field, value)
    account.synced_at = timezone.now()
    account.status = account.derive_status()
