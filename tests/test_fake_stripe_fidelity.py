"""The fake's objects have the shapes of Stripe's published samples.

Reads ``../shared/stripe/`` next to the repository (never copied into it) and
skips where that folder is absent.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import stripe

from django_stripe_express.testing import FakeStripe

SHARED = Path(__file__).resolve().parents[1] / ".." / "shared" / "stripe"


def load(name: str) -> Any:
    path = SHARED / name
    if not path.exists():
        pytest.skip(f"Stripe reference data not found at {path}")
    return json.loads(path.read_text())


@pytest.fixture(scope="module")
def samples() -> dict[str, Any]:
    resources: dict[str, Any] = load("fixtures3.json")["resources"]
    return resources


def keys(obj: Any) -> set[str]:
    return set(obj.to_dict() if hasattr(obj, "to_dict") else obj)


def test_account_has_stripes_top_level_keys(
    samples: dict[str, Any], fake_stripe: FakeStripe, fake_stripe_client: stripe.StripeClient
) -> None:
    created = fake_stripe_client.v1.accounts.create({"type": "express"})
    assert keys(created) == keys(samples["account"])
    assert keys(fake_stripe.create_account()) == keys(samples["account"])
    completed = fake_stripe.complete_onboarding(created.id)
    assert keys(completed) == keys(samples["account"])
    for nested in ("requirements", "future_requirements", "tos_acceptance"):
        assert keys(completed[nested]) == keys(samples["account"][nested])
    assert keys(completed["settings"]) == keys(samples["account"]["settings"])


def test_express_account_matches_a_real_express_account(fake_stripe: FakeStripe) -> None:
    real = load("dj-stripe-fixtures/account_express_acct_1IuHosQveW0ONQsd.json")
    ours = fake_stripe.create_account()
    # The captured account predates ``controller`` and ``future_requirements``;
    # ``login_links`` was dropped from later API versions.
    assert keys(real) - {"login_links"} <= keys(ours)
    assert ours["type"] == real["type"] == "express"


def test_links_and_capability_shapes(
    samples: dict[str, Any], fake_stripe: FakeStripe, fake_stripe_client: stripe.StripeClient
) -> None:
    acct = fake_stripe.create_account()["id"]
    link = fake_stripe_client.v1.account_links.create(
        {
            "account": acct,
            "type": "account_onboarding",
            "refresh_url": "http://t/refresh",
            "return_url": "http://t/return",
        }
    )
    assert keys(link) == keys(samples["account_link"])
    fake_stripe.complete_onboarding(acct)
    login = fake_stripe_client.v1.accounts.login_links.create(acct)
    assert keys(login) == keys(samples["login_link"])
    capability = fake_stripe_client.v1.accounts.capabilities.retrieve(acct, "transfers")
    assert keys(capability) == keys(samples["capability"])
    assert keys(capability["requirements"]) == keys(samples["capability"]["requirements"])


def test_event_shapes(samples: dict[str, Any], fake_stripe: FakeStripe) -> None:
    real = load("dj-stripe-fixtures/event_account_updated_express.json")
    acct = fake_stripe.create_account()["id"]
    event = fake_stripe.build_event(
        "account.updated", account=acct, previous_attributes={"metadata": {}}
    )
    assert keys(event) == keys(real)
    assert keys(event["data"]) == keys(real["data"])
    assert keys(event["request"]) == keys(real["request"])
    assert keys(event) - {"account"} == keys(samples["event"])

    real_deauth = load("dj-stripe-fixtures/event_account_application_deauthorized.json")
    deauth = fake_stripe.build_event("account.application.deauthorized", account=acct)
    assert keys(deauth) == keys(real_deauth)
    assert keys(deauth["data"]["object"]) == keys(real_deauth["data"]["object"])
    assert keys(deauth["data"]["object"]) == keys(samples["application"])
    assert deauth["data"]["object"]["id"] == fake_stripe.client_id

    capability = fake_stripe.build_event("capability.updated", account=acct)
    assert keys(capability["data"]["object"]) == keys(samples["capability"])


def test_token_response_has_the_documented_keys(
    fake_stripe: FakeStripe, fake_stripe_client: stripe.StripeClient
) -> None:
    token = fake_stripe_client.oauth.token(
        {"grant_type": "authorization_code", "code": fake_stripe.issue_code()}
    )
    assert keys(token) == {
        "access_token",
        "livemode",
        "refresh_token",
        "token_type",
        "stripe_publishable_key",
        "stripe_user_id",
        "scope",
    }
