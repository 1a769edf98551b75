"""Account Links with ``ACCOUNTS_API = "v2"``: what only v2 does, and how v2 fails.

The flow's shared behaviour (one account under double clicks, refresh,
return, failures) runs for both APIs in test_account_links*.py.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from django_stripe_express.models import ConnectAttempt, ExpressAccount

from .account_links_support import (
    INCLUDE,
    header,
    hosted_onboarding,
    local_path,
    only_v2,
    texts,
)
from .factories import ExpressAccountFactory, UserFactory

CONNECT = "/stripe/connect/"
REFRESH = "/stripe/onboarding/refresh/"
RETURN = "/stripe/onboarding/return/"

pytestmark = only_v2


def body(recorded: Any) -> dict[str, Any]:
    return json.loads(recorded.body)


def v2_profile(request: Any, params: dict[str, Any]) -> dict[str, Any]:
    """An ``ACCOUNT_CREATE_PARAMS`` hook that adds a v2 parameter."""
    params["defaults"]["profile"] = {"product_description": f"Seller {request.user.pk}"}
    return params


def test_creates_an_express_like_v2_account(logged_in_client, user, account_links_mode, settings):
    fake = account_links_mode
    settings.STRIPE_EXPRESS = {
        **settings.STRIPE_EXPRESS,
        "COUNTRY": "GB",
        "BUSINESS_TYPE": "individual",
        "SUGGESTED_CAPABILITIES": ["transfers", "card_payments"],
    }

    response = logged_in_client.post(CONNECT)

    (create,) = fake.creates()
    assert header(create, "Content-Type") == "application/json"
    assert header(create, "Idempotency-Key").startswith(
        f"django-stripe-express:create-v2-account:test:{user.pk}:params:"
    )
    assert body(create) == {
        "dashboard": "express",
        "defaults": {
            "responsibilities": {"fees_collector": "application", "losses_collector": "application"}
        },
        "configuration": {
            "recipient": {
                "capabilities": {"stripe_balance": {"stripe_transfers": {"requested": True}}}
            },
            "merchant": {"capabilities": {"card_payments": {"requested": True}}},
        },
        "include": INCLUDE,
        "metadata": {"platform_user_id": str(user.pk)},
        "identity": {"country": "gb", "entity_type": "individual"},
        "contact_email": user.email,
        "display_name": "Ada Lovelace",
    }
    account = ExpressAccount.objects.get()
    assert account.accounts_api == "v2"
    assert account.status == ExpressAccount.Status.ONBOARDING
    assert (account.country, account.email, account.business_type) == (
        "GB",
        user.email,
        "individual",
    )
    assert account.capabilities == {
        "card_payments": "restricted",
        "stripe_balance.stripe_transfers": "restricted",
    }
    stored = fake.accounts[account.stripe_id]
    assert stored["object"] == "v2.core.account"
    assert stored["metadata"] == {"platform_user_id": str(user.pk)}
    (link,) = fake.links()
    assert body(link) == {
        "account": account.stripe_id,
        "use_case": {
            "type": "account_onboarding",
            "account_onboarding": {
                "refresh_url": "http://testserver/stripe/onboarding/refresh/",
                "return_url": "http://testserver/stripe/onboarding/return/",
            },
        },
    }
    assert response["Location"].startswith(f"{fake.url}/setup/e/{account.stripe_id}/")


def test_without_card_payments_the_account_is_only_a_recipient(
    logged_in_client, user, account_links_mode
):
    logged_in_client.post(CONNECT)

    (create,) = account_links_mode.creates()
    assert set(body(create)["configuration"]) == {"recipient"}
    assert "identity" not in body(create)  # nothing preset: the user chooses on Stripe's form
    assert ExpressAccount.objects.get().capabilities == {
        "stripe_balance.stripe_transfers": "restricted"
    }


def test_responsibilities_and_the_hook(logged_in_client, user, account_links_mode, settings):
    settings.STRIPE_EXPRESS = {
        **settings.STRIPE_EXPRESS,
        "RESPONSIBILITIES": {"fees_collector": "stripe", "losses_collector": "stripe"},
        "ACCOUNT_CREATE_PARAMS": f"{__name__}.v2_profile",
    }

    logged_in_client.post(CONNECT)

    (create,) = account_links_mode.creates()
    assert body(create)["defaults"] == {
        "responsibilities": {"fees_collector": "stripe", "losses_collector": "stripe"},
        "profile": {"product_description": f"Seller {user.pk}"},
    }
    stored = account_links_mode.accounts[ExpressAccount.objects.get().stripe_id]
    assert stored["defaults"]["responsibilities"]["fees_collector"] == "stripe"


def test_display_name_prefers_the_business_name(client, db, account_links_mode, settings):
    settings.STRIPE_EXPRESS = {
        **settings.STRIPE_EXPRESS,
        "PREFILL": f"{__name__}.business_prefill",
    }
    client.force_login(UserFactory(email="shop@example.com"))

    client.post(CONNECT)

    (create,) = account_links_mode.creates()
    assert body(create)["display_name"] == "Ada's Shop"
    assert body(create)["contact_email"] == "orders@example.com"


def business_prefill(request: Any) -> dict[str, str]:
    return {"email": "orders@example.com", "business_name": "Ada's Shop", "first_name": "Ada"}


def test_the_whole_flow_onboarding_to_enabled(
    logged_in_client, account_links_mode, signals_received
):
    fake = account_links_mode
    link = logged_in_client.post(CONNECT)["Location"]

    back = hosted_onboarding(link, finish=True)
    response = logged_in_client.get(local_path(back))

    account = ExpressAccount.objects.get()
    assert account.status == ExpressAccount.Status.ENABLED
    assert account.payouts_enabled is True
    assert account.capabilities == {"stripe_balance.stripe_transfers": "active"}
    assert texts(response) == ["Your Stripe account is set up. You are ready to be paid."]
    reads = fake.requests_to(f"/v2/core/accounts/{account.stripe_id}", "GET")
    assert len(reads) == 1
    assert [v for k, v in sorted(reads[0].query.items())] == [INCLUDE]
    # The Express dashboard opens through a v1 login link, which takes v2 ids.
    dashboard = logged_in_client.post("/stripe/dashboard/")
    assert dashboard["Location"].startswith(f"{fake.url}/express/{account.stripe_id}/")


def test_an_onboarded_user_with_something_due_gets_an_onboarding_link(
    logged_in_client, user, account_links_mode
):
    fake = account_links_mode
    logged_in_client.post(CONNECT)
    account = ExpressAccount.objects.get()
    fake.complete_onboarding(account.stripe_id)
    fake.require_verification(
        account.stripe_id, ["identity.individual.documents.primary_verification"]
    )
    logged_in_client.get(RETURN)
    account.refresh_from_db()
    assert account.status == ExpressAccount.Status.RESTRICTED

    response = logged_in_client.post(CONNECT)

    assert response["Location"].startswith(f"{fake.url}/setup/e/{account.stripe_id}/")
    update = fake.links()[-1]
    # Issue 23, point 2: Stripe refuses account_update links for accounts with
    # the Express dashboard; an onboarding link collects what is newly due.
    assert body(update)["use_case"]["type"] == "account_onboarding"
    # Done updating: the return re-reads the account, which is enabled again.
    back = logged_in_client.get(local_path(hosted_onboarding(response["Location"])))
    account.refresh_from_db()
    assert account.status == ExpressAccount.Status.ENABLED
    assert back["Location"] == "/dashboard/"


def test_an_enabled_v2_user_goes_to_the_dashboard(logged_in_client, user, account_links_mode):
    ExpressAccountFactory(
        user=user, accounts_api="v2", capabilities={"stripe_balance.stripe_transfers": "active"}
    )

    response = logged_in_client.post(CONNECT)

    assert response["Location"] == "/stripe/dashboard/"
    assert account_links_mode.requests == []


def test_an_existing_v1_account_keeps_v1_after_switching(
    logged_in_client, user, account_links_mode
):
    """A platform that moves to v2 keeps reading its v1 accounts with v1."""
    fake = account_links_mode
    acct = fake.create_account(email=user.email)["id"]
    ExpressAccountFactory(user=user, stripe_id=acct, onboarding=True)

    link = logged_in_client.post(CONNECT)["Location"]
    logged_in_client.get(local_path(hosted_onboarding(link)))

    account = ExpressAccount.objects.get()
    assert (account.accounts_api, account.status) == ("v1", ExpressAccount.Status.ENABLED)
    assert fake.requests_to("/v2/") == []
    assert len(fake.requests_to("/v1/account_links", "POST")) == 1


def test_a_closed_account_is_disconnected_on_return(
    logged_in_client, account_links_mode, signals_received
):
    fake = account_links_mode
    logged_in_client.post(CONNECT)
    account = ExpressAccount.objects.get()
    fake.close_account(account.stripe_id)

    response = logged_in_client.get(RETURN)

    assert texts(response) == ["Your Stripe account was closed. Connect again to set up a new one."]
    account.refresh_from_db()
    assert account.status == ExpressAccount.Status.DISCONNECTED
    assert "account_deauthorized" in [name for name, _kw in signals_received]
    # The next connect creates a new account in its place.
    logged_in_client.post(CONNECT)
    account.refresh_from_db()
    assert account.is_connected
    assert not fake.accounts[account.stripe_id]["closed"]


# -- creation errors: FAILURE_URL, a clear message, Stripe's code kept, no row ------------

UNAVAILABLE = "Stripe reported an error. Please try again later."


def assert_failed(response, message: str, code: str) -> None:
    assert response.status_code == 302
    assert response["Location"] == "/dashboard/"  # FAILURE_URL
    assert texts(response) == [message]
    attempt = ConnectAttempt.objects.get()
    assert attempt.outcome in (
        ConnectAttempt.Outcome.STRIPE_ERROR,
        ConnectAttempt.Outcome.STRIPE_UNREACHABLE,
    )
    assert attempt.error_code == code
    assert attempt.finished_at is not None
    assert not ExpressAccount.objects.exists()


def test_a_country_stripe_does_not_serve(logged_in_client, account_links_mode, settings):
    settings.STRIPE_EXPRESS = {**settings.STRIPE_EXPRESS, "COUNTRY": "KP"}

    response = logged_in_client.post(CONNECT)

    assert_failed(response, UNAVAILABLE, "country_unsupported")
    assert account_links_mode.accounts == {}


def test_a_capability_that_is_not_available(logged_in_client, account_links_mode):
    account_links_mode.fail_next(
        "POST /v2/core/accounts",
        status=400,
        code="capability_not_available",
        error={
            "type": "capability_not_enabled",
            "code": "capability_not_available",
            "message": "card_payments is not available in this country.",
        },
    )

    assert_failed(logged_in_client.post(CONNECT), UNAVAILABLE, "capability_not_available")


def bad_entity_type(request: Any, params: dict[str, Any]) -> dict[str, Any]:
    return {**params, "identity": {"entity_type": "sole_trader"}}


def test_invalid_identity_values(logged_in_client, account_links_mode, settings):
    settings.STRIPE_EXPRESS = {
        **settings.STRIPE_EXPRESS,
        "ACCOUNT_CREATE_PARAMS": f"{__name__}.bad_entity_type",
    }

    response = logged_in_client.post(CONNECT)

    assert_failed(response, UNAVAILABLE, "invalid_fields")
    assert "identity.entity_type" in ConnectAttempt.objects.get().error_description


def test_a_user_without_an_email(client, db, account_links_mode):
    """Stripe requires a contact email for a recipient (issue 23, point 5): the
    app asks Stripe nothing and tells the user what to add."""
    client.force_login(UserFactory(email="", first_name="", last_name=""))

    response = client.post(CONNECT)

    assert response.status_code == 302
    assert response["Location"] == "/dashboard/"  # FAILURE_URL
    assert texts(response) == [
        "Stripe needs an email address to set up your account. Add an email address "
        "to your profile, then try again."
    ]
    attempt = ConnectAttempt.objects.get()
    assert attempt.outcome == ConnectAttempt.Outcome.INVALID_REQUEST
    assert attempt.error_code == "contact_email_missing"
    assert not ExpressAccount.objects.exists()
    assert account_links_mode.creates() == []


def email_prefill(request: Any) -> dict[str, str]:
    return {"email": "payouts@example.com"}


def test_the_platform_supplies_the_email_through_prefill(client, db, account_links_mode, settings):
    """PREFILL's ``email`` is the hook for users the platform knows no email of."""
    settings.STRIPE_EXPRESS = {
        **settings.STRIPE_EXPRESS, "PREFILL": f"{__name__}.email_prefill"
    }
    client.force_login(UserFactory(email="", first_name="", last_name=""))

    response = client.post(CONNECT)

    assert response["Location"].startswith(f"{account_links_mode.url}/setup/e/")
    (create,) = account_links_mode.creates()
    assert body(create)["contact_email"] == "payouts@example.com"


def test_idempotency_error(logged_in_client, account_links_mode):
    """Stripe refuses the key (used with other parameters): the user is told, nothing kept."""
    account_links_mode.fail_next(
        "POST /v2/core/accounts",
        status=400,
        error={
            "type": "idempotency_error",
            "message": "Keys for idempotent requests can only be used with the same "
            "parameters they were first used with.",
        },
    )

    response = logged_in_client.post(CONNECT)

    assert_failed(response, UNAVAILABLE, "idempotency_error")


def test_changed_settings_after_a_lost_save_are_a_new_request(
    logged_in_client, user, account_links_mode, settings
):
    """The account was created but not stored, then the settings changed: the
    parameters are part of the key, so Stripe sees a new request, not a reused key."""
    fake = account_links_mode
    logged_in_client.post(CONNECT)
    ExpressAccount.objects.all().delete()
    ConnectAttempt.objects.all().delete()
    settings.STRIPE_EXPRESS = {**settings.STRIPE_EXPRESS, "COUNTRY": "FR"}

    response = logged_in_client.post(CONNECT)

    assert response["Location"].startswith(f"{fake.url}/setup/e/")
    first, second = (header(r, "Idempotency-Key") for r in fake.creates())
    assert first != second
    assert ExpressAccount.objects.get().country == "FR"
    assert len(fake.accounts) == 2  # the first one, never stored, stays unused at Stripe


def test_an_enabled_account_with_something_due_by_a_date(logged_in_client, account_links_mode):
    fake = account_links_mode
    logged_in_client.post(CONNECT)
    account = ExpressAccount.objects.get()
    fake.complete_onboarding(account.stripe_id)
    fake.require_by(
        account.stripe_id, ["configuration.recipient.default_outbound_destination"], 1_900_000_000
    )
    fake.require_by(account.stripe_id, ["identity.business_details.id_numbers"], 1_950_000_000,
                    future=True)

    response = logged_in_client.get(RETURN)

    account.refresh_from_db()
    assert account.status == ExpressAccount.Status.ENABLED
    assert account.current_deadline == 1_900_000_000
    assert account.requirements["eventually_due"] == [
        "configuration.recipient.default_outbound_destination",
    ]
    # Issue 23, point 3: the new rule is in future_requirements, due when it
    # takes effect (minimum_transition_date), as for v1.
    assert account.future_currently_due == ["identity.business_details.id_numbers"]
    assert account.future_deadline == 1_950_000_000
    assert account.future_requirements["minimum_transition_date"] == "2031-10-17T10:40:00.000Z"
    assert texts(response) == ["Stripe still needs one thing from you: bank account."]


def test_rate_limited(logged_in_client, account_links_mode):
    account_links_mode.fail_next("POST /v2/core/accounts", status=429)

    response = logged_in_client.post(CONNECT)

    assert_failed(response, "Stripe is busy right now. Please try again in a minute.", "rate_limit")


@pytest.mark.parametrize("down", ["500", "refused"])
def test_stripe_down(logged_in_client, account_links_mode, down):
    fake = account_links_mode
    if down == "500":
        fake.fail_next("POST /v2/core/accounts", status=500, code="api_error")
        response = logged_in_client.post(CONNECT)
        assert_failed(response, UNAVAILABLE, "api_error")
    else:
        with fake.refuse_connections():
            response = logged_in_client.post(CONNECT)
        assert_failed(response, "We could not reach Stripe. Please try again in a few minutes.", "")
