"""Accounts v1 (``/v1/accounts``; OAuth connections and ``ACCOUNTS_API = "v1"``).

An account's values and status from what Stripe sends, one table of what each
``requirements.disabled_reason`` means (`REASONS`: the status it decides, who
can lift it, its words for users and staff), and Stripe's requirement names
in plain words for the user (``individual.verification.document`` is an
"identity document").
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import stripe
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _
from stripe.params import AccountCreateParamsCapabilities

from ..conf import app_settings
from . import (
    PLATFORM,
    STRIPE,
    UNKNOWN_STAFF_TEXT,
    UNKNOWN_USER_TEXT,
    USER,
    AccountStatus,
    PayoutSchedule,
    Reason,
    configured_schedule,
    dict_or_empty,
)

_CLOSED_BY_SITE = _("This site has closed your payout account.")

# Every value of `requirements.disabled_reason` in stripe 16's `Account` type
# (docs.stripe.com/connect/handling-api-verification; the `rejected.platform_*`
# values: changelog 2026-09-30 "platform-initiated account rejections"): what
# it means, who can lift it, and its words for the user and for staff. A new
# reason is one row here.
REASONS: dict[str, Reason] = {
    # The platform has requested no capability for the account.
    "action_required.requested_capabilities": Reason(
        AccountStatus.RESTRICTED, PLATFORM,
        user=_(
            "This site still needs to finish setting up your account with Stripe. "
            "There is nothing for you to do."
        ),
        staff=_(
            "No capability is requested: the platform must request one "
            "(SUGGESTED_CAPABILITIES, or Stripe's capabilities API)."
        ),
    ),
    # Possibly on a prohibited persons or companies list: Stripe investigates.
    "listed": Reason(
        AccountStatus.DISABLED, STRIPE,
        user=_("Stripe is reviewing this account against sanctions lists."),
        staff=_(
            "Stripe is checking the account against prohibited persons and companies "
            "lists; it will reject or reinstate it."
        ),
    ),
    "other": Reason(
        AccountStatus.DISABLED, STRIPE,
        user=_("Stripe has paused this account while it reviews it."),
        staff=_("Disabled by Stripe for another reason, under review; nothing is due."),
        user_can_resolve_past_due=True,
    ),
    "platform_paused": Reason(
        AccountStatus.DISABLED, PLATFORM,
        user=_("Payouts for this account are paused by this site."),
        staff=_("Paused by this platform at Stripe; the platform can resume it."),
    ),
    "rejected.fraud": Reason(
        AccountStatus.DISABLED, STRIPE,
        user=_("Stripe closed this account because of suspected fraud."),
        staff=_("Rejected by Stripe: suspected fraud."),
    ),
    "rejected.incomplete_verification": Reason(
        AccountStatus.DISABLED, STRIPE,
        user=_("Stripe closed this account because the required verification was not completed."),
        staff=_("Rejected by Stripe: verification not completed."),
    ),
    "rejected.listed": Reason(
        AccountStatus.DISABLED, STRIPE,
        user=_("Stripe closed this account because it appears on a sanctions list."),
        staff=_("Rejected by Stripe: on a prohibited persons or companies list."),
    ),
    "rejected.other": Reason(
        AccountStatus.DISABLED, STRIPE,
        user=_("Stripe closed this account."),
        staff=_("Rejected by Stripe for another reason."),
    ),
    "rejected.platform_fraud": Reason(
        AccountStatus.DISABLED, PLATFORM,
        user=_CLOSED_BY_SITE,
        staff=_("Rejected by this platform: fraud."),
    ),
    "rejected.platform_other": Reason(
        AccountStatus.DISABLED, PLATFORM,
        user=_CLOSED_BY_SITE,
        staff=_("Rejected by this platform for another reason."),
    ),
    "rejected.platform_terms_of_service": Reason(
        AccountStatus.DISABLED, PLATFORM,
        user=_("This site has closed your payout account because of a breach of its terms."),
        staff=_("Rejected by this platform: terms of service."),
    ),
    "rejected.terms_of_service": Reason(
        AccountStatus.DISABLED, STRIPE,
        user=_("Stripe closed this account because of a terms of service violation."),
        staff=_("Rejected by Stripe: terms of service violation."),
    ),
    "requirements.past_due": Reason(
        AccountStatus.RESTRICTED, USER,
        user=_("Stripe needs more information before it can send payouts."),
        staff=_("Information is past due: the user must provide the items past due."),
    ),
    "requirements.pending_verification": Reason(
        AccountStatus.PENDING_VERIFICATION, STRIPE,
        user=_("Stripe is verifying the information you sent."),
        staff=_("Stripe is verifying what the user provided."),
    ),
    "under_review": Reason(
        AccountStatus.PENDING_VERIFICATION, STRIPE,
        user=_("Stripe is reviewing this account."),
        staff=_("Stripe is reviewing the account."),
    ),
}
# A value Stripe adds later: a rejection is still final, anything else restricts.
_UNKNOWN_REJECTION = Reason(
    AccountStatus.DISABLED, STRIPE, user=UNKNOWN_USER_TEXT, staff=UNKNOWN_STAFF_TEXT
)
_UNKNOWN = Reason(
    AccountStatus.RESTRICTED, STRIPE, user=UNKNOWN_USER_TEXT, staff=UNKNOWN_STAFF_TEXT
)


def reason_for(disabled_reason: str) -> Reason | None:
    """The meaning of ``disabled_reason`` ("" or None: the account is not disabled)."""
    if not disabled_reason or not isinstance(disabled_reason, str):
        return None  # not disabled, or not a value Stripe sends
    if disabled_reason in REASONS:
        return REASONS[disabled_reason]
    return _UNKNOWN_REJECTION if disabled_reason.startswith("rejected.") else _UNKNOWN


def derive_status(account: Any) -> str:
    """The status of a stored v1 ``account``, most serious state first: a user
    sees the one thing that matters now."""
    # Only the usable parts of what Stripe sent (the model's readers drop the rest).
    requirements = {
        "past_due": account.past_due, "pending_verification": account.pending_verification
    }
    disabled_reason = account.disabled_reason if isinstance(account.disabled_reason, str) else ""
    disconnected = not account.is_connected
    details_submitted = account.details_submitted
    charges_enabled, payouts_enabled = account.charges_enabled, account.payouts_enabled
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


def can_receive_transfers(account: Any) -> bool:
    """Whether Stripe accepts a transfer to the stored v1 ``account`` now: connected,
    and its ``transfers`` capability active (a row that never stored capabilities,
    such as an old OAuth connection, reads ``payouts_enabled``)."""
    if not account.is_connected:
        return False
    capabilities = account.capabilities if isinstance(account.capabilities, dict) else {}
    if "transfers" in capabilities:
        return bool(capabilities["transfers"] == "active")
    return bool(account.payouts_enabled)


def can_accept_card_payments(account: Any) -> bool:
    """Whether the stored v1 ``account`` can be the merchant of record of a charge
    (``on_behalf_of``): connected, and its ``card_payments`` capability active
    (a row without capabilities reads ``charges_enabled``)."""
    if not account.is_connected:
        return False
    capabilities = account.capabilities if isinstance(account.capabilities, dict) else {}
    if capabilities:
        return bool(capabilities.get("card_payments") == "active")
    return bool(account.charges_enabled)


# Who the requirement is about: stripped before matching, so that
# `representative.verification.document` and `person_1AbC.verification.document`
# read like the individual's. Stripe's person ids are `person_` + letters/digits.
_OWNER_PREFIXES = re.compile(
    r"^(individual|representative|owners|directors|executives|person_[A-Za-z0-9]+)\."
)

# (pattern, plain words). First match wins; patterns are matched against the
# requirement without its owner prefix. Keep the most specific ones first.
_REQUIREMENT_NAMES: tuple[tuple[re.Pattern[str], Promise], ...] = tuple(
    (re.compile(pattern), label)
    for pattern, label in (
        (r"^external_account$", _("bank account")),
        (r"^tos_acceptance\.", _("terms of service acceptance")),
        (r"^verification\.additional_document$", _("proof of address")),
        (r"^verification\.document$", _("identity document")),
        (r"^verification\.", _("identity verification")),
        (r"^id_number$", _("ID number")),
        (r"^ssn_last_4$", _("last 4 digits of the Social Security number")),
        (r"^dob\.", _("date of birth")),
        (r"^address\.", _("address")),
        (r"^(first_name|last_name)$", _("full name")),
        (r"^email$", _("email address")),
        (r"^phone$", _("phone number")),
        (r"^political_exposure$", _("political exposure declaration")),
        (r"^relationship\.", _("role in the business")),
        (r"^business_profile\.url$", _("business website")),
        (r"^business_profile\.mcc$", _("business category")),
        (r"^business_profile\.product_description$", _("product description")),
        (r"^business_type$", _("business type")),
        (r"^company\.tax_id$", _("company tax ID")),
        (r"^company\.name$", _("company name")),
        (r"^company\.address\.", _("company address")),
        (r"^company\.phone$", _("company phone number")),
        (r"^company\.verification\.document$", _("company registration document")),
        (r"^company\.(owners|directors|executives)_provided$", _("company owners")),
        (r"^settings\.payments\.statement_descriptor$", _("statement descriptor")),
    )
)


def humanize_requirement(name: str) -> str:
    """Plain words for one of Stripe's v1 requirement names (translated)."""
    short = _OWNER_PREFIXES.sub("", name)
    for pattern, label in _REQUIREMENT_NAMES:
        if pattern.search(short):
            return str(label)
    # Unknown to us: still better than a field path. "individual.political_exposure"
    # -> "individual political exposure".
    return re.sub(r"[._]+", " ", name).strip()


#: Every name usable in ``capabilities[<name>][requested]``.
NAMES: frozenset[str] = frozenset(AccountCreateParamsCapabilities.__annotations__)


def values(data: dict[str, Any]) -> dict[str, Any]:
    """A v1 Account's values, as Stripe sent them."""
    # A signed payload may carry a list, string or number where Stripe writes
    # an object: read as empty (`malformed` names them for the event's note).
    requirements = dict_or_empty(data.get("requirements"))
    return {
        "charges_enabled": bool(data.get("charges_enabled")),
        "payouts_enabled": bool(data.get("payouts_enabled")),
        "details_submitted": bool(data.get("details_submitted")),
        "requirements": requirements,
        "future_requirements": dict_or_empty(data.get("future_requirements")),
        "capabilities": dict_or_empty(data.get("capabilities")),
        "capability_details": {},
        "country": data.get("country"),
        "email": data.get("email"),
        "business_type": data.get("business_type"),
        "default_currency": data.get("default_currency"),
        "disabled_reason": requirements.get("disabled_reason"),
    }


#: v2 ``fees_collector`` -> v1 ``controller.fees.payer``: the same billing model
#: (``application_express`` is its own, not ``application``).
_FEE_PAYERS = {
    "stripe": "account",
    "application": "application",
    "application_express": "application_express",
}


def _express_controller() -> dict[str, Any]:
    """v1 ``controller`` properties of an Express account, from ``RESPONSIBILITIES``.

    Stripe deprecated ``type=express``; these make the same account.
    """
    responsibilities = app_settings.RESPONSIBILITIES
    fees = responsibilities.get("fees_collector", "application")
    losses = responsibilities.get("losses_collector", "application")
    return {
        "stripe_dashboard": {"type": "express"},
        "fees": {"payer": _FEE_PAYERS.get(fees, "application")},
        "losses": {"payments": losses},
        "requirement_collection": "stripe",
    }


def create_params(user: Any, prefill: Mapping[str, str]) -> dict[str, Any]:
    """``v1.accounts.create`` parameters of an Express account, before the host's
    hook (``ACCOUNT_CREATE_PARAMS``). The prefill is OAuth's: v1 takes the email."""
    params: dict[str, Any] = {
        "controller": _express_controller(),
        "metadata": {"platform_user_id": str(user.pk)},
    }
    capabilities = app_settings.SUGGESTED_CAPABILITIES
    if capabilities:
        params["capabilities"] = {name: {"requested": True} for name in capabilities}
    if app_settings.COUNTRY:
        params["country"] = app_settings.COUNTRY
    email = getattr(user, "email", "")
    if email:
        params["email"] = email
    if app_settings.BUSINESS_TYPE:
        params["business_type"] = app_settings.BUSINESS_TYPE
    schedule = configured_schedule()
    if schedule is not None:
        params["settings"] = {"payouts": {"schedule": schedule_params(schedule)}}
    return params


def create_link(
    client: stripe.StripeClient, account: Any, *, refresh_url: str, return_url: str
) -> str:
    """A fresh ``account_onboarding`` Account Link's URL; raises `stripe.StripeError`."""
    link = client.v1.account_links.create(
        {
            "account": account.stripe_id,
            "type": "account_onboarding",
            "refresh_url": refresh_url,
            "return_url": return_url,
        }
    )
    return str(link.url)


def retrieve(client: stripe.StripeClient, stripe_id: str, context: str = "") -> stripe.Account:
    """A v1 account as Stripe sees it now (``/v1/accounts/{id}``), in ``context``
    (``Stripe-Context``) when given."""
    if context:
        return client.v1.accounts.retrieve(stripe_id, None, {"stripe_context": context})
    return client.v1.accounts.retrieve(stripe_id)


def schedule_params(schedule: PayoutSchedule) -> dict[str, Any]:
    """``settings.payouts.schedule`` of ``accounts.create`` / ``accounts.update``."""
    params: dict[str, Any] = {"interval": schedule.interval}
    if schedule.delay_days is not None:
        params["delay_days"] = schedule.delay_days
    if schedule.interval == "weekly":
        params["weekly_anchor"] = schedule.anchor
    elif schedule.interval == "monthly":
        params["monthly_anchor"] = schedule.anchor
    return params
