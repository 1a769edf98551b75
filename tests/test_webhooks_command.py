"""``manage.py stripe_express_webhooks``: the events the app needs, and ``--check``
against the webhook endpoints and event destinations listed at (the fake) Stripe,
created through the real stripe library as a platform would."""

from __future__ import annotations

from io import StringIO
from typing import Any

import pytest
import stripe
from django.core.management import CommandError, call_command

from django_stripe_express.models import ExpressAccount, Transfer
from django_stripe_express.testing import FakeStripe

from .factories import ExpressAccountFactory
from .stripe_types import problems

APP = "https://platform.example/stripe/webhook/"
THIN_URL = "https://platform.example/stripe/webhook/thin/"
pytestmark = pytest.mark.django_db
PAYOUTS = ["payout.created", "payout.updated", "payout.paid", "payout.failed",
           "payout.canceled", "account.external_account.created",
           "account.external_account.updated"]
V2_EVENTS = ["v2.core.account.updated", "v2.core.account[requirements].updated",
             "v2.core.account[configuration.recipient].capability_status_updated",
             "v2.core.account.closed"]
PAYMENTS = ["balance.available", "transfer.reversed", "transfer.updated",
            "charge.succeeded", "charge.refunded"]


def run(*args: str) -> tuple[str, str | None]:
    """The command's output, and the error it ended with (None: exit status 0)."""
    out = StringIO()
    try:
        call_command("stripe_express_webhooks", *args, stdout=out, stderr=StringIO())
    except CommandError as exc:
        return out.getvalue(), str(exc)
    return out.getvalue(), None


def destination(client: stripe.StripeClient, events: list[str], *, payload: str = "snapshot",
                events_from: list[str] | None = None, url: str = APP) -> Any:
    return client.v2.core.event_destinations.create({
        "name": "app", "type": "webhook_endpoint", "event_payload": payload,  # type: ignore[typeddict-item]
        "enabled_events": events, "events_from": events_from or ["@self"],
        "webhook_endpoint": {"url": url},
    })


def missing(out: str) -> set[str]:
    return {line.split()[1].rstrip(":") for line in out.splitlines()
            if line.startswith("MISSING ")}


@pytest.fixture(autouse=True)
def _platform_signing_up_today(fake_stripe: FakeStripe, settings: Any) -> None:
    settings.STRIPE_EXPRESS = {**settings.STRIPE_EXPRESS, "ONBOARDING": "account_links",
                               "ACCOUNTS_API": "v2"}


@pytest.fixture
def client(fake_stripe_client: stripe.StripeClient) -> stripe.StripeClient:
    return fake_stripe_client


def test_without_check_it_prints_what_to_subscribe_to_for_the_configured_api(
    fake_stripe: FakeStripe,
) -> None:
    out, error = run()

    assert error is None
    assert "event destination (events from your account, thin payload)" in out
    assert "v2.core.account[requirements].updated" in out
    assert "Connect endpoint (events from connected accounts, snapshot payload)" in out
    assert "payout.failed" in out
    assert "balance.available" not in out  # no transfer yet, no --payments
    assert "account.application.deauthorized" not in out  # no OAuth
    assert fake_stripe.requests == []  # offline


def test_oauth_platforms_need_the_v1_events_and_deauthorization(
    fake_stripe: FakeStripe, settings: Any
) -> None:
    settings.STRIPE_EXPRESS = {**settings.STRIPE_EXPRESS, "ONBOARDING": "oauth"}

    out, _ = run()

    assert "account.updated" in out
    assert "account.application.deauthorized" in out
    assert "v2.core.account.updated" not in out


def test_check_with_nothing_configured_names_every_needed_event_and_fails(
    fake_stripe: FakeStripe, client: stripe.StripeClient
) -> None:
    out, error = run("--check")

    assert missing(out) == {*V2_EVENTS, *PAYOUTS}
    assert "MISSING payout.failed: needed on the Connect endpoint" in out
    assert error == "11 needed event(s) are not sent to this app."


def test_check_passes_when_the_connect_endpoint_and_the_thin_destination_send_them(
    fake_stripe: FakeStripe, client: stripe.StripeClient
) -> None:
    destination(client, PAYOUTS, events_from=["@accounts"])
    destination(client, V2_EVENTS, payload="thin", url=THIN_URL)

    out, error = run("--check")

    assert error is None, out
    assert "Every event the app needs is sent to /stripe/webhook/ or /stripe/webhook/thin/." in out


def test_payout_events_from_the_platforms_own_account_do_not_count(
    fake_stripe: FakeStripe, client: stripe.StripeClient
) -> None:
    # The usual mistake: payout.failed subscribed on the platform endpoint, which
    # carries the platform's own payouts, never a user's.
    destination(client, PAYOUTS, events_from=["@self"])
    destination(client, V2_EVENTS, payload="thin", url=THIN_URL)

    out, error = run("--check")

    assert missing(out) == set(PAYOUTS)
    assert error is not None


def test_a_transfer_in_the_ledger_makes_the_platform_events_needed(
    fake_stripe: FakeStripe, client: stripe.StripeClient
) -> None:
    destination(client, PAYOUTS, events_from=["@accounts"])
    destination(client, V2_EVENTS, payload="thin", url=THIN_URL)
    account = ExpressAccountFactory(stripe_id="acct_1", accounts_api=ExpressAccount.AccountsApi.V2)
    Transfer.objects.create(user=account.user, amount=100, currency="usd", reference="r1")

    out, error = run("--check")

    assert missing(out) == {"balance.available", "transfer.reversed", "transfer.updated",
                            "payment_intent.succeeded", "charge.refunded"}
    assert "MISSING payment_intent.succeeded or charge.succeeded: needed on the platform " \
           "endpoint" in out
    destination(client, PAYMENTS, events_from=["@self"])
    out, error = run("--check")
    assert error is None, out


def test_disabled_destinations_and_other_urls_do_not_count(
    fake_stripe: FakeStripe, client: stripe.StripeClient
) -> None:
    destination(client, PAYOUTS, events_from=["@accounts"], url="https://other.example/hooks/")
    destination(client, ["*"], payload="thin", url=THIN_URL)
    fake_stripe.event_destinations[next(reversed(fake_stripe.event_destinations))][
        "status"] = "disabled"

    out, _ = run("--check")

    assert missing(out) == {*V2_EVENTS, *PAYOUTS}
    assert "https://other.example/hooks/ (not this app's webhook URL: not counted)" in out
    assert " DISABLED: platform, thin" in out


def test_a_v1_endpoint_of_unknown_kind_is_named_not_counted(
    fake_stripe: FakeStripe, client: stripe.StripeClient
) -> None:
    made = client.v1.webhook_endpoints.create(
        {"url": APP, "enabled_events": PAYOUTS, "connect": True})
    assert made.secret  # only in the create answer, as at Stripe
    destination(client, V2_EVENTS, payload="thin", url=THIN_URL)

    out, error = run("--check")

    # Stripe's v1 object does not say whether it is a Connect endpoint.
    assert missing(out) == set(PAYOUTS)
    assert f"Sent by {made.id}, a webhook endpoint Stripe does not say is a Connect or a " \
           "platform endpoint" in out
    assert error is not None


def test_every_page_of_destinations_is_read(
    fake_stripe: FakeStripe, client: stripe.StripeClient
) -> None:
    destination(client, PAYOUTS, events_from=["@accounts"])  # the oldest: on the last page
    for _ in range(11):
        destination(client, ["charge.failed"], url="https://other.example/")
    for _ in range(11):
        client.v1.webhook_endpoints.create({"url": APP, "enabled_events": ["charge.failed"]})
    destination(client, V2_EVENTS, payload="thin", url=THIN_URL)

    out, error = run("--check")

    assert error is None, out
    assert "24 webhook endpoint(s) and event destination(s):" in out
    assert len(fake_stripe.requests_to("/v2/core/event_destinations", "GET")) == 2  # 10 a page


def test_stripe_unreachable_is_a_clear_error_without_the_key(
    fake_stripe: FakeStripe, client: stripe.StripeClient
) -> None:
    fake_stripe.fail_next("GET /v1/webhook_endpoints", status=401, code=None,
                          message="Invalid API Key provided: sk_test_****fake")

    out, error = run("--check")

    assert error is not None
    assert error.startswith("Could not read webhook endpoints from Stripe")
    assert fake_stripe.secret_key not in f"{out}{error}"


def test_the_fakes_answers_fit_stripes_types(
    fake_stripe: FakeStripe, client: stripe.StripeClient
) -> None:
    destination(client, PAYOUTS, events_from=["@accounts"])
    client.v1.webhook_endpoints.create({"url": APP, "enabled_events": ["*"]})

    listed = client.v2.core.event_destinations.list()
    endpoints = client.v1.webhook_endpoints.list()

    assert problems(listed.data[0], stripe.v2.core.EventDestination) == []
    assert listed.data[0].webhook_endpoint is not None
    assert listed.data[0].webhook_endpoint.url is None  # shown only when included
    assert problems(endpoints.data[0], stripe.WebhookEndpoint) == []
    assert endpoints.data[0].secret is None
