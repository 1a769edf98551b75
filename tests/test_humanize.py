"""Stripe's requirement names, in plain words."""

from __future__ import annotations

import pytest

from django_stripe_express import accounts
from django_stripe_express.accounts.v1 import humanize_requirement


def humanize_requirements(names: list[str]) -> list[str]:
    return accounts.humanize_requirements(names, humanize_requirement)


@pytest.mark.parametrize(
    ("name", "words"),
    [
        ("external_account", "bank account"),
        ("individual.verification.document", "identity document"),
        ("representative.verification.document", "identity document"),
        ("person_1AbCdEf.verification.document", "identity document"),
        ("individual.verification.additional_document", "proof of address"),
        ("tos_acceptance.date", "terms of service acceptance"),
        ("tos_acceptance.ip", "terms of service acceptance"),
        ("individual.dob.day", "date of birth"),
        ("individual.address.line1", "address"),
        ("individual.id_number", "ID number"),
        ("individual.first_name", "full name"),
        ("business_profile.url", "business website"),
        ("company.tax_id", "company tax ID"),
        # Unknown: the raw name, humanised.
        ("individual.favourite_colour", "individual favourite colour"),
        ("some_new.thing", "some new thing"),
    ],
)
def test_humanize_requirement(name, words):
    assert humanize_requirement(name) == words


def test_humanize_requirements_merges_duplicates_in_order():
    assert humanize_requirements(
        ["tos_acceptance.date", "external_account", "tos_acceptance.ip", "individual.dob.day",
         "individual.dob.month"]
    ) == ["terms of service acceptance", "bank account", "date of birth"]
    assert humanize_requirements([]) == []

