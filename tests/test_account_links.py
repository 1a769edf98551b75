"""Account Links onboarding over real HTTP against the fake Stripe: the happy paths."""

from __future__ import annotations

from typing import Any

import pytest
from django.template import Context, Template
from django.test import RequestFactory

from django_stripe_express.models import ConnectAttempt, ExpressAccount
from django_stripe_express.onboarding.platform import idempotency_key

from .account_links_support import (
    header,
    hosted_onboarding,
    local_path,
    only_v1,
    texts,
)
from .factories import ExpressAccountFactory

CONNECT = "/stripe/connect/"
REFRESH = "/stripe/onboarding/refresh/"
RETURN = "/stripe/onboarding/return/"


def business_profile(request: Any, params: dict[str, Any]) -> dict[str, Any]:
    """An ``ACCOUNT_CREATE_PARAMS`` hook that adds a v1 parameter."""
    return {**params, "business_profile": {"product_description": f"Seller {request.user.pk}"}}


def unfinished_account(fake, user) -> str:
    """An account at the fake, created with the flow's API, not onboarded, stored locally."""
    if fake.api == "v2":
        acct = fake.create_v2_account(contact_email=user.email)["id"]
    else:
        acct = fake.create_account(email=user.email)["id"]
    ExpressAccountFactory(user=user, stripe_id=acct, onboarding=True, accounts_api=fake.api)
    return acct


def test_first_visit_creates_one_account_and_redirects_to_the_link(
    logged_in_client, user, account_links_mode, signals_received, settings
):
    fake = account_links_mode
    settings.STRIPE_EXPRESS = {
        **settings.STRIPE_EXPRESS,
        "COUNTRY": "GB",
        "BUSINESS_TYPE": "individual",
        "SUGGESTED_CAPABILITIES": ["transfers", "card_payments"],
    }

    response = logged_in_client.post(CONNECT)

    assert response.status_code == 302
    assert response["Location"].startswith(f"{fake.url}/setup/e/acct_")
    account = ExpressAccount.objects.get()
    assert account.user == user
    assert account.livemode is False
    assert account.status == ExpressAccount.Status.ONBOARDING
    assert account.country == "GB"
    assert account.email == user.email
    assert account.synced_at is not None
    assert account.accounts_api == fake.api
    assert set(fake.accounts) == {account.stripe_id}

    (create,) = fake.creates()
    key = header(create, "Idempotency-Key")
    action = "create-v2-account" if fake.api == "v2" else "create-account"
    assert key.startswith(f"django-stripe-express:{action}:test:{user.pk}:params:")
    assert len(fake.links()) == 1

    attempt = ConnectAttempt.objects.get()
    assert attempt.flow == ConnectAttempt.Flow.ACCOUNT_LINKS
    assert attempt.outcome == ConnectAttempt.Outcome.CONNECTED
    assert attempt.account == account
    assert attempt.stripe_user_id == account.stripe_id
    assert attempt.finished_at is not None
    assert len(attempt.state_hash) == 64  # random: this flow has no state
    assert [(name, kw["created"]) for name, kw in signals_received] == [("account_connected", True)]
    assert signals_received[0][1]["account"] == account


def test_second_visit_reuses_the_account_and_the_link_made_moments_ago(
    logged_in_client, account_links_mode, signals_received
):
    fake = account_links_mode
    first = logged_in_client.post(CONNECT)["Location"]
    second = logged_in_client.post(CONNECT)["Location"]

    # A double click or a second tab: the link is still unused, no new call.
    assert first == second
    assert ExpressAccount.objects.count() == 1
    assert len(fake.accounts) == 1
    assert len(fake.creates()) == 1
    assert len(fake.links()) == 1
    assert ConnectAttempt.objects.filter(outcome="connected").count() == 2
    assert [name for name, _kw in signals_received] == ["account_connected"]


def test_a_retry_after_a_lost_local_save_gets_the_same_stripe_account(
    logged_in_client, user, account_links_mode
):
    """Created at Stripe, but the row never made it: the retry must not create another."""
    fake = account_links_mode
    logged_in_client.post(CONNECT)
    first_id = ExpressAccount.objects.get().stripe_id
    ExpressAccount.objects.all().delete()  # as if saving it had failed
    assert ConnectAttempt.objects.get().stripe_user_id == first_id  # the breadcrumb

    response = logged_in_client.post(CONNECT)

    assert response.status_code == 302
    assert ExpressAccount.objects.get().stripe_id == first_id
    assert list(fake.accounts) == [first_id]
    creates = fake.creates()
    assert len(creates) == 2
    assert len({header(r, "Idempotency-Key") for r in creates}) == 1


def test_hosted_onboarding_then_return_marks_the_account_enabled(
    logged_in_client, account_links_mode, signals_received, accounts_api
):
    link = logged_in_client.post(CONNECT)["Location"]

    back = hosted_onboarding(link, finish=True)
    assert back == "http://testserver/stripe/onboarding/return/"
    response = logged_in_client.get(local_path(back))

    assert response.status_code == 302
    assert response["Location"] == "/dashboard/"
    account = ExpressAccount.objects.get()
    assert account.details_submitted is True
    assert account.payouts_enabled is True
    # A v2 account takes card payments only when `card_payments` is suggested.
    assert account.charges_enabled is (accounts_api == "v1")
    assert account.status == ExpressAccount.Status.ENABLED
    assert texts(response) == ["Your Stripe account is set up. You are ready to be paid."]
    updated = [kw for name, kw in signals_received if name == "account_updated"]
    assert len(updated) == 1
    assert updated[0]["source"] == "onboarding"
    assert updated[0]["previous_status"] == ExpressAccount.Status.ONBOARDING
    assert updated[0]["event"] is None


@pytest.mark.parametrize(
    ("next_url", "landing"),
    [
        ("/settings/payouts/", "/settings/payouts/"),
        ("https://evil.example.com/", "/dashboard/"),
        ("//evil.example.com/", "/dashboard/"),
    ],
)
def test_return_lands_on_a_safe_next_url(logged_in_client, account_links_mode, next_url, landing):
    link = logged_in_client.post(CONNECT, {"next": next_url})["Location"]

    response = logged_in_client.get(local_path(hosted_onboarding(link)))

    assert response["Location"] == landing
    assert ConnectAttempt.objects.get().next_url == ("" if landing == "/dashboard/" else next_url)


STILL_DUE = {
    "v1": "business category, business website, business type, bank account, "
    "terms of service acceptance.",
    "v2": "business type, full name, date of birth, business website, bank account, "
    "terms of service acceptance.",
}


def test_return_before_finishing_says_what_is_still_due(
    logged_in_client, account_links_mode, accounts_api
):
    link = logged_in_client.post(CONNECT)["Location"]

    back = hosted_onboarding(link, finish=False)
    response = logged_in_client.get(local_path(back))

    assert response["Location"] == "/dashboard/"
    account = ExpressAccount.objects.get()
    assert account.status == ExpressAccount.Status.ONBOARDING
    assert texts(response) == [
        "Your Stripe onboarding is not finished. Stripe still needs a few things from you: "
        + STILL_DUE[accounts_api]
    ]


def test_return_with_verification_pending_and_with_one_item_due(
    logged_in_client, user, account_links_mode
):
    fake = account_links_mode
    logged_in_client.post(CONNECT)
    acct = ExpressAccount.objects.get().stripe_id
    fake.complete_onboarding(acct)
    document = {
        "v1": "individual.verification.document",
        "v2": "identity.individual.documents.primary_verification",
    }[fake.api]
    fake.require_verification(acct, fields=[document])

    response = logged_in_client.get(RETURN)

    assert ExpressAccount.objects.get().status == ExpressAccount.Status.RESTRICTED
    assert texts(response) == [
        "Stripe still needs one thing from you: identity document."
    ]


def test_refresh_makes_a_new_link_for_the_same_account(logged_in_client, account_links_mode):
    fake = account_links_mode
    first = logged_in_client.post(CONNECT)["Location"]

    response = logged_in_client.get(REFRESH)

    assert response.status_code == 302
    assert response["Location"].startswith(f"{fake.url}/setup/e/")
    assert response["Location"] != first
    assert len(fake.creates()) == 1
    assert len(fake.links()) == 2


def test_a_used_link_sends_the_user_to_refresh_for_a_new_one(
    logged_in_client, account_links_mode
):
    import requests

    link = logged_in_client.post(CONNECT)["Location"]
    requests.get(link, timeout=5)  # opened once (e.g. in another tab)
    again = requests.get(link, allow_redirects=False, timeout=5)
    assert again.status_code in (302, 303)
    assert again.headers["Location"] == "http://testserver/stripe/onboarding/refresh/"

    response = logged_in_client.get(local_path(again.headers["Location"]))

    new_link = response["Location"]
    assert new_link != link
    assert hosted_onboarding(new_link) == "http://testserver/stripe/onboarding/return/"


def test_refresh_without_an_account_creates_none(logged_in_client, account_links_mode):
    # A GET (Stripe's refresh_url, or a cross-site <img>) never creates an
    # account: the user gets the button, whose POST starts onboarding.
    response = logged_in_client.get(REFRESH)

    assert response.status_code == 302
    assert response["Location"] == CONNECT
    assert not ExpressAccount.objects.exists()
    assert not ConnectAttempt.objects.exists()
    assert account_links_mode.requests == []


def test_return_without_an_account_goes_to_connect(logged_in_client, account_links_mode):
    response = logged_in_client.get(RETURN)

    assert response.status_code == 302
    assert response["Location"] == CONNECT
    assert account_links_mode.requests == []


def test_an_onboarded_user_goes_to_the_dashboard_view(logged_in_client, user, account_links_mode):
    ExpressAccountFactory(user=user)

    response = logged_in_client.post(CONNECT)

    assert response.status_code == 302
    assert response["Location"] == "/stripe/dashboard/"
    assert account_links_mode.requests == []
    assert not ConnectAttempt.objects.exists()


def test_an_unfinished_account_gets_a_link_without_a_new_account(
    logged_in_client, user, account_links_mode
):
    fake = account_links_mode
    acct = unfinished_account(fake, user)

    response = logged_in_client.post(CONNECT)

    assert response["Location"].startswith(f"{fake.url}/setup/e/{acct}/")
    assert fake.creates() == []
    assert len(fake.links()) == 1
    assert ConnectAttempt.objects.get().account.stripe_id == acct


def test_a_disconnected_account_is_replaced_by_a_new_one(
    logged_in_client, user, account_links_mode, signals_received
):
    fake = account_links_mode
    old = ExpressAccountFactory(user=user, disconnected=True)

    response = logged_in_client.post(CONNECT)

    assert response.status_code == 302
    account = ExpressAccount.objects.get()
    assert account.pk == old.pk  # one row per user and mode
    assert account.stripe_id != old.stripe_id
    assert account.stripe_id in fake.accounts
    assert account.is_connected
    assert account.status == ExpressAccount.Status.ONBOARDING
    assert account.accounts_api == fake.api
    (create,) = fake.creates()
    # Not the first account's key: that one would replay the old account.
    key = header(create, "Idempotency-Key")
    assert key.endswith(f":replaces:{old.stripe_id}")
    assert f":{user.pk}:params:" in key
    sent = [(name, kw["created"]) for name, kw in signals_received]
    assert sent == [("account_connected", False)]


@only_v1
def test_v1_creates_an_express_account_with_controller_properties(
    logged_in_client, user, account_links_mode, settings
):
    fake = account_links_mode
    settings.STRIPE_EXPRESS = {
        **settings.STRIPE_EXPRESS,
        "COUNTRY": "GB",
        "BUSINESS_TYPE": "individual",
        "SUGGESTED_CAPABILITIES": ["transfers", "card_payments"],
    }

    logged_in_client.post(CONNECT)

    (create,) = fake.creates()
    # Stripe deprecated `type=express`; the controller properties make the same account.
    assert create.form == {
        "controller": {
            "stripe_dashboard": {"type": "express"},
            "fees": {"payer": "application"},
            "losses": {"payments": "application"},
            "requirement_collection": "stripe",
        },
        "country": "GB",
        "email": user.email,
        "business_type": "individual",
        "capabilities": {
            "transfers": {"requested": "true"},
            "card_payments": {"requested": "true"},
        },
        "metadata": {"platform_user_id": str(user.pk)},
    }
    stored = fake.accounts[ExpressAccount.objects.get().stripe_id]
    assert stored["type"] == "express"
    assert stored["controller"]["stripe_dashboard"] == {"type": "express"}
    (link,) = fake.links()
    assert link.form == {
        "account": stored["id"],
        "type": "account_onboarding",
        "refresh_url": "http://testserver/stripe/onboarding/refresh/",
        "return_url": "http://testserver/stripe/onboarding/return/",
    }


@only_v1
@pytest.mark.parametrize(
    ("responsibilities", "fees", "losses"),
    [
        ({"fees_collector": "stripe", "losses_collector": "stripe"}, "account", "stripe"),
        ({"fees_collector": "application", "losses_collector": "stripe"}, "application", "stripe"),
    ],
)
def test_v1_controller_follows_the_responsibilities(
    logged_in_client, account_links_mode, settings, responsibilities, fees, losses
):
    settings.STRIPE_EXPRESS = {**settings.STRIPE_EXPRESS, "RESPONSIBILITIES": responsibilities}

    logged_in_client.post(CONNECT)

    (create,) = account_links_mode.creates()
    assert create.form["controller"]["fees"] == {"payer": fees}
    assert create.form["controller"]["losses"] == {"payments": losses}


@only_v1
def test_create_params_hook_can_add_parameters(
    logged_in_client, user, account_links_mode, settings
):
    fake = account_links_mode
    settings.STRIPE_EXPRESS = {
        **settings.STRIPE_EXPRESS,
        "ACCOUNT_CREATE_PARAMS": f"{__name__}.business_profile",
    }

    logged_in_client.post(CONNECT)

    (create,) = fake.creates()
    assert create.form["business_profile"] == {"product_description": f"Seller {user.pk}"}
    assert create.form["controller"]["stripe_dashboard"] == {"type": "express"}


def test_views_require_login(client, account_links_mode):
    for path in (CONNECT, REFRESH, RETURN):
        response = client.get(path)
        assert response.status_code == 302
        assert response["Location"].startswith(f"/accounts/login/?next={path}")
    assert account_links_mode.requests == []


def test_query_counts(
    logged_in_client, account_links_mode, django_assert_num_queries
):
    # Session + user, account lookup, attempt insert, the last refused
    # creation (for the idempotency key), breadcrumb, account insert (in a
    # savepoint), attempt close.
    with django_assert_num_queries(10):
        logged_in_client.post(CONNECT)
    # Session + user, account lookup.
    with django_assert_num_queries(3):
        logged_in_client.get(REFRESH)
    # Session + user, account lookup, one UPDATE, the attempt's `next`.
    with django_assert_num_queries(5):
        logged_in_client.get(RETURN)


@pytest.mark.parametrize("livemode", [False, True])
def test_idempotency_key_is_per_user_mode_parameters_and_failure(user, other_user, livemode):
    params = {"type": "express", "email": "a@example.com", "metadata": {"u": "1"}}
    key = idempotency_key(user, livemode, params)
    assert key == idempotency_key(user, livemode, dict(reversed(list(params.items()))))
    others = {
        idempotency_key(other_user, livemode, params),
        idempotency_key(user, not livemode, params),
        idempotency_key(user, livemode, {**params, "email": "b@example.com"}),
        idempotency_key(user, livemode, {**params, "country": "FR"}),
        idempotency_key(user, livemode, params, replaces="acct_old"),
        idempotency_key(user, livemode, params, after=7),
    }
    assert key not in others
    assert len(others) == 6
    assert all(len(k) <= 255 for k in {key, *others})


@only_v1
def test_return_stores_what_is_due_by_a_deadline_while_enabled(
    logged_in_client, account_links_mode
):
    fake = account_links_mode
    logged_in_client.post(CONNECT)
    account = ExpressAccount.objects.get()
    fake.complete_onboarding(account.stripe_id)
    fake.require_by(account.stripe_id, ["external_account"], 1_900_000_000)
    fake.require_by(account.stripe_id, ["company.tax_id"], 1_950_000_000, future=True)

    response = logged_in_client.get(RETURN)

    account.refresh_from_db()
    assert account.status == ExpressAccount.Status.ENABLED
    assert account.current_deadline == 1_900_000_000
    assert account.future_requirements["currently_due"] == ["company.tax_id"]
    assert texts(response) == ["Stripe still needs one thing from you: bank account."]


@pytest.mark.parametrize(
    ("outcome", "status", "message", "shown"),
    [
        (
            "pending_verification",
            "pending_verification",
            "Thanks! Stripe is verifying your details.",
            "Stripe is checking your details",
        ),
        (
            "review",
            "restricted",
            "Stripe still needs one thing from you: product description.",
            "Stripe is reviewing this account and needs more information from you.",
        ),
    ],
)
def test_onboarding_can_end_in_verification_or_a_review(
    logged_in_client, user, account_links_mode, outcome, status, message, shown
):
    link = logged_in_client.post(CONNECT)["Location"]

    back = hosted_onboarding(link, outcome=outcome)
    response = logged_in_client.get(local_path(back))

    account = ExpressAccount.objects.get()
    assert account.status == status
    assert account.details_submitted
    assert texts(response) == [message]
    request = RequestFactory().get("/")
    request.user = user
    page = Template("{% load stripe_express %}{% stripe_express_button %}").render(
        Context({"request": request})
    )
    assert shown in page
