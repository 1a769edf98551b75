"""An Express account's status, derived from the fields Stripe sends.

One place decides what "enabled" or "restricted" means, for the model, the
template tag and the admin alike, and what each of Stripe's
``requirements.disabled_reason`` values means (`REASONS`; their words for
users and staff are in `humanize`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.db import models
from django.utils.translation import gettext_lazy as _


class AccountStatus(models.TextChoices):
    ONBOARDING = "onboarding", _("Onboarding not finished")
    PENDING_VERIFICATION = "pending_verification", _("Pending verification")
    RESTRICTED = "restricted", _("Restricted")
    ENABLED = "enabled", _("Enabled")
    DISABLED = "disabled", _("Disabled")
    DISCONNECTED = "disconnected", _("Disconnected")


# Who can lift a restriction.
USER = "user"  # by giving Stripe what it asks for
PLATFORM = "platform"  # this site (its Stripe settings, or a call to Stripe)
STRIPE = "stripe"  # Stripe, after a review or never (rejections)


@dataclass(frozen=True)
class Reason:
    """What one ``disabled_reason`` means for the account."""

    status: AccountStatus
    lifted_by: str
    #: Stripe uses ``other`` with items in ``past_due`` for a review the user
    #: resolves by providing them: then the user can act, and it is
    #: ``restricted`` like any account with items past due.
    user_can_resolve_past_due: bool = False

    def applies(self, requirements: Mapping[str, Any]) -> bool:
        """Whether this reason decides the status, before onboarding and past-due items.

        Only for decisions the user cannot change: rejections, pauses and
        what the platform must fix. The others (past due, pending
        verification, reviews) leave the decision to the user's progress.
        """
        if self.user_can_resolve_past_due and requirements.get("past_due"):
            return False
        return self.status == AccountStatus.DISABLED or self.lifted_by == PLATFORM


# Every value of `requirements.disabled_reason` in stripe 16's `Account` type
# (docs.stripe.com/connect/handling-api-verification; the `rejected.platform_*`
# values: changelog 2026-09-30 "platform-initiated account rejections").
REASONS: dict[str, Reason] = {
    # The platform has requested no capability for the account.
    "action_required.requested_capabilities": Reason(AccountStatus.RESTRICTED, PLATFORM),
    # Possibly on a prohibited persons or companies list: Stripe investigates.
    "listed": Reason(AccountStatus.DISABLED, STRIPE),
    "other": Reason(AccountStatus.DISABLED, STRIPE, user_can_resolve_past_due=True),
    "platform_paused": Reason(AccountStatus.DISABLED, PLATFORM),
    "rejected.fraud": Reason(AccountStatus.DISABLED, STRIPE),
    "rejected.incomplete_verification": Reason(AccountStatus.DISABLED, STRIPE),
    "rejected.listed": Reason(AccountStatus.DISABLED, STRIPE),
    "rejected.other": Reason(AccountStatus.DISABLED, STRIPE),
    "rejected.platform_fraud": Reason(AccountStatus.DISABLED, PLATFORM),
    "rejected.platform_other": Reason(AccountStatus.DISABLED, PLATFORM),
    "rejected.platform_terms_of_service": Reason(AccountStatus.DISABLED, PLATFORM),
    "rejected.terms_of_service": Reason(AccountStatus.DISABLED, STRIPE),
    "requirements.past_due": Reason(AccountStatus.RESTRICTED, USER),
    "requirements.pending_verification": Reason(AccountStatus.PENDING_VERIFICATION, STRIPE),
    "under_review": Reason(AccountStatus.PENDING_VERIFICATION, STRIPE),
}
# A value Stripe adds later: a rejection is still final, anything else restricts.
_UNKNOWN_REJECTION = Reason(AccountStatus.DISABLED, STRIPE)
_UNKNOWN = Reason(AccountStatus.RESTRICTED, STRIPE)


def reason_for(disabled_reason: str) -> Reason | None:
    """The meaning of ``disabled_reason`` ("" or None: the account is not disabled)."""
    if not disabled_reason or not isinstance(disabled_reason, str):
        return None  # not disabled, or not a value Stripe sends
    if disabled_reason in REASONS:
        return REASONS[disabled_reason]
    return _UNKNOWN_REJECTION if disabled_reason.startswith("rejected.") else _UNKNOWN


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
    reason = reason_for(disabled_reason)
    if reason is not None and reason.applies(requirements):
        return reason.status
    if not details_submitted:
        return AccountStatus.ONBOARDING
    if requirements.get("past_due"):
        return AccountStatus.RESTRICTED
    if (reason is not None and reason.status == AccountStatus.PENDING_VERIFICATION) or (
        requirements.get("pending_verification") and not (charges_enabled and payouts_enabled)
    ):
        return AccountStatus.PENDING_VERIFICATION
    if disabled_reason or not (charges_enabled and payouts_enabled):
        return AccountStatus.RESTRICTED
    return AccountStatus.ENABLED
