"""The fake serves exactly the routes docs/testing.md lists: what the app calls,
the pages a person clicks through, the control page. A route added to or
removed from one and not the other fails here."""

from __future__ import annotations

import re
from pathlib import Path

from django_stripe_express.testing.fake import ROUTES

DOC = Path(__file__).resolve().parent.parent / "docs" / "testing.md"


def documented_routes() -> set[tuple[str, str]]:
    text = DOC.read_text()
    block = text[text.index("<!-- fake-routes -->") : text.index("<!-- /fake-routes -->")]
    block = re.sub(r"\s+", " ", block)  # a route may wrap across lines
    return set(re.findall(r"`(GET|POST|DELETE) (/[^` ]*)`", block))


def served_routes() -> set[tuple[str, str]]:
    """The route table as paths: ``(?P<acct>...)`` is ``{acct}``."""
    served = set()
    for method, pattern, _endpoint in ROUTES:
        path = re.sub(r"\(\?P<(\w+)>[^)]*\)", r"{\1}", pattern.pattern).replace("\\", "")
        assert not re.search(r"[()?*+|\[\]]", path), f"cannot read {pattern.pattern} as a path"
        served.add((method, path))
    return served


def test_the_fake_serves_exactly_the_documented_routes() -> None:
    served, documented = served_routes(), documented_routes()
    assert served - documented == set(), "served but not in docs/testing.md"
    assert documented - served == set(), "in docs/testing.md but not served"
    assert len(ROUTES) == len(served)  # no route twice


def test_the_routes_the_app_calls_are_served() -> None:
    # Every Stripe call of the app (outside testing/): client.v1.*, client.v2.*,
    # client.oauth.* (authorize_url with express=True opens the Express page).
    called = {
        ("POST", "/v1/accounts"),  # onboarding.express_account
        ("GET", "/v1/accounts"),  # sync: accounts.list
        ("GET", "/v1/accounts/{acct}"),  # retrieve
        ("POST", "/v1/accounts/{acct}/login_links"),  # onboarding.login_link
        ("POST", "/v1/account_links"),  # onboarding.account_links
        ("POST", "/v1/account_sessions"),  # onboarding.account_sessions
        ("POST", "/v2/core/accounts"),  # onboarding.express_account (v2)
        ("GET", "/v2/core/accounts/{acct}"),  # retrieve (v2)
        ("POST", "/v2/core/account_links"),  # onboarding.account_links (v2)
        ("GET", "/v2/core/events/{event_id}"),  # webhooks.fetched
        ("POST", "/v1/transfers"),  # payments.transfers: send
        ("GET", "/v1/transfers"),  # payments.transfers: reconcile after the key window
        ("GET", "/v1/transfers/{transfer}"),  # payments.transfers: reversed by a refund
        ("POST", "/v1/transfers/{transfer}/reversals"),  # payments.reverse
        ("POST", "/v1/refunds"),  # payments.refund
        ("GET", "/v1/refunds"),  # payments.transfers: a refund after the key window
        ("GET", "/v1/transfers/{transfer}/reversals"),  # a reversal after the key window
        ("POST", "/v1/accounts/{acct}"),  # payments.set_payout_schedule (v1)
        ("POST", "/v1/balance_settings"),  # payouts schedule (v2): creation, set_payout_schedule
        ("GET", "/v1/balance"),  # payments.balance (Stripe-Account)
        ("POST", "/v1/payouts"),  # payments.payout (Stripe-Account)
        ("GET", "/v1/webhook_endpoints"),  # stripe_express_webhooks --check
        ("GET", "/v2/core/event_destinations"),  # stripe_express_webhooks --check
        ("GET", "/express/oauth/authorize"),  # onboarding.oauth: authorize_url
        ("POST", "/oauth/token"),  # onboarding.oauth
        ("POST", "/oauth/deauthorize"),  # disconnect
    }
    assert called - served_routes() == set()
