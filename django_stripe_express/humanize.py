"""What a platform user reads about their Express account, in plain words.

Stripe names what it still needs with field paths (``external_account``,
``individual.verification.document``, ``tos_acceptance.date``...). Users need
"bank account" or "identity document" instead; this module turns one into the
other for the template tag. Why an account is disabled is in `reasons`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from .humanize_v2 import humanize_v2_requirement, is_v2_requirement

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
    """Plain words for one of Stripe's requirement names (translated)."""
    if is_v2_requirement(name):  # an Accounts v2 path
        return humanize_v2_requirement(name)
    short = _OWNER_PREFIXES.sub("", name)
    for pattern, label in _REQUIREMENT_NAMES:
        if pattern.search(short):
            return str(label)
    # Unknown to us: still better than a field path. "individual.political_exposure"
    # -> "individual political exposure".
    return re.sub(r"[._]+", " ", name).strip()


def humanize_requirements(names: Iterable[str]) -> list[str]:
    """Plain words for each requirement, once each, in Stripe's order.

    `tos_acceptance.date` and `tos_acceptance.ip` are one thing to the user.
    """
    seen: dict[str, None] = {}
    for name in names:
        seen.setdefault(humanize_requirement(name), None)
    return list(seen)
