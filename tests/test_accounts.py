"""Copying Stripe's Account object onto the model."""

import pytest

from django_stripe_express.models import stripe_values

from .factories import ExpressAccountFactory


@pytest.mark.django_db
def test_real_express_account_is_applied(fake_stripe, fake_stripe_client):
    # An Express account as Stripe answers it (the library's typed Account).
    acct = fake_stripe.create_account(email="ann@example.com")["id"]
    fake_stripe.complete_onboarding(acct)
    fake_stripe.update_account(
        acct, requirements={"eventually_due": ["individual.verification.document"]}
    )
    data = fake_stripe_client.v1.accounts.retrieve(acct)
    account = ExpressAccountFactory(onboarding=True, stripe_id=data.id)
    account.apply(data)
    account.save()
    account.refresh_from_db()
    assert account.charges_enabled is data.charges_enabled is True
    assert account.payouts_enabled is data.payouts_enabled
    assert account.details_submitted is data.details_submitted
    assert account.country == data.country
    assert account.capabilities == data.to_dict()["capabilities"]
    assert account.requirements == data.to_dict()["requirements"]
    assert account.disabled_reason == (data.requirements.disabled_reason or "")
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
