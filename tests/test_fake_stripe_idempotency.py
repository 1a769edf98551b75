"""The fake keeps idempotency keys as Stripe's /v1 API does (docs.stripe.com/idempotency).

Run against the real ``stripe`` library with no retries and with the retries
it makes in production (it retries 409 and 5xx answers by itself, same key).
"""

from __future__ import annotations

import threading
from typing import Any

import pytest
import stripe

from django_stripe_express.testing import FakeStripe

PARAMS: Any = {"type": "express", "email": "ann@example.com"}


@pytest.fixture(params=[0, 2], ids=["no-retries", "library-retries"])
def retries(request: pytest.FixtureRequest) -> int:
    return int(request.param)


@pytest.fixture
def client(retries: int, fake_stripe: FakeStripe) -> stripe.StripeClient:
    return stripe.StripeClient(
        fake_stripe.secret_key,
        base_addresses={"api": fake_stripe.api_base, "connect": fake_stripe.connect_base},
        max_network_retries=retries,
    )


def create(client: stripe.StripeClient, key: str, params: Any = PARAMS) -> Any:
    return client.v1.accounts.create(params, {"idempotency_key": key})


def test_a_server_error_is_saved_and_replayed_for_its_key(
    fake_stripe: FakeStripe, client: stripe.StripeClient
) -> None:
    fake_stripe.fail_next("POST /v1/accounts", status=500)

    with pytest.raises(stripe.APIError) as first:
        create(client, "k1")
    with pytest.raises(stripe.APIError) as again:
        create(client, "k1")

    # Stripe says retrying is pointless: the library did not retry by itself.
    assert len(fake_stripe.requests_to("/v1/accounts", "POST")) == 2
    assert first.value.headers["stripe-should-retry"] == "false"
    assert again.value.headers["idempotent-replayed"] == "true"
    assert again.value.headers["original-request"] == first.value.request_id
    assert again.value.json_body == first.value.json_body
    assert fake_stripe.accounts == {}
    # A new key executes afresh.
    assert create(client, "k2").id in fake_stripe.accounts


def test_a_success_is_replayed_and_other_parameters_are_refused(
    fake_stripe: FakeStripe, client: stripe.StripeClient
) -> None:
    one = create(client, "k1")
    two = create(client, "k1")
    assert (one.id, len(fake_stripe.accounts)) == (two.id, 1)
    assert two.last_response.headers["Idempotent-Replayed"] == "true"

    with pytest.raises(stripe.IdempotencyError, match="same parameters") as caught:
        create(client, "k1", {**PARAMS, "country": "FR"})
    assert caught.value.error.type == "idempotency_error"
    assert len(fake_stripe.accounts) == 1


def test_validation_and_rate_limit_errors_are_not_saved(
    fake_stripe: FakeStripe, client: stripe.StripeClient
) -> None:
    with pytest.raises(stripe.InvalidRequestError, match="unknown parameter"):
        create(client, "k1", {**PARAMS, "colour": "red"})
    # Nothing was saved for k1: other (valid) parameters run the endpoint.
    created = create(client, "k1")
    assert list(fake_stripe.accounts) == [created.id]

    fake_stripe.fail_next("POST /v1/accounts", status=429)
    with pytest.raises(stripe.RateLimitError):
        create(client, "k2")
    assert create(client, "k2").id != created.id


def test_a_key_in_use_gets_a_409_that_the_library_retries(
    fake_stripe: FakeStripe, client: stripe.StripeClient, retries: int
) -> None:
    # The first request with the key executes slowly (it holds the key).
    fake_stripe.delay_next("POST /v1/accounts", 0.8, executing=True)
    first: list[Any] = []
    holder = threading.Thread(target=lambda: first.append(create(client, "k1")))
    holder.start()
    waited = threading.Event()
    while not fake_stripe.in_flight and not waited.wait(0.01):
        pass  # until the first request holds the key

    if retries:
        second = create(client, "k1")  # 409, retried after a pause, then replayed
        holder.join()
        assert second.id == first[0].id
    else:
        with pytest.raises(stripe.APIError) as caught:
            create(client, "k1")
        holder.join()
        assert caught.value.http_status == 409
        assert caught.value.error.code == "idempotency_key_in_use"
        assert create(client, "k1").id == first[0].id  # not saved: retry replays
    assert len(fake_stripe.accounts) == 1


def test_keys_expire_after_their_time(fake_stripe: FakeStripe, client: stripe.StripeClient) -> None:
    fake_stripe.fail_next("POST /v1/accounts", status=500)
    with pytest.raises(stripe.APIError):
        create(client, "k1")
    fake_stripe.idempotency_ttl = 0  # 24 hours later
    assert create(client, "k1").id in fake_stripe.accounts


def test_requests_without_keys_are_not_replayed(
    fake_stripe: FakeStripe, client: stripe.StripeClient, retries: int
) -> None:
    acct = fake_stripe.create_account()["id"]
    fake_stripe.fail_next("GET /v1/accounts", status=500)
    if retries:
        assert client.v1.accounts.retrieve(acct).id == acct  # retried by the library
    else:
        with pytest.raises(stripe.APIError):
            client.v1.accounts.retrieve(acct)
