"""The offline demo as `scripts/example.sh` runs it: the fake forwards to the webhook.

A user connects (Account Links, an Accounts v2 account: the demo's default),
then Stripe (the fake's control page, as a developer would use it) asks for a
document: the dashboard shows the change, which reached the platform only
through the thin events the fake forwarded, never through a page of the
platform's flows. With OAuth, the user disconnects with the button's form.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest

from django_stripe_express.testing import FakeStripe

from .conftest import _pages, screenshot
from .server import ExampleServer
from .test_e2e import expect, stripe_card

pytestmark = pytest.mark.browser


def forwarded_example(fake: Any, workdir: Any, **env: str) -> Iterator[ExampleServer]:
    """The example project, its fake forwarding to its webhook (example.sh's way)."""
    server = ExampleServer(workdir, fake.url, **env)
    fake.forward_to(f"{server.url}/stripe/webhook/")
    with server:
        yield server
    fake.stop_forwarding()


@pytest.fixture(scope="module")
def demo(browser: Any, fake: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """The example as example.sh runs it: Account Links, Accounts v2 accounts."""
    yield from forwarded_example(fake, tmp_path_factory.mktemp("example"))


@pytest.fixture(scope="module")
def oauth_fake() -> Iterator[FakeStripe]:
    with FakeStripe() as running:
        yield running


@pytest.fixture(scope="module")
def oauth_demo(
    browser: Any, oauth_fake: FakeStripe, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Any]:
    """The same, onboarding with Express OAuth (the flow users can disconnect)."""
    yield from forwarded_example(
        oauth_fake, tmp_path_factory.mktemp("example"), STRIPE_ONBOARDING="oauth"
    )


@pytest.fixture
def new_page(browser: Any, demo: ExampleServer) -> Iterator[Any]:
    yield from _pages(browser, demo)


@pytest.fixture
def new_oauth_page(browser: Any, oauth_demo: ExampleServer) -> Iterator[Any]:
    yield from _pages(browser, oauth_demo)


def platform_calls(fake: Any) -> list[Any]:
    """The platform's own calls to the fake's API (the browser's pages are not)."""
    return [r for r in fake.requests if r.path.startswith(("/v1/", "/v2/", "/oauth/"))]


def webhooks_of(server: ExampleServer, stripe_id: str) -> list[tuple[str, str]]:
    return server.query(
        "SELECT type, status FROM django_stripe_express_webhookevent WHERE account = ?"
        " ORDER BY received_at, id",
        stripe_id,
    )


def connected(page: Any, server: ExampleServer, first_name: str) -> Any:
    """Log in as a demo user and connect through the fake's page; the button's card."""
    page.goto("/demo/users/")
    page.get_by_role("button", name=f"Log in as {first_name}").click()
    card = stripe_card(page)
    card.get_by_role("button", name="Connect with Stripe").click()
    page.get_by_role("button", name="Agree and submit").click()
    expect(page).to_have_url(f"{server.url}/")
    expect(card).to_contain_text("Payouts are on")
    return card


def test_a_status_change_arrives_by_a_forwarded_webhook(new_page, demo, fake):
    page = new_page()
    card = connected(page, demo, "Alice")
    stripe_id, status, _ = demo.account_of("alice")
    assert status == "enabled"
    assert fake.accounts[stripe_id]["object"] == "v2.core.account"
    assert fake.forwarder.wait(15)
    calls_before = len(platform_calls(fake))
    forwarded_before = len(fake.forwarder.deliveries)

    # The developer's side: the banner leads to the fake's control page,
    # where Stripe asks Alice for a document.
    page.get_by_test_id("fake-control").click()
    expect(page).to_have_url(re.compile(re.escape(fake.url) + "/fake/?$"))
    account = page.locator(f'[data-account="{stripe_id}"]')
    account.get_by_role("button", name="Ask for a document (restricted)").click()
    assert fake.forwarder.wait(15)
    page.reload()
    deliveries = page.locator(".deliveries li")  # newest first
    expect(deliveries.first).to_contain_text(
        "v2.core.account[configuration.recipient].capability_status_updated"
    )
    expect(deliveries.nth(1)).to_contain_text("v2.core.account[requirements].updated")
    expect(deliveries.nth(1)).to_contain_text(f"[{stripe_id}]: 200")
    screenshot(page, "20-fake-control-page")

    # Only the webhook told the platform: its only calls since are the reads
    # of the account that each thin event makes, one per event.
    calls = platform_calls(fake)[calls_before:]
    forwarded = fake.forwarder.deliveries[forwarded_before:]
    assert len(forwarded) == 2
    assert [(c.method, c.path) for c in calls] == [
        ("GET", f"/v2/core/accounts/{stripe_id}")
    ] * len(forwarded)
    assert demo.account_of("alice")[1] == "restricted"
    assert ("v2.core.account[requirements].updated", "processed") in webhooks_of(
        demo, stripe_id
    )

    page.goto("/")
    expect(card).to_have_attribute("data-stripe-express-status", "restricted")
    expect(card).to_contain_text("Your payouts are paused")
    expect(card.get_by_role("listitem")).to_have_text(["Identity document"])
    expect(page.get_by_test_id("account-status")).to_have_text("Restricted")
    expect(page.get_by_test_id("last-webhook")).to_contain_text("processed")
    screenshot(page, "21-restricted-by-forwarded-webhook")


def test_the_button_disconnects_after_a_confirmation(new_oauth_page, oauth_demo, oauth_fake):
    demo, fake = oauth_demo, oauth_fake
    page = new_oauth_page()
    card = connected(page, demo, "Bob")
    stripe_id = demo.account_of("bob")[0]

    confirm = card.get_by_role("button", name="Yes, disconnect")
    expect(confirm).to_be_hidden()  # behind the disclosure: one click cannot disconnect
    card.get_by_text("Disconnect your Stripe account").click()
    expect(card).to_contain_text("This site will stop sending you payouts")
    screenshot(page, "22-disconnect-confirmation")
    confirm.click()

    expect(page).to_have_url(f"{demo.url}/")  # back to the page with the button
    expect(page.get_by_role("status")).to_have_text("Your Stripe account is disconnected.")
    expect(card).to_have_attribute("data-stripe-express-status", "disconnected")
    expect(card.get_by_role("button", name="Reconnect")).to_be_visible()
    assert fake.is_deauthorized(stripe_id)
    assert fake.forwarder.wait(15)  # Stripe's deauthorized event reaches the webhook too
    # Before or after the view's own save: applied, or ignored as already done.
    (gone,) = [e for e in webhooks_of(demo, stripe_id) if e[0].startswith("account.application")]
    assert gone[1] in ("processed", "ignored")
