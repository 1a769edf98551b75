"""Paying users in the offline demo, as `scripts/example.sh` runs it (the fake
forwards Stripe's events to the webhook): a buyer pays for a maker's item, the
maker sees the sale in their ledger, their balance and payouts; a payout fails
at the fake (its control page), the maker sees why and how to fix it, and the
fix clears it; support staff see the same in the admin.

The tests run in order on one server: each starts where the last one left off.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest

from .conftest import _pages, screenshot
from .server import ExampleServer
from .test_e2e import expect, stripe_card
from .test_forwarded_webhooks import connected, forwarded_example

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def demo(browser: Any, fake: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    # The balance read afresh on each page, so each step shows what the fake holds.
    yield from forwarded_example(fake, tmp_path_factory.mktemp("example"),
                                 STRIPE_BALANCE_CACHE_SECONDS="0")


@pytest.fixture
def new_page(browser: Any, demo: ExampleServer) -> Iterator[Any]:
    yield from _pages(browser, demo)


def log_in(page: Any, first_name: str) -> None:
    page.goto("/demo/users/")
    page.get_by_role("button", name=f"Log in as {first_name}").click()


def control(page: Any, fake: Any, stripe_id: str) -> Any:
    """The fake's control page, the account's section."""
    page.goto(f"{fake.url}/fake")
    return page.locator(f'[data-account="{stripe_id}"]')


def payouts_card(page: Any) -> Any:
    return page.get_by_test_id("payouts")


def alice_id(demo: ExampleServer) -> str:
    return str(demo.account_of("alice")[0])


def test_a_buyer_buys_a_maker_s_item_and_the_maker_s_ledger_shows_it_sent(
    new_page, demo, fake
):
    maker = new_page()
    connected(maker, demo, "Alice")
    expect(maker.get_by_text("No sales yet.")).to_be_visible()

    buyer = new_page()
    log_in(buyer, "Bob")
    buyer.get_by_role("link", name="Shop").click()
    bowl = buyer.locator('[data-item="walnut-bowl"]')
    expect(bowl).to_contain_text("$45.00")
    # Bob's own mug is not his to buy.
    expect(buyer.locator('[data-item="stoneware-mug"]')).to_contain_text("Your item")
    bowl.get_by_role("button", name="Buy the walnut bowl").click()
    expect(buyer.get_by_role("status")).to_have_text(
        "You bought the walnut bowl from Alice Martin for $45.00. Alice Martin receives "
        "$40.50 in their Stripe balance; Makers Market keeps $4.50.")
    screenshot(buyer, "30-buyer-bought-an-item")
    assert fake.forwarder.wait(15)  # Stripe's events about the payment reached the webhook

    (transfer,) = fake.transfers_made(destination=alice_id(demo))
    assert demo.query(
        "SELECT status, amount, currency, stripe_id FROM django_stripe_express_transfer"
    ) == [("sent", 4050, "usd", transfer["id"])]

    maker.goto("/")
    ledger = maker.get_by_test_id("ledger")
    rows = ledger.locator("tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_have_attribute("data-transfer-status", "sent")
    expect(rows.first.locator("td").nth(1)).to_have_text("$40.50")
    expect(rows.first.locator("td").nth(2)).to_have_text("Sent")
    expect(rows.first.locator("td").nth(3)).to_contain_text("payment_intent:pi_")
    expect(rows.first.locator("td").nth(4)).to_have_text("\u2013")  # nothing taken back
    ledger.scroll_into_view_if_needed()
    screenshot(maker, "31-maker-ledger-sent", full_page=True)


def test_the_maker_s_dashboard_shows_the_balance_the_next_and_latest_payouts(
    new_page, demo, fake
):
    stripe_id = alice_id(demo)
    fake.set_balance(stripe_id, available=8000, pending=4050, instant_available=2500)
    page = new_page()
    section = control(page, fake, stripe_id)
    section.get_by_role("button", name="Pay out 10.00 (pending)").click()
    control(page, fake, stripe_id).get_by_role(
        "button", name="The pending payout arrives").click()
    control(page, fake, stripe_id).get_by_role("button", name="Pay out 10.00 (pending)").click()
    assert fake.forwarder.wait(15)
    assert sorted(demo.query("SELECT status FROM django_stripe_express_payout")) == [
        ("paid",), ("pending",)]

    log_in(page, "Alice")
    expect(page.locator('[data-stripe-express-balance="available"]')).to_have_text("$80.00")
    expect(page.locator('[data-stripe-express-balance="pending"]')).to_have_text("$40.50")
    expect(page.locator('[data-stripe-express-balance="instant_available"]')).to_have_text(
        "$25.00")
    card = payouts_card(page)
    expect(card.get_by_test_id("payout-schedule")).to_have_text(
        "Every day, 2 days after each sale.")
    expect(card.get_by_test_id("next-payout")).to_contain_text(
        re.compile(r"^\$10\.00, pending, expected \w+\.? \d+, \d{4}$"))
    statuses = card.locator("tbody tr")
    expect(statuses).to_have_count(2)
    expect(statuses.nth(0)).to_have_attribute("data-payout-status", "pending")
    expect(statuses.nth(1)).to_have_attribute("data-payout-status", "paid")
    expect(statuses.nth(1)).to_contain_text("Paid")
    expect(stripe_card(page)).not_to_contain_text("Your last payout failed")
    screenshot(page, "32-maker-balance-and-payouts", full_page=True)


def test_a_failed_payout_is_shown_with_its_fix_and_the_fix_clears_it(new_page, demo, fake):
    stripe_id = alice_id(demo)
    page = new_page()
    control(page, fake, stripe_id).get_by_role("button", name="Pay out 10.00 (pending)").click()
    section = control(page, fake, stripe_id)
    section.locator('select[name="failure_code"]').select_option("account_closed")
    section.get_by_role("button", name="The pending payout fails").click()
    assert fake.forwarder.wait(15)
    assert demo.query(
        "SELECT payout_failure_code FROM django_stripe_express_expressaccount"
        " WHERE stripe_id = ?", stripe_id) == [("account_closed",)]

    log_in(page, "Alice")
    card = stripe_card(page)
    failure = card.locator('[data-stripe-express-payout="failed"]')
    expect(failure).to_contain_text("Your last payout failed")
    expect(failure).to_contain_text(
        "Your bank says this account is closed. Please add another bank account.")
    # The fix, where the user changes their bank account: Stripe's account
    # management component (the demo turns it on), loaded in the alert.
    fix = failure.locator("stripe-connect-account-management")
    expect(fix).to_have_attribute("data-fake-state", "loaded")
    management = page.frame_locator("stripe-connect-account-management iframe")
    expect(management.get_by_text(stripe_id)).to_be_visible()
    expect(management.get_by_text("payout account")).to_be_visible()
    failed_row = payouts_card(page).locator('tr[data-payout-status="failed"]')
    expect(failed_row).to_contain_text("Failed")
    expect(failed_row).to_contain_text("Your bank says this account is closed.")
    screenshot(page, "33-payout-failed-with-its-fix", full_page=True)

    # The user changes their bank account (at Stripe: the fake's control page
    # stands in for the component's editing), and Stripe tells the platform.
    control(page, fake, stripe_id).get_by_role(
        "button", name="The user changes their bank account").click()
    assert fake.forwarder.wait(15)

    page.goto(f"{demo.url}/")
    expect(card).to_contain_text("Payouts are on")
    expect(card.locator('[data-stripe-express-payout="failed"]')).to_have_count(0)
    # The payout itself stays failed in the history.
    expect(payouts_card(page).locator('tr[data-payout-status="failed"]')).to_have_count(1)
    screenshot(page, "34-payout-failure-cleared", full_page=True)


def test_support_sees_the_balance_latest_payouts_and_the_transfer_ledger(
    new_page, demo, fake
):
    stripe_id = alice_id(demo)
    page = new_page()
    page.set_viewport_size({"width": 1280, "height": 900})
    log_in(page, "Sam")
    expect(page).to_have_url(f"{demo.url}/admin/")
    page.goto(f"{demo.url}/admin/django_stripe_express/expressaccount/")
    page.get_by_role("link", name=stripe_id).click()

    balance = page.locator(".field-balance_display")
    expect(balance.locator('[data-balance="available"]')).to_have_text("$80.00")
    expect(balance.locator('[data-balance="pending"]')).to_have_text("$40.50")
    payouts = page.locator(".field-latest_payouts_display tbody tr")
    expect(payouts).to_have_count(3)
    expect(payouts.nth(0)).to_have_attribute("data-payout-status", "failed")
    expect(payouts.nth(0)).to_contain_text("account_closed")
    expect(payouts.nth(0)).to_contain_text("$10.00")
    expect(page.locator(".field-payout_failure_display")).to_contain_text(
        "None: no failed payout waits for the user to fix it.")  # the bank account was changed
    page.locator(".field-balance_display").scroll_into_view_if_needed()
    screenshot(page, "35-admin-account-balance-and-payouts")

    # The ledger: from the dashboard's support link to the Transfer changelist.
    page.goto(f"{demo.url}/")
    page.get_by_test_id("ledger-admin").click()
    expect(page).to_have_url(f"{demo.url}/admin/django_stripe_express/transfer/")
    rows = page.locator("#result_list tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("payment_intent:pi_")
    expect(rows.first).to_contain_text("Sent")
    expect(rows.first).to_contain_text("$40.50")
    screenshot(page, "36-admin-transfer-ledger")
