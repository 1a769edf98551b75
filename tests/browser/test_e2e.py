"""The user's side, end to end: the example platform in headless Chromium.

Log in as a demo user, connect through the fake Stripe's onboarding page,
come back to the dashboard; decline; then webhooks change what the dashboard
shows. What the user sees is asserted in the page, what the platform stored
in its database. A screenshot of each state goes to artifacts/screenshots/.
"""

from __future__ import annotations

import re
from typing import Any

import pytest

from .conftest import screenshot

pytestmark = pytest.mark.browser

ENABLED = "Payouts are on"


def expect(target: Any) -> Any:
    from playwright.sync_api import expect as playwright_expect

    return playwright_expect(target)


def log_in_as(page: Any, server: Any, first_name: str) -> None:
    page.goto("/demo/users/")
    page.get_by_role("button", name=f"Log in as {first_name}").click()
    expect(page).to_have_url(f"{server.url}/")
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Hello {first_name}")


def stripe_card(page: Any) -> Any:
    return page.get_by_role("region", name="Payouts with Stripe")


def deliver(fake: Any, server: Any, event: dict[str, Any]) -> None:
    delivery = fake.post_event(f"{server.url}/stripe/webhook/", event)
    assert delivery.status_code == 200, delivery.content


def test_every_button_state_side_by_side(new_page):
    page = new_page()
    page.goto("/demo/states/")
    states = page.locator("[data-stripe-express-status]")
    expect(states).to_have_count(11)
    assert states.evaluate_all("els => els.map(e => e.dataset.stripeExpressStatus)") == [
        "anonymous", "not_connected", "onboarding", "restricted",
        "pending_verification", "restricted", "enabled", "enabled", "disabled", "disabled",
        "disconnected",
    ]
    screenshot(page, "00-all-states", full_page=True)
    page.set_viewport_size({"width": 390, "height": 844})  # a phone
    screenshot(page, "00-all-states-phone", full_page=True)


def test_connect_with_stripe_and_finish_onboarding_without_javascript(
    new_page, example_server, fake
):
    # No JavaScript at all: the button is a plain form (a POST with the CSRF
    # token) and every step a plain form.
    page = new_page(java_script_enabled=False)
    log_in_as(page, example_server, "Alice")
    card = stripe_card(page)
    expect(card).to_contain_text("Get paid with Stripe")
    connect = card.get_by_role("button", name="Connect with Stripe")
    expect(card.get_by_role("link", name="Connect with Stripe")).to_have_count(0)
    expect(connect).to_have_css("background-color", "rgb(99, 91, 255)")  # Stripe's #635BFF
    screenshot(page, "01-not-connected")

    connect.click()
    expect(page).to_have_url(re.compile(re.escape(fake.url) + "/"))
    agree = page.get_by_role("button", name="Agree and submit")
    expect(agree).to_be_visible()
    screenshot(page, "02-fake-stripe-onboarding")
    agree.click()

    expect(page).to_have_url(f"{example_server.url}/")
    expect(page.locator(".messages")).to_contain_text("Your Stripe account is connected.")
    expect(card).to_contain_text(ENABLED)
    expect(card.get_by_role("button", name="Open Stripe dashboard")).to_be_visible()
    expect(page.get_by_test_id("account-status")).to_have_text("Enabled")
    screenshot(page, "03-connected")

    stripe_id, status, deauthorized_at = example_server.account_of("alice")
    assert (status, deauthorized_at) == ("enabled", None)
    assert fake.accounts[stripe_id]["details_submitted"] is True
    expect(page.get_by_text(stripe_id)).to_be_visible()

    card.get_by_role("button", name="Open Stripe dashboard").click()
    expect(page).to_have_title(re.compile("Express dashboard"))
    expect(page.get_by_text(stripe_id)).to_be_visible()


def test_declining_on_stripe_shows_the_decline_message(new_page, example_server):
    page = new_page()
    log_in_as(page, example_server, "Carol")
    stripe_card(page).get_by_role("button", name="Connect with Stripe").click()
    page.get_by_role("button", name="Decline").click()

    expect(page).to_have_url(f"{example_server.url}/")
    expect(page.locator(".messages")).to_contain_text(
        "You cancelled connecting your Stripe account. Nothing was changed."
    )
    expect(stripe_card(page).get_by_role("button", name="Connect with Stripe")).to_be_visible()
    screenshot(page, "04-declined")
    assert example_server.account_of("carol") is None


def test_webhooks_move_the_dashboard_through_the_states(new_page, example_server, fake):
    page = new_page()
    log_in_as(page, example_server, "Bob")
    card = stripe_card(page)
    card.get_by_role("button", name="Connect with Stripe").click()
    page.get_by_label(re.compile("Finish onboarding now")).uncheck()
    page.get_by_role("button", name="Agree and submit").click()

    # Connected, but Stripe still needs details: finish onboarding.
    expect(page).to_have_url(f"{example_server.url}/")
    expect(card).to_contain_text("Your payouts are almost set up")
    expect(card).to_contain_text(re.compile(r"Stripe still needs \d+ items? from you"))
    finish = card.get_by_role("button", name="Finish setting up payouts")
    form = card.locator("form", has=page.get_by_role("button", name="Finish setting up payouts"))
    expect(form).to_have_attribute("method", "post")
    expect(form).to_have_attribute("action", re.compile(r"^/stripe/connect/"))
    screenshot(page, "05-onboarding")
    stripe_id, status, _ = example_server.account_of("bob")
    assert status == "onboarding"

    # The link continues onboarding on Stripe; leaving it for later changes nothing.
    finish.click()
    expect(page).to_have_url(re.compile(re.escape(fake.url) + "/"))
    page.get_by_role("button", name="Save and return later").click()
    expect(page).to_have_url(re.compile(re.escape(example_server.url) + "/"))
    page.goto("/")
    expect(card).to_contain_text("Your payouts are almost set up")

    # Stripe finishes onboarding and says so with a signed account.updated.
    fake.complete_onboarding(stripe_id)
    deliver(fake, example_server, fake.build_event("account.updated", account=stripe_id))
    assert example_server.account_of("bob")[1] == "enabled"
    page.reload()
    expect(card).to_contain_text(ENABLED)
    screenshot(page, "06-enabled-after-webhook")

    # Stripe wants an identity document: restricted, in plain words.
    fake.require_verification(stripe_id, fields=["individual.verification.document"])
    deliver(fake, example_server, fake.build_event("account.updated", account=stripe_id))
    page.reload()
    expect(card).to_contain_text("Your payouts are paused")
    expect(card.get_by_role("listitem")).to_have_text(["Identity document"])
    expect(card.get_by_role("button", name="Update your details")).to_be_visible()
    screenshot(page, "07-restricted")

    # The user disconnects the platform in Stripe: reconnect.
    deliver(
        fake, example_server,
        fake.build_event("account.application.deauthorized", account=stripe_id),
    )
    page.reload()
    expect(card).to_contain_text("Your Stripe account is disconnected")
    expect(card.get_by_role("button", name="Reconnect")).to_be_visible()
    screenshot(page, "08-disconnected")
    assert example_server.account_of("bob")[1] == "disconnected"

    # Support's view of who is where: the demo users page lists each status.
    page.goto("/demo/users/")
    expect(page.get_by_role("row", name=re.compile("Bob Okafor"))).to_contain_text("Disconnected")
    screenshot(page, "10-demo-users")


def test_v2_account_links_onboarding_from_start_to_enabled(
    new_account_links_page, account_links_server, fake
):
    """The example's default: Account Links creating an Accounts v2 account."""
    server = account_links_server
    page = new_account_links_page()
    log_in_as(page, server, "Alice")
    card = stripe_card(page)
    card.get_by_role("button", name="Connect with Stripe").click()

    # Stripe's form, left for later: back on the dashboard with what is still due.
    expect(page).to_have_url(re.compile(re.escape(fake.url) + "/"))
    page.get_by_role("button", name="Save and return later").click()
    expect(page).to_have_url(f"{server.url}/")
    expect(page.locator(".messages")).to_contain_text("Your Stripe onboarding is not finished.")
    expect(card).to_contain_text("Your payouts are almost set up")
    expect(card.get_by_role("listitem")).to_contain_text(["Full name", "Bank account"])
    expect(page.get_by_test_id("accounts-api")).to_have_text("Accounts v2")
    screenshot(page, "09-v2-onboarding")
    stripe_id, status, _ = server.account_of("alice")
    assert status == "onboarding"
    assert fake.accounts[stripe_id]["object"] == "v2.core.account"
    assert fake.accounts[stripe_id]["dashboard"] == "express"
    assert server.query(
        "SELECT accounts_api FROM django_stripe_express_expressaccount WHERE stripe_id = ?",
        stripe_id,
    ) == [("v2",)]

    # Finish: a new v2 link for the same account, then enabled.
    card.get_by_role("button", name="Finish setting up payouts").click()
    expect(page).to_have_url(re.compile(re.escape(fake.url) + f"/setup/e/{stripe_id}/"))
    page.get_by_role("button", name="Agree and submit").click()
    expect(page).to_have_url(f"{server.url}/")
    expect(page.locator(".messages")).to_contain_text("You are ready to be paid.")
    expect(card).to_contain_text(ENABLED)
    expect(page.get_by_test_id("account-status")).to_have_text("Enabled")
    screenshot(page, "09-v2-enabled")
    assert server.account_of("alice")[1] == "enabled"
    assert len(fake.requests_to("/v2/core/accounts", "POST")) == 1

    # The Express dashboard opens through a login link, for a v2 account too.
    card.get_by_role("button", name="Open Stripe dashboard").click()
    expect(page).to_have_title(re.compile("Express dashboard"))
    expect(page.get_by_text(stripe_id)).to_be_visible()


def test_opening_the_connect_address_starts_nothing(
    new_account_links_page, account_links_server, fake
):
    # A GET (the address bar, a link, a cross-site <img>) used to create the
    # Stripe account at once; now it shows the button, whose POST starts.
    page = new_account_links_page(java_script_enabled=False)
    log_in_as(page, account_links_server, "Bob")
    known = set(fake.accounts)

    page.goto("/stripe/connect/")

    expect(page).to_have_url(f"{account_links_server.url}/stripe/connect/")
    start = stripe_card(page).get_by_role("button", name="Connect with Stripe")
    expect(start).to_be_visible()
    screenshot(page, "11-connect-page")
    assert set(fake.accounts) == known
    assert account_links_server.account_of("bob") is None

    start.click()
    expect(page).to_have_url(re.compile(re.escape(fake.url) + "/"))
    assert account_links_server.account_of("bob") is not None


def test_account_links_onboarding_can_end_in_a_review(
    new_account_links_page, account_links_server, fake
):
    page = new_account_links_page()
    log_in_as(page, account_links_server, "Carol")
    card = stripe_card(page)
    card.get_by_role("button", name="Connect with Stripe").click()

    # The fake's hosted page lets the demo end onboarding as Stripe may: here in
    # a review that asks for more (v2: a capability restricted_other, an entry
    # past due; v1: disabled_reason "other", items past due).
    page.get_by_label("Then Stripe's verification ends as").select_option("review")
    page.get_by_role("button", name="Agree and submit").click()

    expect(page).to_have_url(re.compile(re.escape(account_links_server.url) + "/"))
    expect(card).to_contain_text(
        "Stripe is reviewing this account and needs more information from you."
    )
    expect(card.get_by_role("listitem")).to_have_text(["Product description"])
    expect(card.get_by_role("button", name="Update your details")).to_be_visible()
    screenshot(page, "12-account-links-review")
    assert account_links_server.account_of("carol")[1] == "restricted"
