"""What users and support staff read about each ``requirements.disabled_reason``.

`status.REASONS` says what a reason means (the status, who can lift it); this
module says it in words: to the user on the button (plain, never blaming, with
what to do), to staff in the admin (who acted and what lifts it). A v2
account's ``disabled_reason`` is a capability's status detail code
(``rejected_fraud``...: no dot, none of them a v1 reason); their words are in
`humanize_v2`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from . import humanize_v2

_CLOSED_BY_SITE = _("This site has closed your payout account.")

USER_TEXTS: dict[str, Promise] = {
    "action_required.requested_capabilities": _(
        "This site still needs to finish setting up your account with Stripe. "
        "There is nothing for you to do."
    ),
    "listed": _("Stripe is reviewing this account against sanctions lists."),
    "other": _("Stripe has paused this account while it reviews it."),
    "platform_paused": _("Payouts for this account are paused by this site."),
    "rejected.fraud": _("Stripe closed this account because of suspected fraud."),
    "rejected.incomplete_verification": _(
        "Stripe closed this account because the required verification was not completed."
    ),
    "rejected.listed": _("Stripe closed this account because it appears on a sanctions list."),
    "rejected.other": _("Stripe closed this account."),
    "rejected.platform_fraud": _CLOSED_BY_SITE,
    "rejected.platform_other": _CLOSED_BY_SITE,
    "rejected.platform_terms_of_service": _(
        "This site has closed your payout account because of a breach of its terms."
    ),
    "rejected.terms_of_service": _(
        "Stripe closed this account because of a terms of service violation."
    ),
    "requirements.past_due": _("Stripe needs more information before it can send payouts."),
    "requirements.pending_verification": _("Stripe is verifying the information you sent."),
    "under_review": _("Stripe is reviewing this account."),
}
# `other` with items past due: a review the user resolves by sending them.
_USER_REVIEW = _("Stripe is reviewing this account and needs more information from you.")
_USER_DEFAULT = _("Stripe has disabled this account.")

STAFF_TEXTS: dict[str, Promise] = {
    "action_required.requested_capabilities": _(
        "No capability is requested: the platform must request one "
        "(SUGGESTED_CAPABILITIES, or Stripe's capabilities API)."
    ),
    "listed": _(
        "Stripe is checking the account against prohibited persons and companies "
        "lists; it will reject or reinstate it."
    ),
    "other": _("Disabled by Stripe for another reason, under review; nothing is due."),
    "platform_paused": _("Paused by this platform at Stripe; the platform can resume it."),
    "rejected.fraud": _("Rejected by Stripe: suspected fraud."),
    "rejected.incomplete_verification": _("Rejected by Stripe: verification not completed."),
    "rejected.listed": _("Rejected by Stripe: on a prohibited persons or companies list."),
    "rejected.other": _("Rejected by Stripe for another reason."),
    "rejected.platform_fraud": _("Rejected by this platform: fraud."),
    "rejected.platform_other": _("Rejected by this platform for another reason."),
    "rejected.platform_terms_of_service": _("Rejected by this platform: terms of service."),
    "rejected.terms_of_service": _("Rejected by Stripe: terms of service violation."),
    "requirements.past_due": _(
        "Information is past due: the user must provide the items past due."
    ),
    "requirements.pending_verification": _("Stripe is verifying what the user provided."),
    "under_review": _("Stripe is reviewing the account."),
}
_STAFF_REVIEW = _(
    "Under review by Stripe, which asked for the items past due: the user can resolve it."
)
_STAFF_DEFAULT = _("A reason this version of the app does not know; see Stripe's dashboard.")


#: A review with items past due: v1's ``other``, v2's ``restricted_other`` code.
_REVIEWS = ("other", "restricted_other")


def _is_review(reason: str, requirements: Mapping[str, Any]) -> bool:
    return reason in _REVIEWS and bool(requirements.get("past_due"))


def user_text(reason: str, requirements: Mapping[str, Any] | None = None) -> str:
    """Why the account is limited, for its user ("" when it is not)."""
    if not reason or not isinstance(reason, str):
        return ""
    if _is_review(reason, requirements or {}):
        return str(_USER_REVIEW)
    if reason in humanize_v2.USER_TEXTS:
        return str(humanize_v2.USER_TEXTS[reason])
    return str(USER_TEXTS.get(reason, _USER_DEFAULT))


def staff_text(reason: str, requirements: Mapping[str, Any] | None = None) -> str:
    """Why the account is limited and what lifts it, for support staff."""
    if not reason or not isinstance(reason, str):
        return ""
    if _is_review(reason, requirements or {}):
        return str(_STAFF_REVIEW)
    if reason in humanize_v2.CODE_TEXTS:
        return str(humanize_v2.CODE_TEXTS[reason])
    return str(STAFF_TEXTS.get(reason, _STAFF_DEFAULT))
