"""Accounts v2 (``/v2/core/accounts``; ``ACCOUNTS_API = "v2"``, the default).

A v2 account has no ``charges_enabled`` or ``requirements.currently_due``: it
reports requirement *entries* (who must act, by when) and, per capability, a
``status`` with ``status_details``. `values` turns those into the model's
values, the same keys a v1 Account gives, so the tag, the admin, the sync
command and the signals work on both alike:

* ``requirements``: Stripe's ``entries`` and ``summary`` as sent (the admin
  shows them), plus the lists the tag reads, derived from the entries:
  ``currently_due`` / ``past_due`` / ``eventually_due`` (the user must act,
  by ``minimum_deadline.status``), ``pending_verification`` (Stripe must
  act), ``errors`` and ``current_deadline``;
* ``capabilities``: ``{name: status}``, e.g. ``{"stripe_balance.stripe_transfers":
  "active"}``, and ``capability_details``: ``{name: [{"code", "resolution"}]}``;
* ``disabled_reason``: the most serious ``status_details.code`` of a capability
  that is not active (`CODES`: what each code means, who lifts it, its words);
* ``future_requirements``: Stripe's ``future_requirements`` (rules that take
  effect at ``minimum_transition_date``), with the same lists, and that date as
  ``current_deadline`` (v1's meaning);
* ``details_submitted``: the user accepted Stripe's terms of service
  (``identity.attestations.terms_of_service.account.date``: only the onboarding
  form does that), or no onboarding entry (``requested_reasons`` of
  ``routine_onboarding``) waits for the user now.

`derive_status` decides the status from these values, most serious first
(the codes: the most serious status detail code of a capability that is not
active, read in `CODES`):

==============================================================  =======================
capabilities and entries                                        status
==============================================================  =======================
the account is disconnected or closed                           ``disconnected``
a capability ``rejected`` or ``unsupported``, or a status detail  ``disabled``
code ``rejected_*`` / ``unsupported_*``
details not submitted (above)                                   ``onboarding``
an entry waits for the user and is past due                     ``restricted``
every capability ``active``                                     ``enabled``
``determining_status``, ``requirements_pending_verification``  ``pending_verification``
``restricted_other`` (a review), ``requirements_past_due``      ``restricted``
no code: a capability ``pending``, or an entry waits for Stripe ``pending_verification``
anything else                                                   ``restricted``
==============================================================  =======================

An entry that waits for the user but is only currently or eventually due
leaves an active account ``enabled``, as v1 does before ``current_deadline``.

Also here: what the platform asks for when it creates an account
(`create_params`), its Account Links (`create_link`), and v2's requirement
paths, capabilities and resolutions in plain words.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any

import stripe
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

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
    _list,
    _timestamp,
    dict_or_empty,
)

#: ``object`` of an Accounts v2 account.
V2_OBJECT = "v2.core.account"

#: Every part of the account the app reads, for ``include`` on create and retrieve:
#: Stripe leaves out of a v2 answer what is not asked for.
INCLUDE = [
    "configuration.merchant",
    "configuration.recipient",
    "defaults",
    "future_requirements",
    "identity",
    "requirements",
]

#: The configurations whose capabilities the app requests and reads.
_CONFIGURATIONS = ("recipient", "merchant")

#: The capability that lets the user be paid (``configuration.recipient``).
TRANSFERS = "stripe_balance.stripe_transfers"

_PAYOUTS = "stripe_balance.payouts"

CARD_PAYMENTS = "card_payments"

# Worst last: when two configurations report one capability, the worse wins.
_STATUS_ORDER = ("active", "pending", "restricted", "unsupported", "rejected")

# Every ``status_details.code`` stripe 16 declares (``tests/test_status_v2.py``),
# least serious first: the most serious code of a capability that is not
# active becomes the account's ``disabled_reason``. What it means, who can
# lift it, and its words for the user and for staff. A new code is one row here.
CODES: dict[str, Reason] = {
    "determining_status": Reason(
        AccountStatus.PENDING_VERIFICATION, STRIPE,
        user=_("Stripe is still setting up your account."),
        staff=_("Stripe is still deciding whether to turn it on."),
    ),
    "requirements_pending_verification": Reason(
        AccountStatus.PENDING_VERIFICATION, STRIPE,
        user=_("Stripe is verifying the information you sent."),
        staff=_("Stripe is verifying the information it received."),
    ),
    "requirements_past_due": Reason(
        AccountStatus.RESTRICTED, USER,
        user=_("Stripe needs more information before it can send payouts."),
        staff=_("Information Stripe asked for is past due."),
    ),
    # Stripe is reviewing the account: not a rejection, Stripe lifts it (and
    # asks the user for what it needs through entries past due).
    "restricted_other": Reason(
        AccountStatus.RESTRICTED, STRIPE,
        user=_("Stripe is reviewing your account."),
        staff=_("Stripe is reviewing the account (restricted_other)."),
        user_can_resolve_past_due=True,
    ),
    "unsupported_business": Reason(
        AccountStatus.DISABLED, STRIPE,
        user=_("Stripe cannot pay out to this kind of business."),
        staff=_("Stripe does not offer it to this kind of business."),
    ),
    "unsupported_country": Reason(
        AccountStatus.DISABLED, STRIPE,
        user=_("Stripe cannot pay out to accounts in your country."),
        staff=_("Stripe does not offer it in the account's country."),
    ),
    "unsupported_entity_type": Reason(
        AccountStatus.DISABLED, STRIPE,
        user=_("Stripe cannot pay out to this type of business."),
        staff=_("Stripe does not offer it to this type of business entity."),
    ),
    "rejected_incomplete_verification": Reason(
        AccountStatus.DISABLED, STRIPE,
        user=_("Stripe closed this account because it could not complete the verification."),
        staff=_("Stripe rejected it because the verification could not be completed."),
    ),
    "rejected_other": Reason(
        AccountStatus.DISABLED, STRIPE,
        user=_("Stripe closed this account."),
        staff=_("Stripe rejected it."),
    ),
    "rejected_platform_other": Reason(
        AccountStatus.DISABLED, PLATFORM,
        user=_("This site closed your account."),
        staff=_("This platform rejected the account."),
    ),
    "rejected_platform_terms_of_service": Reason(
        AccountStatus.DISABLED, PLATFORM,
        user=_("This site closed your account because of a terms of service violation."),
        staff=_("This platform rejected the account for a terms of service violation."),
    ),
    "rejected_terms_of_service": Reason(
        AccountStatus.DISABLED, STRIPE,
        user=_("Stripe closed this account because of a terms of service violation."),
        staff=_("Stripe rejected it for a terms of service violation."),
    ),
    "rejected_listed": Reason(
        AccountStatus.DISABLED, STRIPE,
        user=_("Stripe closed this account because it appears on a sanctions list."),
        staff=_("Stripe rejected it because the account appears on a sanctions list."),
    ),
    "rejected_platform_fraud": Reason(
        AccountStatus.DISABLED, PLATFORM,
        user=_("This site closed your account because of suspected fraud."),
        staff=_("This platform rejected the account because of suspected fraud."),
    ),
    "rejected_fraud": Reason(
        AccountStatus.DISABLED, STRIPE,
        user=_("Stripe closed this account because of suspected fraud."),
        staff=_("Stripe rejected it because of suspected fraud."),
    ),
}
#: A code Stripe adds later: Stripe lifts it, if anyone.
_UNKNOWN = Reason(
    AccountStatus.RESTRICTED, STRIPE, user=UNKNOWN_USER_TEXT, staff=UNKNOWN_STAFF_TEXT
)


def reason_for(code: str) -> Reason | None:
    """The meaning of a status detail ``code`` ("" or None: nothing limits the account)."""
    if not code or not isinstance(code, str):
        return None
    return CODES.get(code, _UNKNOWN)


_ONBOARDING_REASON = "routine_onboarding"

_DUE_NOW = ("currently_due", "past_due")


def is_v2(data: Mapping[str, Any]) -> bool:
    """Whether `data` (a plain dict) is an Accounts v2 object."""
    return data.get("object") == V2_OBJECT


def is_closed(data: Mapping[str, Any]) -> bool:
    """Stripe closed the account (or the platform did, through ``/close``)."""
    return bool(data.get("closed"))


def _walk(capabilities: dict[str, Any], prefix: str = "") -> Iterator[tuple[str, dict[str, Any]]]:
    """``(name, capability)`` for each capability, groups flattened with dots
    (``stripe_balance.stripe_transfers``), as Stripe names them in requirements."""
    for key, value in capabilities.items():
        if not isinstance(value, dict):
            continue
        if "status" in value:
            yield prefix + key, value
        else:
            yield from _walk(value, f"{prefix}{key}.")


_CODES_ORDER = tuple(CODES)


def _rank(order: tuple[str, ...], value: str) -> int:
    # Values Stripe adds later rank as serious as the worst known one: better
    # a loud status than a wrong "enabled".
    return order.index(value) if value in order else len(order)


def _capability_states(data: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """``{name: {"status", "status_details"}}`` over the app's configurations."""
    states: dict[str, dict[str, Any]] = {}
    configuration = dict_or_empty(data.get("configuration"))
    for name in _CONFIGURATIONS:
        config = dict_or_empty(configuration.get(name))
        for capability, value in _walk(dict_or_empty(config.get("capabilities"))):
            status = str(value.get("status") or "")
            details = [
                {"code": str(d.get("code") or ""), "resolution": str(d.get("resolution") or "")}
                for d in _list(value.get("status_details"))
                if isinstance(d, dict)
            ]
            known = states.get(capability)
            if known is None or _rank(_STATUS_ORDER, status) > _rank(
                _STATUS_ORDER, known["status"]
            ):
                states[capability] = {"status": status, "status_details": details}
    return states


def _worst_code(states: Mapping[str, Mapping[str, Any]]) -> str:
    """The most serious status detail code among capabilities that are not active."""
    codes = [
        detail["code"]
        for state in states.values()
        if state["status"] != "active"
        for detail in state["status_details"]
        if detail["code"]
    ]
    return max(codes, key=lambda code: _rank(_CODES_ORDER, code), default="")


def deadline_status(entry: Mapping[str, Any]) -> str:
    """How urgent a requirement entry is: ``past_due``, ``currently_due``... or ""."""
    return str(dict_or_empty(entry.get("minimum_deadline")).get("status") or "")


def _is_onboarding_entry(entry: Mapping[str, Any]) -> bool:
    """Stripe asks this of the user to finish onboarding, not for a later check."""
    reasons = {str(dict_or_empty(r).get("code")) for r in _list(entry.get("requested_reasons"))}
    return _ONBOARDING_REASON in reasons


def _requirement_lists(requirements: Mapping[str, Any]) -> dict[str, Any]:
    """The v1-style lists the tag and status read, from the v2 entries."""
    currently_due: list[str] = []
    past_due: list[str] = []
    eventually_due: list[str] = []
    pending: list[str] = []
    errors: list[dict[str, str]] = []
    for entry in _list(requirements.get("entries")):
        if not isinstance(entry, dict):
            continue
        name = str(entry.get("description") or "")
        if entry.get("awaiting_action_from") == "stripe":
            pending.append(name)
        else:
            deadline = deadline_status(entry)
            if deadline in _DUE_NOW:
                currently_due.append(name)
            if deadline == "past_due":
                past_due.append(name)
            eventually_due.append(name)
        for error in _list(entry.get("errors")):
            error = dict_or_empty(error)
            errors.append(
                {
                    "requirement": name,
                    "code": str(error.get("code") or ""),
                    "reason": str(error.get("description") or ""),
                }
            )
    summary = dict_or_empty(requirements.get("summary"))
    return {
        "currently_due": currently_due,
        "past_due": past_due,
        "eventually_due": eventually_due,
        "pending_verification": pending,
        "errors": errors,
        "current_deadline": _timestamp(dict_or_empty(summary.get("minimum_deadline")).get("time")),
    }


def _onboarding_due(requirements: Mapping[str, Any]) -> bool:
    """An onboarding entry waits for the user now (currently or past due)."""
    return any(
        isinstance(entry, dict)
        and entry.get("awaiting_action_from") != "stripe"
        and deadline_status(entry) in _DUE_NOW
        and _is_onboarding_entry(entry)
        for entry in _list(requirements.get("entries"))
    )


def _terms_accepted(identity: Mapping[str, Any]) -> bool:
    """The user accepted Stripe's terms (``identity.attestations.terms_of_service.
    account.date``): what submitting the onboarding form always does."""
    attestations = dict_or_empty(identity.get("attestations"))
    terms = dict_or_empty(dict_or_empty(attestations.get("terms_of_service")).get("account"))
    return bool(terms.get("date"))


def details_submitted(data: Mapping[str, Any]) -> bool:
    """v2 has no ``details_submitted``: the user accepted the terms of service
    (only the onboarding form does that), or no onboarding entry waits for
    them. An onboarding entry Stripe adds later does not undo a submission: it
    is due, and `derive_status` weighs it like any other entry."""
    return _terms_accepted(dict_or_empty(data.get("identity"))) or not _onboarding_due(
        dict_or_empty(data.get("requirements"))
    )


def _future_values(future: Mapping[str, Any]) -> dict[str, Any]:
    """``future_requirements`` as stored: Stripe's entries, summary and transition
    date, with the v1-style lists the tag reads. ``current_deadline`` is when the
    new rules take effect (``minimum_transition_date``), as v1's ``current_deadline``
    of ``future_requirements`` is."""
    if not future:
        return {}
    lists = _requirement_lists(future)
    transition = _timestamp(future.get("minimum_transition_date"))
    return {
        "entries": _list(future.get("entries")),
        "summary": dict_or_empty(future.get("summary")),
        "minimum_transition_date": future.get("minimum_transition_date"),
        **lists,
        "current_deadline": transition if transition is not None else lists["current_deadline"],
    }


def values(data: Mapping[str, Any]) -> dict[str, Any]:
    """The model's values for a v2 account (a plain dict, as `accounts.as_dict` gives)."""
    requirements = dict_or_empty(data.get("requirements"))
    states = _capability_states(data)
    statuses = {name: state["status"] for name, state in states.items()}
    payouts = [statuses.get(TRANSFERS)]
    if _PAYOUTS in statuses:
        payouts.append(statuses[_PAYOUTS])
    identity = dict_or_empty(data.get("identity"))
    defaults = dict_or_empty(data.get("defaults"))
    stored_requirements = {
        "entries": _list(requirements.get("entries")),
        "summary": dict_or_empty(requirements.get("summary")),
        **_requirement_lists(requirements),
    }
    return {
        "charges_enabled": statuses.get(CARD_PAYMENTS) == "active",
        "payouts_enabled": all(status == "active" for status in payouts),
        "details_submitted": details_submitted(data),
        "requirements": stored_requirements,
        "future_requirements": _future_values(dict_or_empty(data.get("future_requirements"))),
        "capabilities": statuses,
        "capability_details": {
            name: state["status_details"]
            for name, state in states.items()
            if state["status_details"]
        },
        "country": str(identity.get("country") or "").upper(),
        "email": data.get("contact_email") or "",
        "business_type": identity.get("entity_type") or "",
        "default_currency": str(defaults.get("currency") or "").lower(),
        "disabled_reason": _worst_code(states),
    }


#: Capability statuses that the user cannot change.
_DISABLED_STATUSES = ("rejected", "unsupported")

#: Status detail codes that mean Stripe or the platform refused the account
#: for good (``rejected_fraud``, ``unsupported_country``...). Every other code
#: (a review, a verification, something due) can be lifted: not ``disabled``.
_DISABLED_PREFIXES = ("rejected_", "unsupported_")


def _codes(capabilities: Mapping[str, str], details: Mapping[str, Any]) -> list[str]:
    """The status detail codes of the capabilities that are not active."""
    codes = []
    for name, status in capabilities.items():
        if status == "active":
            continue
        listed = details.get(name)
        for detail in listed if isinstance(listed, list) else []:
            code = detail.get("code") if isinstance(detail, dict) else None
            if isinstance(code, str) and code:
                codes.append(code)
    return codes


def _is_disabled(capabilities: Mapping[str, str], codes: list[str]) -> bool:
    """A requested capability is refused for good: rejected or unsupported."""
    return any(status in _DISABLED_STATUSES for status in capabilities.values()) or any(
        code.startswith(_DISABLED_PREFIXES) for code in codes
    )


def can_receive_transfers(account: Any) -> bool:
    """Whether Stripe accepts a transfer to the stored v2 ``account`` now: not
    closed or disconnected, and ``stripe_balance.stripe_transfers`` active."""
    capabilities = account.capabilities if isinstance(account.capabilities, dict) else {}
    return bool(account.is_connected and capabilities.get(TRANSFERS) == "active")


def can_accept_card_payments(account: Any) -> bool:
    """Whether the stored v2 ``account`` can be the merchant of record of a charge
    (``on_behalf_of``): connected, and its merchant ``card_payments`` active."""
    capabilities = account.capabilities if isinstance(account.capabilities, dict) else {}
    return bool(account.is_connected and capabilities.get(CARD_PAYMENTS) == "active")


def derive_status(account: Any) -> str:
    """The status of a stored v2 ``account``, most serious state first (the
    table above): a user sees the one thing that matters now."""
    # Only the usable parts of what Stripe sent (the model's readers drop the rest).
    capabilities = dict_or_empty(account.capabilities)
    codes = _codes(capabilities, dict_or_empty(account.capability_details))
    if not account.is_connected:
        return AccountStatus.DISCONNECTED
    if _is_disabled(capabilities, codes):
        return AccountStatus.DISABLED
    if not account.details_submitted:
        return AccountStatus.ONBOARDING
    if account.past_due:
        return AccountStatus.RESTRICTED
    # Stripe's JSON as stored: a status that is not a string is not "active".
    statuses = {status if isinstance(status, str) else "" for status in capabilities.values()}
    if statuses and statuses <= {"active"}:
        return AccountStatus.ENABLED
    # What the most serious code means (`CODES`): a review is `restricted`, a
    # verification or Stripe still deciding is `pending_verification`.
    worst = max(codes, key=lambda code: _rank(_CODES_ORDER, code), default="")
    reason = reason_for(worst)
    if reason is not None:
        return reason.status
    if "pending" in statuses or account.pending_verification:
        return AccountStatus.PENDING_VERIFICATION
    return AccountStatus.RESTRICTED


#: The roots of a v2 requirement path.
_V2_ROOTS = ("identity.", "configuration.", "defaults.")

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

#: ``status_details.resolution``: what staff can do about it.
RESOLUTION_TEXTS: dict[str, Promise] = {
    "provide_info": _("The user must provide information: send them to finish onboarding."),
    "contact_stripe": _("Contact Stripe support about this account."),
    "no_resolution": _("This cannot be resolved."),
}

def _is_v2_requirement(name: str) -> bool:
    return name.startswith(_V2_ROOTS)


def humanize_requirement(name: str) -> str:
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
    """A capability's status detail code in words, for staff (the code itself if unknown)."""
    return str(CODES[code].staff) if code in CODES else code


def resolution_text(resolution: str) -> str:
    return str(RESOLUTION_TEXTS.get(resolution, resolution))


def _display_name(prefill: Mapping[str, str]) -> str:
    """The business name from the prefill, else the person's name."""
    if prefill.get("business_name"):
        return prefill["business_name"]
    names = [prefill.get("first_name", ""), prefill.get("last_name", "")]
    return " ".join(name for name in names if name)


def create_params(user: Any, prefill: Mapping[str, str]) -> dict[str, Any]:
    """``v2.core.accounts.create`` parameters of an Express-like account, before
    the host's hook (``ACCOUNT_CREATE_PARAMS``): the Express dashboard, the
    responsibilities from ``RESPONSIBILITIES``, the recipient configuration
    (the user can be paid) and the merchant one when ``SUGGESTED_CAPABILITIES``
    has ``card_payments``; country, entity type, email and name from the
    settings and the prefill (``PREFILL``)."""
    configuration: dict[str, Any] = {
        "recipient": {"capabilities": {"stripe_balance": {"stripe_transfers": {"requested": True}}}}
    }
    if CARD_PAYMENTS in app_settings.SUGGESTED_CAPABILITIES:
        configuration["merchant"] = {"capabilities": {CARD_PAYMENTS: {"requested": True}}}
    params: dict[str, Any] = {
        "dashboard": "express",
        "defaults": {"responsibilities": app_settings.RESPONSIBILITIES},
        "configuration": configuration,
        "include": list(INCLUDE),
        "metadata": {"platform_user_id": str(user.pk)},
    }
    identity: dict[str, Any] = {}
    country = app_settings.COUNTRY or prefill.get("country")
    if country:
        identity["country"] = country.lower()
    if app_settings.BUSINESS_TYPE:
        identity["entity_type"] = app_settings.BUSINESS_TYPE
    if identity:
        params["identity"] = identity
    email = prefill.get("email") or getattr(user, "email", "")
    if email:
        params["contact_email"] = email
    name = _display_name(prefill)
    if name:
        params["display_name"] = name
    return params


#: The first API version whose ``/v2/core/account_links`` has no
#: ``use_case.*.configurations`` (changelog, 2026-09-30.endive): before it the
#: parameter is required; from it on Stripe refuses it.
_CONFIGURATIONS_DROPPED = "2026-09-30"


# Sent rather than refused by a check: a platform pins a version so that
# nothing changes under it; making it move to endive just for Account Links
# would be the app forcing an API upgrade (and every other call's changes) on it.
def _needs_configurations(version: str | None) -> bool:
    """Whether Account Links of the API ``version`` the client pins need ``configurations``
    (None: the library's own version, which is newer)."""
    return bool(version) and str(version)[:10] < _CONFIGURATIONS_DROPPED


def _configurations(account: Any) -> list[str]:
    """The configurations the app created the account with (`create_params`):
    recipient, and merchant when it asked for ``card_payments``."""
    capabilities = dict_or_empty(account.capabilities)
    return ["recipient", "merchant"] if CARD_PAYMENTS in capabilities else ["recipient"]


def lacks_contact_email(params: Mapping[str, Any]) -> bool:
    """``v2.core.accounts.create`` parameters (after the host's hook) that Stripe
    refuses: a merchant or recipient configuration without ``contact_email``."""
    configuration = params.get("configuration")
    configured = isinstance(configuration, Mapping) and bool(
        set(configuration) & {"merchant", "recipient"}
    )
    return configured and not params.get("contact_email")


def create_link(
    client: stripe.StripeClient, account: Any, *, refresh_url: str, return_url: str
) -> str:
    """A fresh v2 Account Link's URL (``/v2/core/account_links``); raises `stripe.StripeError`.

    With a ``STRIPE_VERSION`` older than 2026-09-30.endive the link names the
    configurations to collect for, as those versions require (stripe 16's
    types no longer know the parameter).
    """
    use_case = _link_use_case(account)
    options: dict[str, Any] = {"refresh_url": refresh_url, "return_url": return_url}
    if _needs_configurations(app_settings.STRIPE_VERSION):
        options["configurations"] = _configurations(account)
    params: Any = {  # `configurations` is not in stripe 16's typed params
        "account": account.stripe_id,
        "use_case": {"type": use_case, use_case: options},
    }
    link = client.v2.core.account_links.create(params)
    return str(link.url)


def _link_use_case(account: Any) -> str:
    """Always ``account_onboarding``: Stripe refuses ``account_update`` links for
    accounts with a Stripe-hosted dashboard (the app's have the Express one), and
    an onboarding link collects whatever is due now, after onboarding too."""
    return "account_onboarding"


def retrieve(client: stripe.StripeClient, stripe_id: str, context: str = "") -> Any:
    """A v2 account as Stripe sees it now, with every part the app reads
    (``include``: Stripe leaves the rest out). ``context``: the thin event's
    ``context`` (``Stripe-Context``), where the account lives when it is not
    the platform's own."""
    params: Any = {"include": list(INCLUDE)}  # the typed params want literals
    if context:
        return client.v2.core.accounts.retrieve(stripe_id, params, {"stripe_context": context})
    return client.v2.core.accounts.retrieve(stripe_id, params)


def balance_settings_params(schedule: PayoutSchedule) -> dict[str, Any]:
    """``/v1/balance_settings`` parameters for a v2 account's payout schedule:
    ``payments.payouts.schedule`` (weekly and monthly days as lists) and the
    delay as ``payments.settlement_timing.delay_days_override`` (``""``: the
    country's minimum)."""
    timing: dict[str, Any] = {"interval": schedule.interval}
    if schedule.interval == "weekly":
        timing["weekly_payout_days"] = [schedule.anchor]
    elif schedule.interval == "monthly":
        timing["monthly_payout_days"] = [schedule.anchor]
    payments: dict[str, Any] = {"payouts": {"schedule": timing}}
    if schedule.delay_days is not None:
        delay = "" if schedule.delay_days == "minimum" else schedule.delay_days
        payments["settlement_timing"] = {"delay_days_override": delay}
    return {"payments": payments}
