"""Copying Stripe's Account object onto the model."""

import json
from pathlib import Path

import pytest

from django_stripe_express.models import stripe_values

from .factories import ExpressAccountFactory

SHARED = Path(__file__).resolve().parents[2] / "shared" / "stripe"


def shared_json(name: str) -> dict:
    path = SHARED / name
    if not path.exists():
        pytest.skip(f"Stripe reference data not found at {path}")
    return json.loads(path.read_text())


@pytest.mark.django_db
def test_real_express_account_is_applied():
    data = shared_json("dj-stripe-fixtures/account_express_acct_1IuHosQveW0ONQsd.json")
    account = ExpressAccountFactory(onboarding=True, stripe_id=data["id"])
    account.apply(data)
    account.save()
    account.refresh_from_db()
    assert account.charges_enabled is data["charges_enabled"]
    assert account.payouts_enabled is data["payouts_enabled"]
    assert account.details_submitted is data["details_submitted"]
    assert account.country == data["country"]
    assert account.capabilities == data["capabilities"]
    assert account.requirements == data["requirements"]
    assert account.disabled_reason == (data["requirements"].get("disabled_reason") or "")
    assert account.synced_at is not None
    assert account.status == account.derive_status()


def test_missing_and_null_fields_become_empty_values():
    values = stripe_values({"id": "acct_1", "email": None, "requirements": None})
    assert values["email"] == ""
    assert values["requirements"] == {}
    assert values["disabled_reason"] == ""
    assert values["charges_enabled"] is False


def test_stripe_objects_are_stored_as_plain_dicts():
    import stripe

    obj = stripe.StripeObject.construct_from(
        {
            "id": "acct_1",
            "capabilities": {"transfers": "active"},
            "requirements": {"past_due": ["x"]},
        },
        "sk_test_x",
    )
    values = stripe_values(obj)
    assert type(values["capabilities"]) is dict
    assert values["requirements"] == {"past_due": ["x"]}
