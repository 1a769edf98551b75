"""The status of an Accounts v2 account, from the values `accounts_v2.v2_values` stores.

The same `AccountStatus` values as v1, decided from what v2 reports: each
requested capability's ``status`` and ``status_details.resolution``, and the
requirement entries (who must act, ``minimum_deadline.status``). Most serious
state first, as for v1:

==============================================================  =======================
capabilities and entries                                        status
==============================================================  =======================
the account is disconnected or closed                           ``disconnected``
a capability ``rejected`` or ``unsupported``; or ``restricted``  ``disabled``
with resolution ``contact_stripe`` / ``no_resolution``
an onboarding entry waits for the user (currently / past due)   ``onboarding``
an entry waits for the user and is past due                     ``restricted``
every capability ``active``                                     ``enabled``
a capability ``pending``, or an entry waits for Stripe          ``pending_verification``
anything else (``restricted`` with ``provide_info``)            ``restricted``
==============================================================  =======================

An entry that waits for the user but is only currently or eventually due
leaves an active account ``enabled``, as v1 does before ``current_deadline``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .status import PLATFORM, STRIPE, USER, AccountStatus

#: Capability statuses that the user cannot change.
DISABLED_STATUSES = ("rejected", "unsupported")
#: Resolutions of a restricted capability that the user cannot act on.
DISABLED_RESOLUTIONS = ("contact_stripe", "no_resolution")


#: Who can lift the limit a status detail code (the account's ``disabled_reason``)
#: reports, as `status.Reason.lifted_by` says for a v1 reason: the template tag
#: words its advice by it. Every code stripe 16 declares (``tests/test_status_v2.py``).
LIFTED_BY: dict[str, str] = {
    "determining_status": STRIPE,
    "requirements_pending_verification": STRIPE,
    "requirements_past_due": USER,
    "restricted_other": STRIPE,
    "unsupported_business": STRIPE,
    "unsupported_country": STRIPE,
    "unsupported_entity_type": STRIPE,
    "rejected_fraud": STRIPE,
    "rejected_incomplete_verification": STRIPE,
    "rejected_listed": STRIPE,
    "rejected_other": STRIPE,
    "rejected_terms_of_service": STRIPE,
    "rejected_platform_fraud": PLATFORM,
    "rejected_platform_other": PLATFORM,
    "rejected_platform_terms_of_service": PLATFORM,
}


def lifted_by(code: str) -> str:
    """Who can lift what `code` reports ("" for no code; Stripe for a code added later)."""
    if not code or not isinstance(code, str):
        return ""
    return LIFTED_BY.get(code, STRIPE)


def is_disabled(capabilities: Mapping[str, str], details: Mapping[str, Any]) -> bool:
    """A requested capability is refused, or restricted in a way the user cannot fix."""
    for name, status in capabilities.items():
        details_of = details.get(name)
        if status in DISABLED_STATUSES:
            return True
        if status == "restricted" and any(
            isinstance(detail, dict) and detail.get("resolution") in DISABLED_RESOLUTIONS
            for detail in (details_of if isinstance(details_of, list) else [])
        ):
            return True
    return False


def derive_status_v2(
    *,
    disconnected: bool,
    details_submitted: bool,
    requirements: Mapping[str, Any],
    capabilities: Mapping[str, str],
    capability_details: Mapping[str, Any],
) -> str:
    """Most serious state first: a user sees the one thing that matters now."""
    if disconnected:
        return AccountStatus.DISCONNECTED
    if is_disabled(capabilities, capability_details):
        return AccountStatus.DISABLED
    if not details_submitted:
        return AccountStatus.ONBOARDING
    if requirements.get("past_due"):
        return AccountStatus.RESTRICTED
    # Stripe's JSON as stored: a status that is not a string is not "active".
    statuses = {status if isinstance(status, str) else "" for status in capabilities.values()}
    if statuses and statuses <= {"active"}:
        return AccountStatus.ENABLED
    if "pending" in statuses or requirements.get("pending_verification"):
        return AccountStatus.PENDING_VERIFICATION
    return AccountStatus.RESTRICTED
