"""The fake Stripe driven by the real ``stripe`` library over HTTP.

Uses the ``fake_stripe`` / ``fake_stripe_client`` fixtures of the package's own
pytest plugin; needs no database.
"""

from __future__ import annotations

import http.client
import re
from html import unescape
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
import stripe

from django_stripe_express.testing import FakeStripe

REDIRECT = "http://testserver/stripe/oauth/callback/"


def fetch(
    url: str, data: dict[str, str] | None = None, method: str | None = None
) -> tuple[int, dict[str, str], str]:
    """One HTTP request without following redirects: (status, headers, body)."""
    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.netloc, timeout=5)
    try:
        body = urlencode(data) if data is not None else None
        headers = {"Content-Type": "application/x-www-form-urlencoded"} if body else {}
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        conn.request(method or ("POST" if data is not None else "GET"), path, body, headers)
        response = conn.getresponse()
        return response.status, dict(response.getheaders()), response.read().decode()
    finally:
        conn.close()


def hidden_query(page: str) -> str:
    match = re.search(r'name="query" value="([^"]*)"', page)
    assert match, page
    return unescape(match.group(1))


def authorize(client: stripe.StripeClient, **params: Any) -> str:
    merged: Any = {"redirect_uri": REDIRECT, "state": "state-1", **params}
    return client.oauth.authorize_url(merged, {"express": True})


def agree(url: str, *, finish: bool = True, action: str = "agree") -> dict[str, list[str]]:
    """Open the hosted OAuth page and submit it like a person; return the redirect's query."""
    status, _, page = fetch(url)
    assert status == 200
    form = {"query": hidden_query(page), "action": action}
    if finish:
        form["finish"] = "on"
    status, headers, _ = fetch(url.split("?")[0], form)
    assert status == 302
    location = headers["Location"]
    assert location.startswith(REDIRECT)
    return parse_qs(urlsplit(location).query)


@pytest.fixture
def client(fake_stripe_client: stripe.StripeClient) -> stripe.StripeClient:
    return fake_stripe_client


@pytest.fixture
def fake(fake_stripe: FakeStripe) -> FakeStripe:
    return fake_stripe


def client_for(fake: FakeStripe, key: str | None = None, **kwargs: Any) -> stripe.StripeClient:
    return stripe.StripeClient(
        key or fake.secret_key,
        base_addresses={"api": fake.api_base, "connect": fake.connect_base},
        client_id=fake.client_id,
        max_network_retries=0,
        **kwargs,
    )


# -- OAuth ---------------------------------------------------------------------


def test_oauth_express_flow_end_to_end(fake: FakeStripe, client: stripe.StripeClient) -> None:
    url = authorize(
        client,
        stripe_user={"email": "ada@example.com", "business_type": "individual", "country": "GB"},
        suggested_capabilities=["transfers", "card_payments"],
    )
    assert url.startswith(f"{fake.url}/express/oauth/authorize?")
    status, headers, page = fetch(url)
    assert status == 200
    assert headers["Content-Type"].startswith("text/html")
    for text in (
        "Fake Stripe",
        "Agree and submit",
        "Decline",
        "ada@example.com",
        "individual",
        "card_payments",
        REDIRECT,
        fake.client_id,
    ):
        assert text in page

    query = agree(url)
    assert query["state"] == ["state-1"]
    token = client.oauth.token({"grant_type": "authorization_code", "code": query["code"][0]})
    assert token["token_type"] == "bearer"
    assert token["scope"] == "express"
    assert token["livemode"] is False

    account: Any = client.v1.accounts.retrieve(token["stripe_user_id"])
    assert account.email == "ada@example.com"
    assert account.country == "GB"
    assert account.default_currency == "gbp"
    assert account.business_type == "individual"
    assert account.details_submitted
    assert account.charges_enabled
    assert account.payouts_enabled
    assert account.capabilities.to_dict() == {"transfers": "active", "card_payments": "active"}
    assert fake.authorizations[0]["stripe_user"]["email"] == "ada@example.com"

    with pytest.raises(stripe.oauth_error.InvalidGrantError, match="already used"):
        client.oauth.token({"grant_type": "authorization_code", "code": query["code"][0]})


def test_oauth_page_accepts_bracket_lists_and_leaves_details_due(
    fake: FakeStripe, client: stripe.StripeClient
) -> None:
    url = f"{fake.url}/express/oauth/authorize?" + urlencode(
        {
            "client_id": fake.client_id,
            "response_type": "code",
            "redirect_uri": REDIRECT,
            "state": "s",
            "suggested_capabilities[]": "transfers",
        }
    )
    query = agree(url, finish=False)
    token = client.oauth.token({"grant_type": "authorization_code", "code": query["code"][0]})
    account = fake.accounts[token["stripe_user_id"]]
    assert account["details_submitted"] is False
    assert account["capabilities"] == {"transfers": "inactive"}
    assert account["requirements"]["currently_due"]


def test_oauth_decline_redirects_with_access_denied(client: stripe.StripeClient) -> None:
    query = agree(authorize(client), action="decline")
    assert query == {
        "error": ["access_denied"],
        "error_description": ["The user denied your request"],
        "state": ["state-1"],
    }


def test_oauth_unknown_client_id_is_an_error_page(fake: FakeStripe) -> None:
    status, _, page = fetch(
        f"{fake.url}/express/oauth/authorize?client_id=ca_other&redirect_uri={REDIRECT}"
    )
    assert status == 400
    assert "Invalid client_id" in page


def test_token_errors_map_to_stripe_oauth_errors(
    fake: FakeStripe, client: stripe.StripeClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    code = fake.issue_code()
    with pytest.raises(stripe.oauth_error.InvalidClientError, match=r"sk_test_\*+ong1"):
        client_for(fake, "sk_test_wrong1").oauth.token(
            {"grant_type": "authorization_code", "code": code}
        )
    with pytest.raises(stripe.oauth_error.InvalidRequestError):
        client.oauth.token({"grant_type": "authorization_code"})
    with pytest.raises(stripe.oauth_error.UnsupportedGrantTypeError):
        client.oauth.token({"grant_type": "password"})  # type: ignore[typeddict-item]
    with pytest.raises(stripe.oauth_error.InvalidGrantError, match="Invalid authorization"):
        client.oauth.token({"grant_type": "authorization_code", "code": "ac_nope"})
    monkeypatch.setattr(fake, "code_ttl", -1)
    with pytest.raises(stripe.oauth_error.InvalidGrantError, match="expired"):
        client.oauth.token({"grant_type": "authorization_code", "code": code})


def test_token_asserts_capabilities(fake: FakeStripe, client: stripe.StripeClient) -> None:
    code = fake.issue_code(capabilities={"transfers": "active"})
    with pytest.raises(stripe.oauth_error.InvalidRequestError, match="card_payments"):
        client.oauth.token(
            {
                "grant_type": "authorization_code",
                "code": code,
                "assert_capabilities": ["card_payments"],
            }
        )
    code = fake.issue_code(capabilities={"transfers": "active"})
    token = client.oauth.token(
        {"grant_type": "authorization_code", "code": code, "assert_capabilities": ["transfers"]}
    )
    form = fake.requests_to("/oauth/token")[-1].form
    assert form["assert_capabilities"] == ["transfers"]
    refreshed = client.oauth.token(
        {"grant_type": "refresh_token", "refresh_token": token["refresh_token"]}
    )
    assert refreshed["stripe_user_id"] == token["stripe_user_id"]


def test_unknown_oauth_error_code_is_an_attribute_error_in_stripe_16(
    fake: FakeStripe, client: stripe.StripeClient
) -> None:
    # stripe 16 has no class for ``access_denied`` at the token endpoint and
    # fails inside its own error handling; the app must catch AttributeError.
    fake.fail_next(
        "/oauth/token", status=400, error={"error": "access_denied", "error_description": "No."}
    )
    with pytest.raises(AttributeError):
        client.oauth.token({"grant_type": "authorization_code", "code": fake.issue_code()})
    fake.fail_next("/oauth/token", code="invalid_scope")
    with pytest.raises(stripe.oauth_error.InvalidScopeError):
        client.oauth.token({"grant_type": "authorization_code", "code": fake.issue_code()})


def test_deauthorize(fake: FakeStripe, client: stripe.StripeClient) -> None:
    acct = fake.create_account()["id"]
    assert client.oauth.deauthorize({"stripe_user_id": acct})["stripe_user_id"] == acct
    assert fake.is_deauthorized(acct)
    with pytest.raises(stripe.oauth_error.InvalidClientError, match="not connected"):
        client.oauth.deauthorize({"stripe_user_id": acct})


# -- accounts ------------------------------------------------------------------


def test_create_and_retrieve_account(client: stripe.StripeClient) -> None:
    created: Any = client.v1.accounts.create(
        {
            "type": "express",
            "country": "US",
            "email": "a@example.com",
            "capabilities": {"transfers": {"requested": True}},
            "metadata": {"user": "7"},
        }
    )
    assert re.fullmatch(r"acct_[A-Za-z0-9]{16}", created.id)
    assert created.type == "express"
    assert created.controller.stripe_dashboard.type == "express"
    assert created.details_submitted is False
    assert created.capabilities.to_dict() == {"transfers": "inactive"}
    assert "external_account" in created.requirements.currently_due
    assert "tos_acceptance.date" in created.requirements.currently_due

    retrieved: Any = client.v1.accounts.retrieve(created.id)
    assert retrieved.id == created.id
    assert retrieved.metadata.to_dict() == {"user": "7"}


def test_account_errors(client: stripe.StripeClient) -> None:
    with pytest.raises(stripe.PermissionError) as missing:
        client.v1.accounts.retrieve("acct_missing")
    assert missing.value.http_status == 403
    assert missing.value.error.code == "account_invalid"
    assert str(missing.value.user_message) == (
        "The provided key 'sk_test_****' does not have access to account 'acct_missing' "
        "(or that account does not exist). Application access may have been revoked."
    )
    assert str(missing.value.request_id).startswith("req_")
    unknown: Any = {"type": "express", "colour": "red"}
    with pytest.raises(stripe.InvalidRequestError, match="unknown parameter: colour"):
        client.v1.accounts.create(unknown)
    with pytest.raises(stripe.InvalidRequestError, match="less than or equal to 100"):
        client.v1.accounts.list({"limit": 101})


@pytest.mark.parametrize("how", ["deleted", "deauthorized", "oauth-deauthorized"])
def test_an_account_the_platform_lost_is_a_403_everywhere(
    fake: FakeStripe, client: stripe.StripeClient, how: str
) -> None:
    acct = fake.create_account()["id"]
    kept = fake.create_account()["id"]
    fake.complete_onboarding(acct)
    if how == "deleted":
        del fake.accounts[acct]
    elif how == "deauthorized":
        fake.deauthorize(acct)
    else:
        client.oauth.deauthorize({"stripe_user_id": acct})
    link: Any = {
        "account": acct,
        "type": "account_onboarding",
        "refresh_url": "http://t/a",
        "return_url": "http://t/b",
    }
    calls = [
        lambda: client.v1.accounts.retrieve(acct),
        lambda: client.v1.accounts.login_links.create(acct),
        lambda: client.v1.account_links.create(link),
    ]
    for call in calls:
        with pytest.raises(stripe.PermissionError) as caught:
            call()
        assert caught.value.http_status == 403
        assert caught.value.error.code == "account_invalid"
        assert "Application access may have been revoked" in str(caught.value.user_message)
    assert [a.id for a in client.v1.accounts.list().data] == [kept]


def test_list_pages_with_has_more_and_starting_after(
    fake: FakeStripe, client: stripe.StripeClient
) -> None:
    ids = [fake.create_account(created=1_700_000_000)["id"] for _ in range(250)]
    first: Any = client.v1.accounts.list({"limit": 100})
    assert first.object == "list"
    assert first.url == "/v1/accounts"
    assert len(first.data) == 100
    assert first.has_more
    assert first.data[0].id == ids[-1]  # newest first
    last = client.v1.accounts.list({"limit": 100, "starting_after": ids[50]})
    assert len(last.data) == 50
    assert not last.has_more
    seen = [a.id for a in client.v1.accounts.list({"limit": 100}).auto_paging_iter()]
    assert seen == ids[::-1]


def test_idempotent_create(fake: FakeStripe, client: stripe.StripeClient) -> None:
    params: Any = {"type": "express", "email": "x@example.com"}
    one = client.v1.accounts.create(params, {"idempotency_key": "user-1"})
    two = client.v1.accounts.create(params, {"idempotency_key": "user-1"})
    assert one.id == two.id
    assert len(fake.accounts) == 1
    with pytest.raises(stripe.IdempotencyError, match="same parameters"):
        client.v1.accounts.create({"type": "express"}, {"idempotency_key": "user-1"})


def test_wrong_or_missing_api_key(fake: FakeStripe) -> None:
    with pytest.raises(stripe.AuthenticationError) as caught:
        client_for(fake, "sk_test_secret_value_9876").v1.accounts.list()
    assert caught.value.http_status == 401
    assert "secret_value" not in str(caught.value)
    assert "9876" in str(caught.value)
    status, headers, body = fetch(f"{fake.url}/v1/accounts")
    assert status == 401
    assert "did not provide an API key" in body
    assert headers["Request-Id"].startswith("req_")


def test_unknown_route_is_a_stripe_404(fake: FakeStripe) -> None:
    # /v1 and /v2 ask for a key first, as Stripe does.
    status, headers, body = fetch(f"{fake.url}/v9/nothing")
    assert status == 404
    assert "Unrecognized request URL (GET: /v9/nothing)" in body
    assert headers["Request-Id"].startswith("req_")


# -- links ---------------------------------------------------------------------


def test_account_link_onboarding_page(fake: FakeStripe, client: stripe.StripeClient) -> None:
    acct = fake.create_account()["id"]
    link = client.v1.account_links.create(
        {
            "account": acct,
            "type": "account_onboarding",
            "refresh_url": "http://testserver/refresh/",
            "return_url": "http://testserver/return/",
        }
    )
    assert link.object == "account_link"
    assert link.expires_at > link.created
    assert link.url.startswith(f"{fake.url}/setup/e/{acct}/")
    status, _, page = fetch(link.url)
    assert status == 200
    assert "Agree and submit" in page
    # Stripe's links are single use: opening it again goes to refresh_url.
    assert fetch(link.url)[1]["Location"] == "http://testserver/refresh/"
    status, headers, _ = fetch(link.url, {"action": "agree", "finish": "on"})
    assert (status, headers["Location"]) == (302, "http://testserver/return/")
    assert fake.accounts[acct]["charges_enabled"] is True
    assert fetch(link.url, {"action": "agree"})[1]["Location"] == "http://testserver/refresh/"


def test_account_link_expired_and_invalid(
    fake: FakeStripe, client: stripe.StripeClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    acct = fake.create_account()["id"]
    params: Any = {
        "account": acct,
        "type": "account_onboarding",
        "refresh_url": "http://t/refresh",
        "return_url": "http://t/return",
    }
    no_return: Any = dict(params, return_url="")
    unknown: Any = dict(params, account="acct_missing")
    with pytest.raises(stripe.InvalidRequestError) as caught:
        client.v1.account_links.create(no_return)
    assert caught.value.param == "return_url"
    with pytest.raises(stripe.PermissionError, match="does not have access to account"):
        client.v1.account_links.create(unknown)
    monkeypatch.setattr(fake, "link_ttl", -1)
    link = client.v1.account_links.create(params)
    assert fetch(link.url)[1]["Location"] == "http://t/refresh"


def test_login_links(fake: FakeStripe, client: stripe.StripeClient) -> None:
    acct = fake.create_account()["id"]
    with pytest.raises(stripe.InvalidRequestError, match="not completed onboarding"):
        client.v1.accounts.login_links.create(acct)
    fake.complete_onboarding(acct)
    link = client.v1.accounts.login_links.create(acct)
    assert link.object == "login_link"
    status, headers, _ = fetch(link.url)
    assert (status, headers["Location"]) == (302, f"{fake.url}/express/{acct}/dashboard")
    status, _, page = fetch(headers["Location"])
    assert status == 200
    assert acct in page
    assert "Express dashboard" in page
    assert fetch(link.url)[0] == 400  # single use
    custom = fake.create_account(type="custom", details_submitted=True)["id"]
    with pytest.raises(stripe.InvalidRequestError, match="not an Express account"):
        client.v1.accounts.login_links.create(custom)


# -- failures ------------------------------------------------------------------


def test_planned_errors(fake: FakeStripe, client: stripe.StripeClient) -> None:
    acct = fake.create_account()["id"]
    fake.fail_next("GET /v1/accounts", status=429, times=2)
    for _ in range(2):
        with pytest.raises(stripe.RateLimitError):
            client.v1.accounts.retrieve(acct)
    assert client.v1.accounts.retrieve(acct).id == acct
    fake.fail_next("/v1/account_links", status=500)
    with pytest.raises(stripe.APIError):
        client.v1.account_links.create(
            {
                "account": acct,
                "type": "account_onboarding",
                "refresh_url": "http://t/a",
                "return_url": "http://t/b",
            }
        )
    fake.fail_next("/v1/accounts", status=400, code="account_invalid", message="Nope")
    with pytest.raises(stripe.InvalidRequestError, match="Nope") as caught:
        client.v1.accounts.retrieve(acct)
    assert caught.value.code == "account_invalid"


def test_refused_connections(fake: FakeStripe, client: stripe.StripeClient) -> None:
    with fake.refuse_connections(), pytest.raises(stripe.APIConnectionError):
        client.v1.accounts.list()
    assert client.v1.accounts.list().data == []
    fake.refuse_connections()
    with pytest.raises(stripe.APIConnectionError):
        client.oauth.token({"grant_type": "authorization_code", "code": "ac_x"})
    fake.refuse_connections(False)


def test_delay_makes_the_client_time_out(fake: FakeStripe) -> None:
    client = client_for(fake, http_client=stripe.RequestsClient(timeout=0.3))
    fake.delay_next("/v1/accounts", 0.8)
    with pytest.raises(stripe.APIConnectionError):
        client.v1.accounts.list()
    assert client.v1.accounts.list().data == []


def test_requests_are_recorded(fake: FakeStripe, client: stripe.StripeClient) -> None:
    client.v1.accounts.create({"type": "express", "metadata": {"a": "1"}})
    (recorded,) = fake.requests_to("/v1/accounts", "POST")
    assert recorded.form == {"type": "express", "metadata": {"a": "1"}}
    assert recorded.headers["Authorization"] == f"Bearer {fake.secret_key}"
    assert recorded.headers["Idempotency-Key"]
