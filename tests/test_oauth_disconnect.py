"""The user's disconnect action: POST only, CSRF-protected, deauthorizes at Stripe."""

from __future__ import annotations

import pytest
from django.conf import settings as django_settings
from django.test import Client

from django_stripe_express.models import ExpressAccount
from django_stripe_express.signals import account_deauthorized

from .factories import ExpressAccountFactory
from .oauth_support import messages_of

URL = "/stripe/disconnect/"
CSRF = "k" * 32  # a valid unmasked CSRF secret


@pytest.fixture
def deauthorized(capture_signal):
    return capture_signal(account_deauthorized)


@pytest.fixture
def csrf_client(user):
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    client.cookies[django_settings.CSRF_COOKIE_NAME] = CSRF
    return client


@pytest.fixture
def connected(user, fake_stripe):
    acct = fake_stripe.create_account()
    return ExpressAccountFactory(user=user, stripe_id=acct["id"])


def test_disconnects_at_stripe_and_here(csrf_client, user, connected, fake_stripe, deauthorized):
    response = csrf_client.post(URL, {"csrfmiddlewaretoken": CSRF})

    assert response.status_code == 302
    assert response["Location"] == "/dashboard/"
    assert messages_of(response) == ["Your Stripe account is disconnected."]
    assert fake_stripe.is_deauthorized(connected.stripe_id)
    (request,) = fake_stripe.requests_to("/oauth/deauthorize")
    assert request.form == {
        "client_id": fake_stripe.client_id,
        "stripe_user_id": connected.stripe_id,
    }
    connected.refresh_from_db()
    assert connected.deauthorized_at is not None
    assert connected.status == ExpressAccount.Status.DISCONNECTED
    assert [(d["account"], d["event"]) for d in deauthorized] == [(connected, None)]


def test_without_csrf_token_nothing_happens(csrf_client, connected, fake_stripe, deauthorized):
    csrf_client.cookies.pop(django_settings.CSRF_COOKIE_NAME)
    response = csrf_client.post(URL)
    assert response.status_code == 403
    assert fake_stripe.requests == []
    connected.refresh_from_db()
    assert connected.is_connected
    assert deauthorized == []


def test_get_is_not_allowed(logged_in_client, connected, fake_stripe):
    assert logged_in_client.get(URL).status_code == 405
    connected.refresh_from_db()
    assert connected.is_connected


def test_login_required(client, connected, fake_stripe):
    response = client.post(URL)
    assert response["Location"] == f"/accounts/login/?next={URL}"
    assert fake_stripe.requests == []


def test_already_disconnected_at_stripe_is_marked_here(
    csrf_client, connected, fake_stripe, fake_stripe_client, deauthorized
):
    # Disconnected at Stripe already (from the Stripe dashboard, say).
    fake_stripe_client.oauth.deauthorize({"stripe_user_id": connected.stripe_id})
    response = csrf_client.post(URL, {"csrfmiddlewaretoken": CSRF})
    assert messages_of(response) == ["Your Stripe account is disconnected."]
    connected.refresh_from_db()
    assert not connected.is_connected
    assert len(deauthorized) == 1


def test_stripe_unreachable_changes_nothing(csrf_client, connected, fake_stripe, deauthorized):
    with fake_stripe.refuse_connections():
        response = csrf_client.post(URL, {"csrfmiddlewaretoken": CSRF})
    assert response["Location"] == "/dashboard/"
    assert messages_of(response) == [
        "We could not reach Stripe. Your account is still connected; please try again."
    ]
    connected.refresh_from_db()
    assert connected.is_connected
    assert deauthorized == []


def test_other_stripe_refusal_changes_nothing(csrf_client, connected, fake_stripe, deauthorized):
    fake_stripe.fail_next("/oauth/deauthorize", status=401, code="invalid_client",
                          message="No such application: 'ca_fake'")
    response = csrf_client.post(URL, {"csrfmiddlewaretoken": CSRF})
    assert messages_of(response) == [
        "Stripe refused to disconnect your account. Please contact support."
    ]
    connected.refresh_from_db()
    assert connected.is_connected
    assert deauthorized == []


def test_not_possible_with_account_links(csrf_client, settings, connected, fake_stripe):
    settings.STRIPE_EXPRESS = {**settings.STRIPE_EXPRESS, "ONBOARDING": "account_links"}
    response = csrf_client.post(URL, {"csrfmiddlewaretoken": CSRF})
    assert messages_of(response) == [
        "Your Stripe account cannot be disconnected here. Please contact support."
    ]
    assert fake_stripe.requests == []
    connected.refresh_from_db()
    assert connected.is_connected


def test_nothing_to_disconnect(csrf_client, user, fake_stripe):
    ExpressAccountFactory(user=user, disconnected=True)
    response = csrf_client.post(URL, {"csrfmiddlewaretoken": CSRF})
    assert messages_of(response) == ["You have no connected Stripe account."]
    assert fake_stripe.requests == []
