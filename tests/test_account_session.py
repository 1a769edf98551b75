"""The `account_session` view: a client secret for the user's own account, and
nothing else for anyone else."""

from __future__ import annotations

import logging

import pytest
from django.test import Client

from django_stripe_express.models import ExpressAccount

from .embedded_support import ACCOUNT_SESSION, JSON, csrf_token, draw
from .factories import ExpressAccountFactory, UserFactory


def post(client: Client, **data: str):
    """The page's fetch: a POST asking for JSON, with the CSRF token in a header
    and the components the page shows (the onboarding component by default)."""
    data.setdefault("components", "account_onboarding")
    return client.post(ACCOUNT_SESSION, data, HTTP_X_CSRFTOKEN=csrf_token(client), **JSON)


def test_answers_a_client_secret_for_the_user_s_own_account(
    csrf_client, unfinished_account, embedded_mode
):
    fake = embedded_mode

    response = post(csrf_client)

    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert "no-store" in response["Cache-Control"]
    secret = response.json()["client_secret"]
    (grant,) = fake.account_sessions()
    assert grant.client_secret == secret
    assert grant.account_id == unfinished_account.stripe_id
    (call,) = fake.requests_to("/v1/account_sessions", "POST")
    assert call.form["account"] == unfinished_account.stripe_id


def test_enables_the_configured_components_with_their_features(
    csrf_client, unfinished_account, embedded_mode, settings
):
    settings.STRIPE_EXPRESS = {
        **settings.STRIPE_EXPRESS,
        "EMBEDDED_COMPONENTS": {
            "payouts": {"instant_payouts": True, "edit_payout_schedule": True},
            "documents": {},
        },
    }

    post(csrf_client, components="account_onboarding,payouts,documents")

    (call,) = embedded_mode.requests_to("/v1/account_sessions", "POST")
    assert call.form["components"] == {
        "account_onboarding": {"enabled": "true"},
        "payouts": {
            "enabled": "true",
            "features": {"instant_payouts": "true", "edit_payout_schedule": "true"},
        },
        "documents": {"enabled": "true"},
    }
    (grant,) = embedded_mode.account_sessions()
    assert grant.feature("payouts", "instant_payouts") is True
    assert grant.enabled("balances") is False  # not configured: not granted


def test_the_page_gets_only_the_components_it_shows(csrf_client, unfinished_account, embedded_mode):
    post(csrf_client, components="payouts,notification_banner")

    (call,) = embedded_mode.requests_to("/v1/account_sessions", "POST")
    assert set(call.form["components"]) == {"payouts", "notification_banner"}


def test_a_component_that_is_not_enabled_is_refused(csrf_client, unfinished_account, embedded_mode):
    response = post(csrf_client, components="payouts,issuing_card")

    assert response.status_code == 400
    assert response.json() == {"error": "The component “issuing_card” is not enabled on this site."}
    assert embedded_mode.requests_to("/v1/account_sessions") == []


def test_no_account_is_404_json_and_asks_stripe_nothing(csrf_client, embedded_mode):
    response = post(csrf_client)

    assert response.status_code == 404
    assert response.json() == {"error": "You have no connected Stripe account yet."}
    assert embedded_mode.requests == []


def test_a_disconnected_account_gets_no_session(csrf_client, user, embedded_mode):
    ExpressAccountFactory(user=user, disconnected=True)
    response = post(csrf_client)
    assert response.status_code == 404
    assert response.json() == {"error": "You have no connected Stripe account yet."}
    assert embedded_mode.requests == []


def test_a_user_never_gets_a_session_for_another_user_s_account(embedded_mode, user):
    mine = ExpressAccountFactory(user=user, stripe_id=embedded_mode.create_account()["id"])
    theirs_user = UserFactory()
    theirs = ExpressAccountFactory(
        user=theirs_user, stripe_id=embedded_mode.create_account()["id"]
    )
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)

    # Nothing in the request can name an account: the user's session decides.
    response = client.post(
        ACCOUNT_SESSION,
        {"account": theirs.stripe_id, "components": "payouts"},
        HTTP_X_CSRFTOKEN=csrf_token(client),
        **JSON,
    )

    assert response.status_code == 200
    (grant,) = embedded_mode.account_sessions()
    assert grant.account_id == mine.stripe_id
    # And the stand-in Connect.js draws that account, not the other.
    page = draw(embedded_mode, "payouts", response.json()["client_secret"])
    assert mine.stripe_id in page.text
    assert theirs.stripe_id not in page.text
    # A user without an account gets nothing, however many others have one.
    lonely = Client(enforce_csrf_checks=True)
    lonely.force_login(UserFactory())
    assert post(lonely).status_code == 404
    assert len(embedded_mode.account_sessions()) == 1


def test_get_is_405(csrf_client, unfinished_account, embedded_mode):
    assert csrf_client.get(ACCOUNT_SESSION, **JSON).status_code == 405
    assert csrf_client.get(ACCOUNT_SESSION).status_code == 405
    assert embedded_mode.requests == []


def test_a_post_without_the_csrf_token_is_403(csrf_client, unfinished_account, embedded_mode):
    response = csrf_client.post(ACCOUNT_SESSION, HTTP_REFERER="https://evil.example/", **JSON)
    assert response.status_code == 403
    assert embedded_mode.requests == []


def test_the_token_is_required_even_without_the_csrf_middleware(
    csrf_client, unfinished_account, embedded_mode, settings
):
    settings.MIDDLEWARE = [m for m in settings.MIDDLEWARE if "CsrfViewMiddleware" not in m]
    assert csrf_client.post(ACCOUNT_SESSION, **JSON).status_code == 403
    assert embedded_mode.requests == []


def test_anonymous_fetch_is_401_json_and_a_navigation_goes_to_login(embedded_mode):
    client = Client(enforce_csrf_checks=True)
    token = csrf_token(client)

    fetched = client.post(ACCOUNT_SESSION, HTTP_X_CSRFTOKEN=token, **JSON)
    assert fetched.status_code == 401
    assert fetched.json() == {"error": "Your session has ended. Please log in again."}

    navigated = client.post(ACCOUNT_SESSION, HTTP_X_CSRFTOKEN=token, HTTP_ACCEPT="text/html")
    assert navigated.status_code == 302
    assert navigated["Location"] == f"/accounts/login/?next={ACCOUNT_SESSION}"
    assert embedded_mode.requests == []


@pytest.mark.parametrize(
    ("status", "code", "message"),
    [
        (500, None, "Stripe could not open your account here just now. Please try again later."),
        (400, "parameter_invalid_empty",
         "Stripe could not open your account here just now. Please try again later."),
        (429, None, "Stripe is busy right now. Please try again in a minute."),
    ],
)
def test_a_stripe_error_is_502_json_logged_without_a_traceback(
    csrf_client, unfinished_account, embedded_mode, caplog, status, code, message
):
    embedded_mode.fail_next(
        "POST /v1/account_sessions", status=status, code=code,
        message="Stripe's own words, never shown: acct_secret_detail",
    )

    with caplog.at_level(logging.INFO, logger="django_stripe_express"):
        response = post(csrf_client)

    assert response.status_code == 502
    assert response.json() == {"error": message}
    assert "acct_secret_detail" not in response.content.decode()
    (record,) = [r for r in caplog.records if "account session failed" in r.getMessage()]
    assert record.levelname == "WARNING"
    assert unfinished_account.stripe_id in record.getMessage()
    assert f"http_status={status}" in record.getMessage()
    assert record.exc_info is None
    assert "acct_secret_detail" not in caplog.text


def test_stripe_unreachable_is_502(csrf_client, unfinished_account, embedded_mode):
    with embedded_mode.refuse_connections():
        response = post(csrf_client)
    assert response.status_code == 502
    assert "Please try again later" in response.json()["error"]


def test_an_account_stripe_no_longer_knows_is_disconnected(
    csrf_client, user, embedded_mode, signals_received
):
    ExpressAccountFactory(user=user, stripe_id="acct_gone")

    response = post(csrf_client)

    assert response.status_code == 404
    assert response.json() == {"error": "Your Stripe account is no longer connected to this site. "
                               "Connect again to set up a new one."}
    assert ExpressAccount.objects.get().deauthorized_at is not None
    assert [name for name, _ in signals_received] == ["account_deauthorized"]


def test_the_client_secret_is_never_logged_by_the_app(
    csrf_client, unfinished_account, embedded_mode, caplog
):
    # (The stripe library itself logs response bodies at DEBUG on its "stripe"
    # logger: docs/security.md says to keep that logger above DEBUG.)
    with caplog.at_level(logging.DEBUG, logger="django_stripe_express"):
        secret = post(csrf_client).json()["client_secret"]
    ours = [r for r in caplog.records if r.name.startswith("django_stripe_express")]
    assert all(secret not in r.getMessage() for r in ours)


def test_query_count(csrf_client, unfinished_account, embedded_mode, django_assert_num_queries):
    token = csrf_token(csrf_client)
    # Session, user, account.
    with django_assert_num_queries(3):
        csrf_client.post(ACCOUNT_SESSION, HTTP_X_CSRFTOKEN=token, **JSON)
