"""The fake refuses parameters as Stripe does, at any depth (stripe's params types)."""

from __future__ import annotations

from typing import Any

import pytest
import stripe

from django_stripe_express.testing import FakeStripe, FakeStripeError

LINK: Any = {"type": "account_onboarding", "refresh_url": "http://t/a", "return_url": "http://t/b"}


@pytest.mark.parametrize(
    ("params", "code", "param", "message"),
    [
        ({"colour": "red"}, "parameter_unknown", "colour", "Received unknown parameter: colour"),
        (
            {"business_profile": {"colour": "red"}},
            "parameter_unknown",
            "business_profile[colour]",
            "Received unknown parameter: business_profile[colour]",
        ),
        (
            {"capabilities": {"teleport_payments": {"requested": True}}},
            "parameter_unknown",
            "capabilities[teleport_payments]",
            "Received unknown parameter: capabilities[teleport_payments]",
        ),
        (
            {"capabilities": {"transfers": {"requested": True, "now": True}}},
            "parameter_unknown",
            "capabilities[transfers][now]",
            "Received unknown parameter: capabilities[transfers][now]",
        ),
        (
            {"email": ""},
            "parameter_invalid_empty",
            "email",
            "You passed an empty string for 'email'",
        ),
        (
            {"capabilities": {"transfers": {"requested": "maybe"}}},
            None,
            "capabilities[transfers][requested]",
            "Invalid boolean: maybe",
        ),
        (
            {"business_type": "llc"},
            None,
            "business_type",
            "Invalid business_type: must be one of individual, company, non_profit, "
            "or government_entity",
        ),
        (
            {"business_profile": {"estimated_worker_count": "many"}},
            "parameter_invalid_integer",
            "business_profile[estimated_worker_count]",
            "Invalid integer: many",
        ),
        ({"business_profile": "shop"}, None, "business_profile", "Invalid object"),
        ({"expand": "capabilities"}, None, "expand", "Invalid array"),
    ],
)
def test_create_account_refuses_what_stripe_refuses(
    fake_stripe: FakeStripe,
    fake_stripe_client: stripe.StripeClient,
    params: dict[str, Any],
    code: str | None,
    param: str,
    message: str,
) -> None:
    with pytest.raises(stripe.InvalidRequestError) as caught:
        fake_stripe_client.v1.accounts.create({"type": "express", **params})  # type: ignore[arg-type]
    error = caught.value.error
    assert caught.value.http_status == 400
    assert (error.code, error.param, error.type) == (code, param, "invalid_request_error")
    assert message in str(error.message)
    assert fake_stripe.accounts == {}


def test_required_query_and_path_checks(
    fake_stripe: FakeStripe, fake_stripe_client: stripe.StripeClient
) -> None:
    acct = fake_stripe.create_account()["id"]
    with pytest.raises(stripe.InvalidRequestError) as missing:
        fake_stripe_client.v1.account_links.create(LINK)
    assert (missing.value.code, missing.value.param) == ("parameter_missing", "account")
    with pytest.raises(stripe.InvalidRequestError) as limit:
        fake_stripe_client.v1.accounts.list({"limit": "ten"})  # type: ignore[typeddict-item]
    assert limit.value.code == "parameter_invalid_integer"
    with pytest.raises(stripe.InvalidRequestError, match="unknown parameter: colour"):
        fake_stripe_client.v1.accounts.retrieve(acct, {"colour": "red"})  # type: ignore[arg-type]
    with pytest.raises(
        stripe.InvalidRequestError, match=r"unknown parameter: collection_options\[now\]"
    ):
        fake_stripe_client.v1.account_links.create(
            {**LINK, "account": acct, "collection_options": {"now": "x"}}
        )


def test_capabilities_have_stripes_names_and_statuses(
    fake_stripe: FakeStripe, fake_stripe_client: stripe.StripeClient
) -> None:
    acct = fake_stripe.create_account(capabilities={"transfers": "pending"})["id"]

    event = fake_stripe.build_event("capability.updated", account=acct, capability="card_payments")
    unrequested = event["data"]["object"]
    assert (unrequested["status"], unrequested["requested"]) == ("unrequested", False)

    with pytest.raises(FakeStripeError, match="not 'disabled'"):
        fake_stripe.create_account(capabilities={"transfers": "disabled"})
    with pytest.raises(FakeStripeError, match="no capability 'payouts'"):
        fake_stripe.update_account(acct, capabilities={"payouts": "active"})
