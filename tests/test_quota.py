"""One user cannot spend the platform's Stripe quota (issue 24, items 1 and 4).

Stripe's rate limit is the key's, shared by all users: each request that may
call Stripe in a user's name counts against ``USER_RATE_LIMIT`` per
``USER_RATE_WINDOW``; over it, 429 with ``Retry-After`` and no call. The GETs
that act (the dashboard, Stripe's refresh and return URLs) refuse another
site's subresource requests and count too.
"""

from __future__ import annotations

import pytest
from django.test import Client

from django_stripe_express.models import ExpressAccount

from .embedded_support import ACCOUNT_SESSION, JSON, csrf_token
from .factories import ExpressAccountFactory, UserFactory

pytestmark = pytest.mark.django_db

LIMIT = 5
CONNECT = "/stripe/connect/"
DASHBOARD = "/stripe/dashboard/"
REFRESH = "/stripe/onboarding/refresh/"
RETURN = "/stripe/onboarding/return/"
#: What a browser sends for another site's <img src="..."> (SameSite=None cookies ride along).
CROSS_SITE_IMAGE = {
    "HTTP_SEC_FETCH_SITE": "cross-site", "HTTP_SEC_FETCH_MODE": "no-cors",
    "HTTP_SEC_FETCH_DEST": "image",
}
#: What a browser sends when Stripe redirects the user back (a top-level navigation).
STRIPE_REDIRECT = {
    "HTTP_SEC_FETCH_SITE": "cross-site", "HTTP_SEC_FETCH_MODE": "navigate",
    "HTTP_SEC_FETCH_DEST": "document",
}


@pytest.fixture
def limited(settings, fake_stripe):
    settings.STRIPE_EXPRESS = {
        **settings.STRIPE_EXPRESS, "USER_RATE_LIMIT": LIMIT, "USER_RATE_WINDOW": 60,
    }
    return fake_stripe


def _client_with_account(fake, *, finished: bool = False) -> tuple[Client, ExpressAccount]:
    user = UserFactory()
    acct = fake.create_account(email=user.email)["id"]
    if finished:
        fake.complete_onboarding(acct)
    account = ExpressAccountFactory(user=user, stripe_id=acct, onboarding=not finished)
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    return client, account


def test_a_burst_of_100_account_sessions_costs_stripe_the_limit_and_others_are_served(
    limited, settings
):
    settings.STRIPE_EXPRESS = {**settings.STRIPE_EXPRESS, "ONBOARDING": "embedded"}
    greedy, _ = _client_with_account(limited)
    token = csrf_token(greedy)

    answers = [
        greedy.post(ACCOUNT_SESSION, {"components": "account_onboarding"},
                    HTTP_X_CSRFTOKEN=token, **JSON)
        for _ in range(100)
    ]

    assert [a.status_code for a in answers].count(200) == LIMIT
    refused = [a for a in answers if a.status_code == 429]
    assert len(refused) == 100 - LIMIT
    assert 1 <= int(refused[0]["Retry-After"]) <= 60
    assert refused[0]["Content-Type"] == "application/json"
    assert "wait" in refused[0].json()["error"]
    assert len(limited.requests_to("/v1/account_sessions", "POST")) == LIMIT

    other, _ = _client_with_account(limited)
    served = other.post(ACCOUNT_SESSION, {"components": "account_onboarding"},
                        HTTP_X_CSRFTOKEN=csrf_token(other), **JSON)
    assert served.status_code == 200
    assert len(limited.requests_to("/v1/account_sessions", "POST")) == LIMIT + 1


def test_a_burst_of_100_connects_costs_stripe_at_most_the_limit(limited, settings):
    settings.STRIPE_EXPRESS = {
        **settings.STRIPE_EXPRESS, "ONBOARDING": "account_links", "ACCOUNTS_API": "v1",
    }
    user = UserFactory()
    client = Client()
    client.force_login(user)

    answers = [client.post(CONNECT) for _ in range(100)]

    calls = [r for r in limited.requests if r.method == "POST"]
    assert len(calls) <= LIMIT
    # One account and one link: the link is given again while it is unused.
    assert len({a["Location"] for a in answers if a.status_code == 302}) == 1
    refused = [a for a in answers if a.status_code == 429]
    assert len(refused) == 100 - LIMIT
    assert int(refused[0]["Retry-After"]) >= 1
    assert "Please wait" in refused[0].content.decode()


def test_the_acting_gets_count_against_the_limit(limited):
    client, _ = _client_with_account(limited)
    token = csrf_token(client)
    for _ in range(LIMIT):
        client.get(REFRESH)
    assert client.get(RETURN).status_code == 429
    assert client.post(DASHBOARD, HTTP_X_CSRFTOKEN=token).status_code == 429


def test_an_account_session_names_the_components_the_page_shows(limited, settings):
    settings.STRIPE_EXPRESS = {**settings.STRIPE_EXPRESS, "ONBOARDING": "embedded"}
    client, _ = _client_with_account(limited)

    response = client.post(ACCOUNT_SESSION, HTTP_X_CSRFTOKEN=csrf_token(client), **JSON)

    assert response.status_code == 400
    assert limited.requests_to("/v1/account_sessions", "POST") == []


# -- 4: the GETs that act ------------------------------------------------------------


@pytest.mark.parametrize("path", [DASHBOARD, REFRESH, RETURN])
def test_another_site_s_image_never_reaches_stripe(limited, path):
    client, _ = _client_with_account(limited, finished=True)

    response = client.get(path, **CROSS_SITE_IMAGE)

    assert response.status_code in (200, 403)
    assert "Location" not in response
    assert limited.requests == []


def test_a_plain_get_of_the_dashboard_shows_a_button_and_makes_no_link(limited):
    client, _ = _client_with_account(limited, finished=True)

    response = client.get(DASHBOARD)

    assert response.status_code == 200
    assert 'method="post" action="/stripe/dashboard/"' in response.content.decode()
    assert limited.requests == []
    assert client.post(DASHBOARD, HTTP_X_CSRFTOKEN=csrf_token(client)).status_code == 302
    assert [r.path for r in limited.requests if r.path.endswith("/login_links")] != []


@pytest.mark.parametrize("path", [REFRESH, RETURN])
def test_stripe_s_top_level_redirect_back_is_served(limited, path):
    client, _ = _client_with_account(limited)

    response = client.get(path, **STRIPE_REDIRECT)

    assert response.status_code == 302
    assert limited.requests != []  # a new link, or the account re-read
