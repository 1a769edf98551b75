"""Accounts v2 in plain words: requirement entries, capabilities and their status details.

v2 names what it needs with paths into the v2 account
(``identity.individual.date_of_birth.day``, ``identity.business_details.registered_name``...)
and says why a capability is not active with a ``code`` and a ``resolution``.
`humanize.humanize_requirement` sends v2 paths here; the admin and the
template tag read the rest. Every code and resolution stripe 16 declares has
its words (``tests/test_status_v2.py`` walks them).
"""

from __future__ import annotations

import re

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

#: The roots of a v2 requirement path.
V2_ROOTS = ("identity.", "configuration.", "defaults.")

# (pattern, plain words), first match wins, matched on the whole v2 path.
_REQUIREMENT_NAMES: tuple[tuple[re.Pattern[str], Promise], ...] = tuple(
    (re.compile(pattern), label)
    for pattern, label in (
        (r"^identity\.individual\.(given_name|surname|full_name)$", _("full name")),
        (r"^identity\.individual\.date_of_birth(\.|$)", _("date of birth")),
        (r"^identity\.individual\.address(\.|$)", _("address")),
        (r"^identity\.individual\.documents\.proof_of_address(\.|$)", _("proof of address")),
        (r"^identity\.individual\.verification\.additional_document$", _("proof of address")),
        (
            r"^identity\.individual\.(documents\.(primary_verification|secondary_verification"
            r"|passport|visa)|verification\.document)(\.|$)",
            _("identity document"),
        ),
        (r"^identity\.individual\.verification(\.|$)", _("identity verification")),
        (r"^identity\.individual\.id_numbers(\.|$)", _("ID number")),
        (r"^identity\.individual\.email$", _("email address")),
        (r"^identity\.individual\.phone$", _("phone number")),
        (r"^identity\.individual\.nationalities(\.|$)", _("nationality")),
        (r"^identity\.individual\.political_exposure$", _("political exposure declaration")),
        (r"^identity\.individual\.relationship(\.|$)", _("role in the business")),
        (r"^identity\.entity_type$", _("business type")),
        (r"^identity\.country$", _("country")),
        (r"^identity\.business_details\.registered_name$", _("company name")),
        (r"^identity\.business_details\.id_numbers(\.|$)", _("company tax ID")),
        (r"^identity\.business_details\.address(\.|$)", _("company address")),
        (r"^identity\.business_details\.phone$", _("company phone number")),
        (r"^identity\.business_details\.documents(\.|$)", _("company registration document")),
        (r"^identity\.business_details\.structure$", _("company structure")),
        (r"^identity\.attestations\.terms_of_service(\.|$)", _("terms of service acceptance")),
        (r"^identity\.attestations\.persons_provided(\.|$)", _("company owners")),
        (r"^identity\.attestations\.", _("declaration about the company's people")),
        (r"^defaults\.profile\.business_url$", _("business website")),
        (r"^defaults\.profile\.product_description$", _("product description")),
        (r"^defaults\.profile\.doing_business_as$", _("business name")),
        (r"^configuration\.merchant\.mcc$", _("business category")),
        (r"^configuration\.merchant\.statement_descriptor(\.|$)", _("statement descriptor")),
        (
            r"^(configuration\.recipient\.default_outbound_destination|defaults\.payout_methods)"
            r"(\.|$)",
            _("bank account"),
        ),
    )
)

#: A capability in words (the admin; v1 names are Stripe's own and left as they are).
CAPABILITY_NAMES: dict[str, Promise] = {
    "stripe_balance.stripe_transfers": _("receiving transfers (getting paid)"),
    "stripe_balance.payouts": _("payouts to the bank account"),
    "card_payments": _("card payments"),
}

#: ``status_details.code``: why a capability is not active, for support staff.
CODE_TEXTS: dict[str, Promise] = {
    "determining_status": _("Stripe is still deciding whether to turn it on."),
    "rejected_fraud": _("Stripe rejected it because of suspected fraud."),
    "rejected_incomplete_verification": _(
        "Stripe rejected it because the verification could not be completed."
    ),
    "rejected_listed": _("Stripe rejected it because the account appears on a sanctions list."),
    "rejected_other": _("Stripe rejected it."),
    "rejected_platform_fraud": _("This platform rejected the account because of suspected fraud."),
    "rejected_platform_other": _("This platform rejected the account."),
    "rejected_platform_terms_of_service": _(
        "This platform rejected the account for a terms of service violation."
    ),
    "rejected_terms_of_service": _("Stripe rejected it for a terms of service violation."),
    "requirements_past_due": _("Information Stripe asked for is past due."),
    "requirements_pending_verification": _("Stripe is verifying the information it received."),
    "restricted_other": _("Stripe restricted it for another reason."),
    "unsupported_business": _("Stripe does not offer it to this kind of business."),
    "unsupported_country": _("Stripe does not offer it in the account's country."),
    "unsupported_entity_type": _("Stripe does not offer it to this type of business entity."),
}

#: ``status_details.resolution``: what staff can do about it.
RESOLUTION_TEXTS: dict[str, Promise] = {
    "provide_info": _("The user must provide information: send them to finish onboarding."),
    "contact_stripe": _("Contact Stripe support about this account."),
    "no_resolution": _("This cannot be resolved."),
}

#: For the user: why the account is limited, for every status detail code (the
#: account's ``disabled_reason``). Never a code: plain words, never blaming.
USER_TEXTS: dict[str, Promise] = {
    "determining_status": _("Stripe is still setting up your account."),
    "rejected_fraud": _("Stripe closed this account because of suspected fraud."),
    "rejected_incomplete_verification": _(
        "Stripe closed this account because it could not complete the verification."
    ),
    "rejected_listed": _("Stripe closed this account because it appears on a sanctions list."),
    "rejected_other": _("Stripe closed this account."),
    "rejected_platform_fraud": _("This site closed your account because of suspected fraud."),
    "rejected_platform_other": _("This site closed your account."),
    "rejected_platform_terms_of_service": _(
        "This site closed your account because of a terms of service violation."
    ),
    "rejected_terms_of_service": _(
        "Stripe closed this account because of a terms of service violation."
    ),
    "requirements_past_due": _("Stripe needs more information before it can send payouts."),
    "requirements_pending_verification": _("Stripe is verifying the information you sent."),
    "restricted_other": _("Stripe has restricted this account."),
    "unsupported_business": _("Stripe cannot pay out to this kind of business."),
    "unsupported_country": _("Stripe cannot pay out to accounts in your country."),
    "unsupported_entity_type": _("Stripe cannot pay out to this type of business."),
}


def is_v2_requirement(name: str) -> bool:
    return name.startswith(V2_ROOTS)


def humanize_v2_requirement(name: str) -> str:
    """Plain words for a v2 requirement path (translated)."""
    for pattern, label in _REQUIREMENT_NAMES:
        if pattern.search(name):
            return str(label)
    # Unknown to us: the path without its root, in words.
    # "identity.individual.legal_gender" -> "individual legal gender".
    short = name.split(".", 1)[1] if "." in name else name
    return re.sub(r"[._]+", " ", short).strip()


def capability_name(name: str) -> str:
    return str(CAPABILITY_NAMES.get(name, name))


def code_text(code: str) -> str:
    return str(CODE_TEXTS.get(code, code))


def resolution_text(resolution: str) -> str:
    return str(RESOLUTION_TEXTS.get(resolution, resolution))
