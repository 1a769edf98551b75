"""Creating the Express account when Stripe replays or refuses an idempotency key.

Stripe saves the first answer for a key (``/v1``: a 500 included; ``/v2``: only
a success) for 24 hours and refuses the key with other parameters; the fake
does the same. Every test runs with both Accounts APIs, with no retries and with
the app's default, where the ``stripe`` library retries 409 and 5xx answers by
itself with the same key.
"""

from __future__ import annotations

import threading
import time

import pytest
import stripe
from django.test import RequestFactory

from django_stripe_express.models import ConnectAttempt, ExpressAccount
from django_stripe_express.onboarding.platform import create_params, idempotency_key

from .account_links_support import header, texts

CONNECT = "/stripe/connect/"
STRIPE_ERROR = "Stripe reported an error. Please try again later."
UNREACHABLE = "We could not reach Stripe. Please try again in a few minutes."
pytestmark = pytest.mark.usefixtures("network_retries")


def stripe_client(fake) -> stripe.StripeClient:
    return stripe.StripeClient(
        fake.secret_key, base_addresses={"api": fake.api_base}, max_network_retries=0
    )


def create_with_key(fake, params, key: str) -> str:
    """Another tab's creation, with the Accounts API the flow uses; the account's id."""
    client = stripe_client(fake)
    accounts = client.v2.core.accounts if fake.api == "v2" else client.v1.accounts
    return accounts.create(params, {"idempotency_key": key}).id


def keys(fake) -> list[str]:
    return [header(r, "Idempotency-Key") for r in fake.creates()]


def wait_for_accounts(fake, count: int = 1) -> None:
    deadline = time.monotonic() + 10
    while len(fake.accounts) < count and time.monotonic() < deadline:
        time.sleep(0.02)


def to_onboarding(response, fake) -> bool:
    return response.status_code == 302 and response["Location"].startswith(f"{fake.url}/setup/e/")


def test_a_server_error_at_creation_can_be_retried_at_once(
    logged_in_client, account_links_mode, network_retries
):
    fake = account_links_mode
    fake.fail_next(f"POST {fake.create_path}", status=500)  # /v1 saves it for the key

    response = logged_in_client.post(CONNECT)
    if fake.api == "v2" and network_retries is None:
        # /v2 saves no failure: the library's own retry, same key, gets the account.
        assert to_onboarding(response, fake)
        first, second = keys(fake)
        assert first == second
        return

    assert texts(response) == [STRIPE_ERROR]
    assert ConnectAttempt.objects.get().outcome == ConnectAttempt.Outcome.STRIPE_ERROR
    assert fake.accounts == {}
    # The next click is a new request for Stripe, not the 500 replayed for a day.
    response = logged_in_client.post(CONNECT)
    assert to_onboarding(response, fake)
    account = ExpressAccount.objects.get()
    assert list(fake.accounts) == [account.stripe_id]
    first, second = keys(fake)
    assert second == f"{first}:after:{ConnectAttempt.objects.order_by('pk').first().pk}"


def test_changed_parameters_after_a_lost_answer_are_a_new_request(
    logged_in_client, user, account_links_mode, settings
):
    """Stripe created an account, the answer was lost, then the settings changed:
    the same key with other parameters would be refused for 24 hours."""
    fake = account_links_mode
    settings.STRIPE_EXPRESS = {**settings.STRIPE_EXPRESS, "TIMEOUT": 0.3, "COUNTRY": "US",
                               "MAX_NETWORK_RETRIES": 0}
    fake.delay_next(f"POST {fake.create_path}", 0.8)
    assert texts(logged_in_client.post(CONNECT)) == [UNREACHABLE]
    wait_for_accounts(fake)
    settings.STRIPE_EXPRESS = {**settings.STRIPE_EXPRESS, "COUNTRY": "FR"}
    user.email = "new@example.com"
    user.save()

    response = logged_in_client.post(CONNECT)

    assert to_onboarding(response, fake)
    account = ExpressAccount.objects.get()
    assert (account.country, account.email) == ("FR", "new@example.com")
    stored = fake.accounts[account.stripe_id]
    assert (stored["identity"]["country"] if fake.api == "v2" else stored["country"]) == "FR"
    assert len(set(keys(fake))) == 2


def test_a_slow_creation_retried_by_the_user_or_the_library_makes_one_account(
    logged_in_client, account_links_mode, settings, network_retries
):
    fake = account_links_mode
    settings.STRIPE_EXPRESS = {**settings.STRIPE_EXPRESS, "TIMEOUT": 0.4}
    # Stripe takes a second to create it: the first answer never arrives.
    fake.delay_next(f"POST {fake.create_path}", 1.0, executing=True)

    response = logged_in_client.post(CONNECT)
    if network_retries == 0:
        assert texts(response) == [UNREACHABLE]
        wait_for_accounts(fake)
        response = logged_in_client.post(CONNECT)  # the user tries again

    assert to_onboarding(response, fake)
    account = ExpressAccount.objects.get()
    assert list(fake.accounts) == [account.stripe_id]
    assert len(set(keys(fake))) == 1


def test_a_second_tab_while_the_first_is_still_creating(
    logged_in_client, user, account_links_mode, network_retries
):
    fake = account_links_mode
    request = RequestFactory().get(CONNECT)
    request.user = user
    params = create_params(request, fake.api)
    key = idempotency_key(user, False, params, api=fake.api)
    # The first tab's request is still running at Stripe, holding the key.
    fake.delay_next(f"POST {fake.create_path}", 0.8, executing=True)
    first: list[str] = []
    tab = threading.Thread(target=lambda: first.append(create_with_key(fake, params, key)))
    tab.start()
    while not fake.in_flight:
        time.sleep(0.01)

    response = logged_in_client.post(CONNECT)
    tab.join()

    if network_retries == 0:
        # Stripe answered 409 idempotency_key_in_use: nothing is lost, the key is kept.
        assert texts(response) == [
            "Your Stripe account is being set up in another window. Please try again in a moment."
        ]
        attempt = ConnectAttempt.objects.get()
        assert attempt.error_code == "idempotency_key_in_use"
        response = logged_in_client.post(CONNECT)
    assert to_onboarding(response, fake)
    assert ExpressAccount.objects.get().stripe_id == first[0]
    assert list(fake.accounts) == first
    assert set(keys(fake)) == {key}


def test_rate_limits_keep_the_key(logged_in_client, account_links_mode):
    fake = account_links_mode
    fake.fail_next(f"POST {fake.create_path}", status=429)
    logged_in_client.post(CONNECT)
    assert to_onboarding(logged_in_client.post(CONNECT), fake)
    assert len(set(keys(fake))) == 1
