"""A wrong key in production is diagnosable from the logs, without leaking a secret.

Before: the user read "Stripe reported an error. Please try again later." and
the log had one INFO line with ``code=-``; Stripe's reason ("Invalid API Key
provided: sk_test_****gkey") was only on the attempt, in the admin. Now
configuration and authentication failures (401, a 403 permission error,
OAuth ``invalid_client``) are logged at ERROR with Stripe's message (masked as
Stripe masks it) and its request id, and the user is told it is the site's
problem, not theirs.
"""

from __future__ import annotations

import logging

import pytest

from django_stripe_express.models import ConnectAttempt
from django_stripe_express.stripe_api import mask_secrets

from .account_links_support import texts
from .factories import ExpressAccountFactory
from .oauth_support import back_to_app, start, submit_hosted_page

WRONG_KEY = "sk_test_51Hx9wrongButLongEnoughToLookReal0gkey"
CONFIGURATION = "Payouts with Stripe are not set up correctly on this site. Please contact support."
LOGGER = "django_stripe_express"

pytestmark = pytest.mark.django_db


@pytest.fixture
def logs(caplog):
    caplog.set_level(logging.DEBUG, logger=LOGGER)
    return caplog


def errors(caplog) -> list[str]:
    return [
        r.getMessage() for r in caplog.records
        if r.name.startswith(LOGGER) and r.levelno >= logging.ERROR
    ]


def everything_logged(caplog) -> str:
    return "\n".join(r.getMessage() for r in caplog.records)


def wrong_key(settings) -> None:
    settings.STRIPE_EXPRESS = {**settings.STRIPE_EXPRESS, "SECRET_KEY": WRONG_KEY}


def test_a_wrong_key_while_connecting_is_an_error_with_stripe_s_reason(
    logged_in_client, account_links_mode, settings, logs
):
    wrong_key(settings)

    response = logged_in_client.post("/stripe/connect/")

    assert response.status_code == 302
    assert texts(response) == [CONFIGURATION]
    (line,) = errors(logs)
    assert "AuthenticationError" in line
    assert "Invalid API Key provided: sk_test_" in line
    assert "****gkey" in line  # masked by Stripe: its last four characters only
    assert "request_id=req_" in line
    assert "SECRET_KEY" in line  # what to check
    assert WRONG_KEY not in everything_logged(logs)
    attempt = ConnectAttempt.objects.get()  # staff still see it in the admin
    assert attempt.outcome == ConnectAttempt.Outcome.STRIPE_ERROR
    assert attempt.error_description.startswith("Invalid API Key provided")


def test_a_refused_client_id_or_key_in_the_oauth_exchange(
    logged_in_client, fake_stripe, settings, logs
):
    back = submit_hosted_page(start(logged_in_client))
    wrong_key(settings)  # the token endpoint refuses it: invalid_client

    response = back_to_app(logged_in_client, back)

    assert response.status_code == 302
    assert texts(response) == [
        "Connecting Stripe accounts is not set up correctly on this site. Please contact support."
    ]
    (line,) = errors(logs)
    assert "InvalidClientError" in line
    assert "the OAuth code exchange" in line
    assert "request_id=req_" in line
    assert "CLIENT_ID" in line
    assert WRONG_KEY not in everything_logged(logs)


def test_a_restricted_key_without_a_permission(logged_in_client, account_links_mode, logs):
    account_links_mode.fail_next(
        f"POST {account_links_mode.create_path}", status=403,
        message="The provided key 'rk_test_****Ab12' does not have the required permissions "
        "for this endpoint. Having the 'rak_connected_account_write' permission would allow "
        "this request to continue.",
    )

    response = logged_in_client.post("/stripe/connect/")

    assert texts(response) == [CONFIGURATION]
    (line,) = errors(logs)
    assert "PermissionError" in line
    assert "rak_connected_account_write" in line
    assert "restricted key" in line


def test_a_key_stripe_did_not_mask_is_masked_before_it_is_logged(
    logged_in_client, account_links_mode, logs
):
    account_links_mode.fail_next(
        f"POST {account_links_mode.create_path}", status=401,
        message=f"Invalid API Key provided: {WRONG_KEY}",
    )
    logged_in_client.post("/stripe/connect/")
    (line,) = errors(logs)
    assert WRONG_KEY not in everything_logged(logs)
    assert "sk_test_****" in line
    assert "*gkey" in line  # masked here as Stripe masks: the last four characters


def test_an_account_that_is_gone_is_not_a_configuration_error(
    logged_in_client, user, fake_stripe, logs
):
    acct = fake_stripe.create_account()
    fake_stripe.complete_onboarding(acct["id"])
    ExpressAccountFactory(user=user, stripe_id=acct["id"])
    fake_stripe.deauthorize(acct["id"])  # 403 account_invalid from now on

    logged_in_client.post("/stripe/dashboard/")

    assert errors(logs) == []


def test_a_wrong_key_on_the_dashboard_link(logged_in_client, user, fake_stripe, settings, logs):
    acct = fake_stripe.create_account()
    fake_stripe.complete_onboarding(acct["id"])
    ExpressAccountFactory(user=user, stripe_id=acct["id"])
    wrong_key(settings)

    response = logged_in_client.post("/stripe/dashboard/")

    assert texts(response) == [CONFIGURATION]
    (line,) = errors(logs)
    assert "login link" in line
    assert acct["id"] in line


def test_a_wrong_key_when_a_webhook_refetches_the_account(client, fake_stripe, settings, logs):
    acct = fake_stripe.create_account()
    ExpressAccountFactory(stripe_id=acct["id"], onboarding=True)
    settings.STRIPE_EXPRESS = {**settings.STRIPE_EXPRESS, "WEBHOOK_REFETCH_ACCOUNT": True}
    event = fake_stripe.build_event("account.updated", account=acct["id"])
    wrong_key(settings)

    assert fake_stripe.post_event(client, event).status_code == 500  # Stripe retries
    refused = [line for line in errors(logs) if "credentials" in line]
    assert len(refused) == 1
    assert event["id"] in refused[0]
    assert "Invalid API Key provided" in refused[0]
    assert WRONG_KEY not in everything_logged(logs)


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        ("key sk_live_abcdefgh12345678", "key sk_live_************5678"),
        ("rk_test_****Ab12 stays", "rk_test_****Ab12 stays"),
        ("secret whsec_abcdef", "secret whsec_**cdef"),
        ("no key here: acct_123", "no key here: acct_123"),
    ],
)
def test_mask_secrets(text, masked):
    assert mask_secrets(text) == masked
