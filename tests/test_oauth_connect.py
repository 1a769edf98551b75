"""Step 1: the `connect` view sends the user to Stripe's Express OAuth page."""

from __future__ import annotations

import datetime
from urllib.parse import urlsplit

import pytest
import requests
from django.utils import timezone

from django_stripe_express.models import ConnectAttempt, hash_state

from .factories import ExpressAccountFactory
from .oauth_support import query_of, start


@pytest.fixture
def oauth_settings(settings, fake_stripe):
    settings.STRIPE_EXPRESS = {
        **settings.STRIPE_EXPRESS,
        "BUSINESS_TYPE": "individual",
        "SUGGESTED_CAPABILITIES": ["transfers", "card_payments"],
    }
    return settings


def test_redirects_to_express_authorize_with_every_parameter(
    logged_in_client, user, fake_stripe, oauth_settings
):
    url = start(logged_in_client)

    attempt = ConnectAttempt.objects.get()
    assert url.startswith(f"{fake_stripe.connect_base}/express/oauth/authorize?")
    query = query_of(url)
    assert query["client_id"] == [fake_stripe.client_id]
    assert query["response_type"] == ["code"]
    assert attempt.state_hash == hash_state(query["state"][0])
    assert query["redirect_uri"] == ["http://testserver/stripe/oauth/callback/"]
    assert query["stripe_user[business_type]"] == ["individual"]
    assert query["stripe_user[email]"] == [user.email]
    assert query["stripe_user[first_name]"] == ["Ada"]
    assert query["stripe_user[last_name]"] == ["Lovelace"]
    # Stripe's documented list form, not the library's `[0]`.
    assert query["suggested_capabilities[]"] == ["transfers", "card_payments"]
    raw = urlsplit(url).query
    assert (
        "suggested_capabilities%5B%5D=transfers&suggested_capabilities%5B%5D=card_payments"
    ) in raw
    assert "suggested_capabilities%5B0%5D" not in raw
    # The fake's hosted page accepts the link and reads the capabilities the same way.
    page = requests.get(url, timeout=5)
    assert page.status_code == 200
    assert "transfers, card_payments" in page.text


def test_attempt_binds_a_fresh_random_state_to_the_user(
    logged_in_client, user, fake_stripe, oauth_settings
):
    before = timezone.now()
    first = query_of(start(logged_in_client))["state"][0]
    second = query_of(start(logged_in_client))["state"][0]

    assert first != second
    assert len(first) >= 43  # 32 random bytes, URL-safe base64
    # Starting again reuses the unfinished attempt with the new state.
    attempt = ConnectAttempt.objects.get()
    assert attempt.state_hash == hash_state(second)
    assert attempt.user == user
    assert attempt.flow == ConnectAttempt.Flow.OAUTH
    assert attempt.outcome == ConnectAttempt.Outcome.PENDING
    assert attempt.livemode is False
    assert attempt.finished_at is None
    max_age = datetime.timedelta(hours=1)
    assert before + max_age <= attempt.expires_at <= timezone.now() + max_age


def test_state_max_age_and_redirect_uri_settings(logged_in_client, settings, fake_stripe):
    settings.STRIPE_EXPRESS = {
        **settings.STRIPE_EXPRESS,
        "STATE_MAX_AGE": 120,
        "REDIRECT_URI": "https://platform.example/stripe/oauth/callback/",
    }
    query = query_of(start(logged_in_client))
    attempt = ConnectAttempt.objects.get()
    assert query["redirect_uri"] == ["https://platform.example/stripe/oauth/callback/"]
    assert attempt.expires_at - attempt.created_at == datetime.timedelta(seconds=120)


@pytest.mark.parametrize(
    ("next_url", "kept"),
    [
        ("/settings/payouts/?tab=1", "/settings/payouts/?tab=1"),
        ("http://testserver/welcome/", "http://testserver/welcome/"),
        ("https://evil.example/steal", ""),
        ("//evil.example/steal", ""),
        ("javascript:alert(1)", ""),
    ],
)
def test_only_a_safe_next_url_is_remembered(logged_in_client, fake_stripe, next_url, kept):
    start(logged_in_client, next=next_url)
    assert ConnectAttempt.objects.get().next_url == kept


@pytest.mark.parametrize("method", ["get", "post"])
def test_login_required(client, fake_stripe, db, method):
    response = getattr(client, method)("/stripe/connect/")
    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/?next=/stripe/connect/"
    assert not ConnectAttempt.objects.exists()


@pytest.mark.parametrize("trait", ["enabled", "pending", "onboarding", "restricted"])
def test_user_with_a_connected_account_goes_to_the_dashboard(
    logged_in_client, user, fake_stripe, trait
):
    ExpressAccountFactory(user=user, **({} if trait == "enabled" else {trait: True}))
    response = logged_in_client.post("/stripe/connect/")
    assert response.status_code == 302
    assert response["Location"] == "/stripe/dashboard/"
    assert not ConnectAttempt.objects.exists()
    assert fake_stripe.requests == []


def test_disconnected_or_other_mode_account_does_not_count(logged_in_client, user, fake_stripe):
    ExpressAccountFactory(user=user, disconnected=True)
    assert start(logged_in_client).startswith(fake_stripe.connect_base)
    assert ConnectAttempt.objects.count() == 1


def test_connect_makes_a_bounded_number_of_queries(
    logged_in_client, fake_stripe, django_assert_num_queries
):
    # session + user (auth middleware), the account check, the unfinished
    # attempt's SELECT, then its INSERT (or, the next time, its UPDATE).
    with django_assert_num_queries(5):
        start(logged_in_client)
    with django_assert_num_queries(5):
        start(logged_in_client)
    ExpressAccountFactory(user=ConnectAttempt.objects.get().user)
    with django_assert_num_queries(3):  # nothing written once connected
        logged_in_client.post("/stripe/connect/")


def test_account_links_mode_does_not_use_oauth(logged_in_client, settings, fake_stripe):
    settings.STRIPE_EXPRESS = {**settings.STRIPE_EXPRESS, "ONBOARDING": "account_links"}
    location = start(logged_in_client)
    assert "/oauth/authorize" not in location
    # Accounts v2 by default (`ACCOUNTS_API`).
    assert len(fake_stripe.requests_to("/v2/core/account_links", "POST")) == 1
    assert not ConnectAttempt.objects.filter(flow=ConnectAttempt.Flow.OAUTH).exists()
