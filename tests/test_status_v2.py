"""An Accounts v2 account's status and words, for every value stripe 16's v2 types declare.

The enum values are read from the library's typed objects
(`stripe.v2.core.Account`), so a value Stripe adds in a later release fails
here until it has a status and words.
"""

from __future__ import annotations

import itertools
import typing
from typing import Any

import pytest
from stripe.v2.core import Account

from django_stripe_express.accounts import PLATFORM, STRIPE, USER, humanize_requirements
from django_stripe_express.accounts.v1 import REASONS as V1_REASONS
from django_stripe_express.accounts.v2 import CODES as V2_REASONS
from django_stripe_express.accounts.v2 import (
    RESOLUTION_TEXTS,
    capability_name,
    reason_for,
)
from django_stripe_express.accounts.v2 import humanize_requirement as humanize_v2_requirement
from django_stripe_express.models import ExpressAccount, stripe_values
from django_stripe_express.testing import objects_v2

Status = ExpressAccount.Status


def literal(cls: type, name: str) -> tuple[str, ...]:
    """The values of a ``Literal`` field of one of stripe's typed classes."""
    values = typing.get_args(typing.get_type_hints(cls)[name])
    assert values, f"{cls.__qualname__}.{name} is no Literal"
    return tuple(sorted(values))


def capability_classes() -> list[type]:
    """Every capability class under the merchant and recipient configurations."""
    found: list[type] = []

    def walk(cls: type) -> None:
        for inner in vars(cls).values():
            if isinstance(inner, type) and inner.__qualname__.startswith(cls.__qualname__):
                if "status_details" in getattr(inner, "__annotations__", {}):
                    found.append(inner)
                else:
                    walk(inner)

    walk(Account.Configuration.Merchant.Capabilities)
    walk(Account.Configuration.Recipient.Capabilities)
    return found


def union(name: str, detail: bool = False) -> tuple[str, ...]:
    values: set[str] = set()
    for cls in capability_classes():
        values.update(literal(cls.StatusDetail if detail else cls, name))  # type: ignore[attr-defined]
    return tuple(sorted(values))


ENTRY = Account.Requirements.Entry
WHO = literal(ENTRY, "awaiting_action_from")
DEADLINES = literal(ENTRY.MinimumDeadline, "status")
REASONS = literal(ENTRY.RequestedReason, "code")
STATUSES = union("status")
CODES = union("code", detail=True)
RESOLUTIONS = union("resolution", detail=True)


def test_the_library_declares_what_this_test_expects() -> None:
    # A guard against reading the wrong classes: these are the values Stripe
    # documents today; more values are fine (the tests below cover them).
    assert {"user", "stripe"} <= set(WHO)
    assert {"currently_due", "eventually_due", "past_due"} <= set(DEADLINES)
    assert {"routine_onboarding", "routine_verification"} <= set(REASONS)
    assert {"active", "pending", "restricted", "rejected", "unsupported"} <= set(STATUSES)
    assert {"provide_info", "contact_stripe", "no_resolution"} <= set(RESOLUTIONS)
    assert len(CODES) >= 15
    assert len(capability_classes()) > 20


def v2_account(
    *,
    entries: list[dict[str, Any]] | None = None,
    status: str = "active",
    details: list[dict[str, str]] | None = None,
    card_payments: str | None = None,
) -> dict[str, Any]:
    """A v2 account, as Stripe answers with every part included."""
    account = objects_v2.build_account(
        contact_email="ann@example.com", merchant=bool(card_payments)
    )
    account["requirements"] = objects_v2.requirements(entries or [])
    objects_v2.set_capability(
        account, *objects_v2.TRANSFERS, objects_v2.capability(status, details)
    )
    if card_payments:
        objects_v2.set_capability(
            account, *objects_v2.CARD_PAYMENTS, objects_v2.capability(card_payments, details)
        )
    return account


def stored(data: dict[str, Any]) -> ExpressAccount:
    """An unsaved v2 row with `data` applied, its status derived."""
    account = ExpressAccount(stripe_id=data["id"], accounts_api="v2")
    account.apply(data)
    return account


def attested(data: dict[str, Any]) -> dict[str, Any]:
    """`data` after the user submitted the onboarding form (terms accepted)."""
    data["identity"]["attestations"] = {
        "terms_of_service": {
            "account": {"date": "2026-11-02T10:00:00.000Z", "ip": "127.0.0.1", "user_agent": None}
        }
    }
    return data


def entry_status(who: str, deadline: str, reason: str) -> str:
    """What one requirement entry does to an otherwise active account."""
    if who == "user" and deadline in ("currently_due", "past_due"):
        if reason == "routine_onboarding":
            return Status.ONBOARDING
        if deadline == "past_due":
            return Status.RESTRICTED
    return Status.ENABLED


@pytest.mark.parametrize(
    ("who", "deadline", "reason"), list(itertools.product(WHO, DEADLINES, REASONS))
)
def test_every_requirement_entry(who: str, deadline: str, reason: str) -> None:
    name = "identity.individual.documents.primary_verification"
    data = v2_account(entries=[objects_v2.entry(name, who=who, deadline=deadline, reason=reason)])

    account = stored(data)

    assert account.status == entry_status(who, deadline, reason)
    lists = {
        "currently_due": who == "user" and deadline in ("currently_due", "past_due"),
        "past_due": who == "user" and deadline == "past_due",
        "eventually_due": who == "user",
        "pending_verification": who == "stripe",
    }
    for key, listed in lists.items():
        assert account.requirements[key] == ([name] if listed else []), key
    assert account.requirements["entries"] == data["requirements"]["entries"]
    if who == "user" and deadline != "eventually_due":
        assert account.requirement_words(account.currently_due) == ["identity document"]


def entry_status_after_onboarding(who: str, deadline: str) -> str:
    """What one entry does to an onboarded (terms accepted), active account:
    whatever Stripe's reason, only past due restricts it."""
    return Status.RESTRICTED if who == "user" and deadline == "past_due" else Status.ENABLED


@pytest.mark.parametrize(
    ("who", "deadline", "reason"), list(itertools.product(WHO, DEADLINES, REASONS))
)
def test_every_requirement_entry_after_onboarding(who: str, deadline: str, reason: str) -> None:
    """Issue 23, point 6: "details submitted" is the terms-of-service attestation;
    an onboarding entry Stripe adds later does not send the user back to onboarding."""
    name = "identity.individual.documents.primary_verification"
    data = attested(
        v2_account(entries=[objects_v2.entry(name, who=who, deadline=deadline, reason=reason)])
    )

    account = stored(data)

    assert account.details_submitted is True
    assert account.status == entry_status_after_onboarding(who, deadline)


def capability_status(status: str, code: str) -> str:
    """What one capability's status and status detail code make of an onboarded
    account. Only a refusal is ``disabled`` (issue 23): a review
    (``restricted_other``) or a verification is not, whatever the resolution."""
    if status == "active":
        return Status.ENABLED
    if status in ("rejected", "unsupported") or code.startswith(("rejected_", "unsupported_")):
        return Status.DISABLED
    if code in ("determining_status", "requirements_pending_verification"):
        return Status.PENDING_VERIFICATION
    return Status.RESTRICTED  # requirements_past_due, restricted_other


@pytest.mark.parametrize(
    ("status", "resolution", "code"),
    [
        (status, resolution, code)
        for status, resolution in itertools.product(STATUSES, RESOLUTIONS)
        for code in CODES
    ],
)
def test_every_capability_status_resolution_and_code(
    status: str, resolution: str, code: str
) -> None:
    detail = [{"code": code, "resolution": resolution}]

    account = stored(v2_account(status=status, details=detail))

    assert account.status == capability_status(status, code)
    assert account.capabilities == {"stripe_balance.stripe_transfers": status}
    assert account.payouts_enabled is (status == "active")
    if status == "active":
        # Stripe sends no details for an active capability.
        assert account.disabled_reason == ""
        assert account.capability_details == {}
    else:
        assert account.disabled_reason == code
        assert account.capability_details == {"stripe_balance.stripe_transfers": detail}


@pytest.mark.parametrize("code", CODES)
def test_every_code_has_words_and_who_can_lift_it(code: str) -> None:
    assert code in V2_REASONS  # one row: its status, who lifts it, its words
    row = V2_REASONS[code]
    assert str(row.staff).endswith(".")
    # The user sees why an account is limited, never a code; staff see what it means.
    assert reason_for(code) is row
    assert row.user_text({}) == str(row.user)
    assert code not in row.user_text({})
    assert row.staff_text({}) == str(row.staff)
    assert code not in V1_REASONS  # no v1 reason has this name: one table per API
    expected = (
        PLATFORM if code.startswith("rejected_platform_")
        else USER if code == "requirements_past_due" else STRIPE
    )
    assert row.lifted_by == expected


@pytest.mark.parametrize("resolution", RESOLUTIONS)
def test_every_resolution_has_words(resolution: str) -> None:
    assert resolution in RESOLUTION_TEXTS
    assert resolution not in str(RESOLUTION_TEXTS[resolution])


def test_the_worst_capability_decides() -> None:
    past_due = [{"code": "requirements_past_due", "resolution": "provide_info"}]
    data = v2_account(status="restricted", details=past_due, card_payments="rejected")
    data["configuration"]["merchant"]["capabilities"]["card_payments"]["status_details"] = [
        {"code": "rejected_fraud", "resolution": "no_resolution"}
    ]

    account = stored(data)

    assert account.status == Status.DISABLED
    assert account.disabled_reason == "rejected_fraud"
    assert account.charges_enabled is False
    assert "suspected fraud" in account.reason.user_text({})


def test_a_new_v2_account_is_onboarding() -> None:
    data = objects_v2.build_account(contact_email="ann@example.com", merchant=True)

    account = stored(data)

    assert account.status == Status.ONBOARDING
    assert account.details_submitted is False
    assert account.capabilities == {
        "card_payments": "restricted",
        "stripe_balance.stripe_transfers": "restricted",
    }
    assert account.requirement_words(account.currently_due) == [
        "business type",
        "full name",
        "date of birth",
        "business website",
        "bank account",
        "terms of service acceptance",
    ]


def test_an_onboarded_account_with_a_deadline_stays_enabled() -> None:
    later = objects_v2.entry(
        "identity.individual.id_numbers", deadline="currently_due", reason="routine_verification"
    )
    data = v2_account(entries=[later])
    data["requirements"]["summary"]["minimum_deadline"]["time"] = "2030-01-02T03:04:05.000Z"

    account = stored(data)

    assert account.status == Status.ENABLED
    assert account.current_deadline == 1893553445
    assert account.requirement_words(account.currently_due) == ["ID number"]


def test_identity_and_contact_are_stored() -> None:
    data = objects_v2.build_account(
        contact_email="ann@example.com", country="gb", entity_type="company", currency="GBP"
    )

    values = stripe_values(data)

    assert (values["country"], values["email"], values["business_type"]) == (
        "GB",
        "ann@example.com",
        "company",
    )
    assert values["default_currency"] == "gbp"


@pytest.mark.parametrize(
    ("name", "words"),
    [
        ("identity.individual.given_name", "full name"),
        ("identity.individual.surname", "full name"),
        ("identity.individual.date_of_birth.day", "date of birth"),
        ("identity.individual.address.line1", "address"),
        ("identity.individual.documents.primary_verification", "identity document"),
        ("identity.individual.documents.proof_of_address", "proof of address"),
        ("identity.individual.verification.document", "identity document"),
        ("identity.individual.id_numbers", "ID number"),
        ("identity.business_details.registered_name", "company name"),
        ("identity.business_details.id_numbers.us_ein", "company tax ID"),
        ("identity.attestations.terms_of_service.account", "terms of service acceptance"),
        ("identity.attestations.persons_provided.owners", "company owners"),
        ("identity.entity_type", "business type"),
        ("defaults.profile.business_url", "business website"),
        ("configuration.merchant.mcc", "business category"),
        ("configuration.recipient.default_outbound_destination", "bank account"),
        # Unknown: the path without its root, in words.
        ("identity.individual.legal_gender", "individual legal gender"),
    ],
)
def test_v2_requirement_words(name: str, words: str) -> None:
    assert humanize_v2_requirement(name) == words
    assert humanize_requirements([name], humanize_v2_requirement) == [words]


def test_capability_names() -> None:
    assert (
        capability_name("stripe_balance.stripe_transfers") == "receiving transfers (getting paid)"
    )
    assert capability_name("card_payments") == "card payments"
    assert capability_name("something_new") == "something_new"
