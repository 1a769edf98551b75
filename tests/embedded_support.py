"""Helpers shared by the embedded onboarding and component tests."""

from __future__ import annotations

import pytest
import requests
from django.test import Client

from .account_links_support import FlowFake
from .factories import ExpressAccountFactory

ONBOARDING = "/stripe/onboarding/"
ACCOUNT_SESSION = "/stripe/account-session/"
JSON = {"HTTP_ACCEPT": "application/json"}


@pytest.fixture
def embedded_mode(fake_stripe, settings, accounts_api):
    """The fake Stripe, with the app in embedded onboarding mode (once per Accounts API)."""
    settings.STRIPE_EXPRESS = {
        **settings.STRIPE_EXPRESS, "ONBOARDING": "embedded", "ACCOUNTS_API": accounts_api,
    }
    return FlowFake(fake_stripe, accounts_api)


@pytest.fixture
def unfinished_account(user, fake_stripe):
    """``user``'s account, known to the fake and stored locally, onboarding not finished."""
    acct = fake_stripe.create_account(email=user.email)["id"]
    return ExpressAccountFactory(user=user, stripe_id=acct, onboarding=True)


@pytest.fixture
def csrf_client(user):
    """A browser as Django sees it: CSRF checks on, as outside the test client."""
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    return client


def csrf_token(client: Client) -> str:
    """The token a page of the site gives this client (its cookie is set with it)."""
    client.get("/stripe/connect/")
    if "csrftoken" not in client.cookies:  # anonymous: no page of the app had a form
        client.cookies["csrftoken"] = "anonymousvisitorcsrfsecret123456"  # 32 characters
    return str(client.cookies["csrftoken"].value)


def draw(fake, component: str, secret: str, **fields: str) -> requests.Response:
    """What the stand-in Connect.js's iframe gets when it hands over the secret
    (``fields`` change what it sends)."""
    data = {
        "client_secret": secret,
        "publishable_key": fake.publishable_key,
        "instance": "instance-1",
        "origin": "http://testserver",
        **fields,
    }
    return requests.post(f"{fake.url}/connect-js/v1.0/frame/{component}", data=data, timeout=5)
