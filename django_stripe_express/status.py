"""An Express account's status, derived from the fields Stripe sends.

One place decides what "enabled" or "restricted" means, for the model, the
template tag and the admin alike.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.db import models
from django.utils.translation import gettext_lazy as _

# `disabled_reason` values after which the user cannot fix things themselves.
DISABLED_REASONS = ("listed", "platform_paused", "other")
DISABLED_REASON_PREFIXES = ("rejected.",)
# Stripe is reviewing what the user sent.
PENDING_REASONS = ("requirements.pending_verification", "under_review")


class AccountStatus(models.TextChoices):
    ONBOARDING = "onboarding", _("Onboarding not finished")
    PENDING_VERIFICATION = "pending_verification", _("Pending verification")
    RESTRICTED = "restricted", _("Restricted")
    ENABLED = "enabled", _("Enabled")
    DISABLED = "disabled", _("Disabled")
    DISCONNECTED = "disconnected", _("Disconnected")


def derive_status(
    *,
    disconnected: bool,
    details_submitted: bool,
    charges_enabled: bool,
    payouts_enabled: bool,
    disabled_reason: str,
    requirements: Mapping[str, Any],
) -> str:
    """Most serious state first: a user sees the one thing that matters now."""
    # Stripe's data, stored as received: a value of another type counts as absent.
    if not isinstance(disabled_reason, str):
        disabled_reason = ""
    if not isinstance(requirements, Mapping):
        requirements = {}
    if disconnected:
        return AccountStatus.DISCONNECTED
    if disabled_reason in DISABLED_REASONS or disabled_reason.startswith(
        DISABLED_REASON_PREFIXES
    ):
        return AccountStatus.DISABLED
    if not details_submitted:
        return AccountStatus.ONBOARDING
    if requirements.get("past_due"):
        return AccountStatus.RESTRICTED
    if disabled_reason in PENDING_REASONS or (
        requirements.get("pending_verification")
        and not (charges_enabled and payouts_enabled)
    ):
        return AccountStatus.PENDING_VERIFICATION
    if disabled_reason or not (charges_enabled and payouts_enabled):
        return AccountStatus.RESTRICTED
    return AccountStatus.ENABLED
