"""Copying a Stripe Account object onto an `ExpressAccount`.

The OAuth and Account Links flows, the webhooks, the admin's refresh action and
the sync command all store Stripe's view of an account the same way, here.
A v1 Account and an Accounts v2 account (`accounts_v2`) give the same fields.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

import stripe
from django.db.models import CharField
from django.utils import timezone

from .accounts_v2 import is_v2, v2_values
from .models import ExpressAccount
from .storable import storable_json, storable_text

logger = logging.getLogger(__name__)

# The model fields that mirror Stripe's Account object.
STRIPE_FIELDS = (
    "charges_enabled",
    "payouts_enabled",
    "details_submitted",
    "requirements",
    "future_requirements",
    "capabilities",
    "capability_details",
    "country",
    "email",
    "business_type",
    "default_currency",
    "disabled_reason",
)
# What `apply_account` may change, for `save(update_fields=...)` and `bulk_update`.
UPDATE_FIELDS = (*STRIPE_FIELDS, "status", "synced_at", "updated_at")
#: All a row holds of its Stripe account: what another account replacing it resets.
_ACCOUNT_STATE = (
    *STRIPE_FIELDS, "accounts_api", "synced_at", "last_event_created", "capability_event_created"
)


def as_dict(value: Any) -> dict[str, Any]:
    """A plain, JSON-ready dict from a dict or a StripeObject (which, in stripe
    16, is no longer a dict and has no ``.get``)."""
    if value is None:
        return {}
    if isinstance(value, stripe.StripeObject):
        return value.to_dict(recursive=True, for_json=True)
    return dict(value)


#: Text fields, each with a column length.
TEXT_FIELDS = ("country", "email", "business_type", "default_currency", "disabled_reason")
#: JSON fields: Stripe's structures, made storable before they are written.
JSON_FIELDS = ("requirements", "future_requirements", "capabilities", "capability_details")


def stripe_values(data: Mapping[str, Any] | stripe.StripeObject) -> dict[str, Any]:
    """The model's values for a Stripe Account object (a dict or StripeObject)."""
    return _values(data)[0]


def _values(data: Mapping[str, Any] | stripe.StripeObject) -> tuple[dict[str, Any], list[str]]:
    """`stripe_values`, and the text fields whose value is longer than the column.

    Every value is one the database stores (see `storable`); a text too long
    is left empty rather than cut: a cut email address is someone else's.
    """
    data = as_dict(data)
    values = v2_values(data) if is_v2(data) else _v1_values(data)
    for name in JSON_FIELDS:
        values[name] = storable_json(values[name])[0]
    too_long = []
    for name in TEXT_FIELDS:
        value = values[name]
        text = storable_text(str(value))[0] if value else ""
        if len(text) > _max_length(name):
            too_long.append(name)
            text = ""
        values[name] = text
    return values, too_long


def _v1_values(data: dict[str, Any]) -> dict[str, Any]:
    """A v1 Account's values, as Stripe sent them."""
    requirements = as_dict(data.get("requirements"))
    return {
        "charges_enabled": bool(data.get("charges_enabled")),
        "payouts_enabled": bool(data.get("payouts_enabled")),
        "details_submitted": bool(data.get("details_submitted")),
        "requirements": requirements,
        "future_requirements": as_dict(data.get("future_requirements")),
        "capabilities": as_dict(data.get("capabilities")),
        "capability_details": {},
        "country": data.get("country"),
        "email": data.get("email"),
        "business_type": data.get("business_type"),
        "default_currency": data.get("default_currency"),
        "disabled_reason": requirements.get("disabled_reason"),
    }


def _max_length(name: str) -> int:
    field = ExpressAccount._meta.get_field(name)
    assert isinstance(field, CharField)
    assert field.max_length is not None
    return field.max_length


def forget_stripe_account(account: ExpressAccount) -> None:
    """Back to the model's defaults for everything copied from the row's old
    Stripe account (a disconnected one that a new account replaces)."""
    for name in _ACCOUNT_STATE:
        field = ExpressAccount._meta.get_field(name)
        setattr(account, name, field.get_default())  # type: ignore[union-attr]


def apply_account(
    account: ExpressAccount, data: Mapping[str, Any] | stripe.StripeObject
) -> list[str]:
    """Set `account`'s Stripe fields and status from `data`, without saving.

    Returns the fields left empty because Stripe's value does not fit (a
    warning names them, never their value).
    """
    values, dropped = _values(data)
    for field, value in values.items():
        setattr(account, field, value)
    account.synced_at = timezone.now()
    account.status = account.derive_status()
    if dropped:
        logger.warning(
            "Stripe account %s: %s longer than the column allows, not stored",
            account.stripe_id, ", ".join(dropped),
        )
    return dropped
