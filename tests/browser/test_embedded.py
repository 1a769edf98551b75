"""Embedded onboarding and components, end to end in headless Chromium.

The example platform in `STRIPE_ONBOARDING=embedded` mode, with the fake
Stripe's stand-in Connect.js: a user connects, finishes onboarding inside the
component without leaving the site, and lands back connected; the dashboard
and the Stripe account page show the components drawn from the fake's state;
the refusals (wrong method, no login, no CSRF token, Connect.js unreachable,
a wrong publishable key) are what a user or a script would meet. The pages
send a strict Content-Security-Policy (example/csp.py), and no page may
break it. Screenshots go to artifacts/screenshots/.
"""

from __future__ import annotations

import re
from typing import Any

import pytest

from django_stripe_express.testing.objects_v2 import as_v1

from .conftest import screenshot
from .test_e2e import ENABLED, expect, log_in_as, stripe_card

pytestmark = pytest.mark.browser

SESSION = "/stripe/account-session/"


def watch_console(page: Any) -> list[str]:
    """Console errors and warnings of the page (CSP violations are reported there)."""
    seen: list[str] = []
    page.on("console", lambda m: seen.append(m.text) if m.type in ("error", "warning") else None)
    return seen


def csp_violations(console: list[str]) -> list[str]:
    return [line for line in console if "Content Security Policy" in line]


def screenshot_whole(page: Any, name: str) -> None:
    """The whole page, with every component drawn: Chromium leaves iframes below
    the fold blank in a full-page capture, so the window grows to the page."""
    height = page.evaluate("document.documentElement.scrollHeight")
    page.set_viewport_size({"width": 1100, "height": height})
    page.evaluate("() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))")
    screenshot(page, name)


def component(page: Any, name: str) -> Any:
    """The Connect.js element of a component (`<stripe-connect-payouts>`...)."""
    return page.locator(f"stripe-connect-{name.replace('_', '-')}")


def frame(page: Any, name: str) -> Any:
    return page.frame_locator(f"stripe-connect-{name.replace('_', '-')} iframe")


def loaded(page: Any, name: str) -> Any:
    expect(component(page, name)).to_have_attribute("data-fake-state", "loaded")
    return frame(page, name)


def test_onboard_inside_the_component_and_land_connected(
    new_embedded_page, embedded_server, fake
):
    page = new_embedded_page()
    console = watch_console(page)
    log_in_as(page, embedded_server, "Alice")
    card = stripe_card(page)

    card.get_by_role("button", name="Connect with Stripe").click()

    # Stripe's onboarding component, on the platform's own page.
    expect(page).to_have_url(f"{embedded_server.url}/stripe/onboarding/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Set up payouts with Stripe")
    onboarding = loaded(page, "account_onboarding")
    stripe_id, status, _ = embedded_server.account_of("alice")
    assert status == "onboarding"
    expect(onboarding.get_by_text(stripe_id)).to_be_visible()
    agree = onboarding.get_by_role("button", name="Agree and submit")
    expect(agree).to_be_visible()
    # The platform's colour (EMBEDDED_APPEARANCE) reaches the component.
    expect(agree).to_have_css("background-color", "rgb(15, 118, 110)")
    screenshot(page, "20-embedded-onboarding")
    (session,) = fake.account_sessions(stripe_id)
    assert session.enabled("account_onboarding")
    assert not session.enabled("payouts")  # only what the page shows

    agree.click()

    # The component exits; the page re-reads the account and lands.
    expect(page).to_have_url(f"{embedded_server.url}/")
    expect(page.locator(".messages")).to_contain_text(
        "Your Stripe account is set up. You are ready to be paid."
    )
    expect(card).to_contain_text(ENABLED)
    expect(page.get_by_test_id("account-status")).to_have_text("Enabled")
    assert embedded_server.account_of("alice")[1] == "enabled"
    # The example creates Accounts v2 accounts: v1's Account Sessions take them.
    assert fake.accounts[stripe_id]["object"] == "v2.core.account"
    assert as_v1(fake.accounts[stripe_id])["details_submitted"] is True
    # The dashboard shows the banner (nothing due: it takes no room) and payouts.
    loaded(page, "notification_banner")
    payouts = loaded(page, "payouts")
    expect(payouts.get_by_role("heading", name="Payouts", exact=True)).to_be_visible()
    screenshot_whole(page, "21-embedded-connected")
    assert csp_violations(console) == []


def test_the_stripe_account_page_shows_the_components(
    new_embedded_page, embedded_server, fake
):
    page = new_embedded_page()
    console = watch_console(page)
    log_in_as(page, embedded_server, "Alice")
    stripe_id = embedded_server.account_of("alice")[0]
    fake.set_balance(stripe_id, available=123456, pending=7800)
    fake.add_payout(stripe_id, 25000, arrival_date=1767225600)

    page.get_by_role("link", name="Stripe account").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Your Stripe account")
    management = loaded(page, "account_management")
    expect(management.get_by_text(stripe_id)).to_be_visible()
    expect(management.get_by_text("alice@example.com")).to_be_visible()
    payouts = loaded(page, "payouts")
    expect(payouts.locator("[data-balance=available]")).to_have_text("$1,234.56")
    paid = re.compile(r"2026-01-01 \$250\.00 paid")
    expect(payouts.get_by_role("row", name=paid)).to_be_visible()
    # The example turns on instant payouts and schedule editing for payouts.
    expect(payouts.get_by_role("button", name="Instant payout", exact=True)).to_be_enabled()
    expect(payouts.get_by_role("button", name="Edit schedule", exact=True)).to_be_enabled()
    expect(loaded(page, "balances").locator("[data-balance=pending]")).to_have_text("$78.00")
    expect(loaded(page, "documents").get_by_text("No documents yet")).to_be_visible()
    # One Connect.js and one session for the whole page.
    assert page.locator("script[src$='/connect-js/v1.0/connect.js']").count() == 1
    session = fake.account_sessions(stripe_id)[-1]
    assert {n for n, c in session.components.items() if c["enabled"]} == {
        "notification_banner", "account_management", "balances", "payouts", "documents",
    }
    screenshot_whole(page, "22-embedded-components")
    assert csp_violations(console) == []


def test_leaving_onboarding_early_shows_what_is_due_in_the_banner(
    new_embedded_page, embedded_server
):
    page = new_embedded_page()
    log_in_as(page, embedded_server, "Bob")
    stripe_card(page).get_by_role("button", name="Connect with Stripe").click()

    loaded(page, "account_onboarding").get_by_role(
        "button", name="Save and return later"
    ).click()

    expect(page).to_have_url(f"{embedded_server.url}/")
    expect(page.locator(".messages")).to_contain_text("Your Stripe onboarding is not finished.")
    banner = loaded(page, "notification_banner")
    expect(banner.get_by_role("heading", name="Action required")).to_be_visible()
    expect(banner.get_by_role("listitem").filter(has_text="external_account")).to_be_visible()
    expect(stripe_card(page)).to_contain_text("Your payouts are almost set up")
    assert embedded_server.account_of("bob")[1] == "onboarding"
    screenshot_whole(page, "23-embedded-banner")


def test_connect_js_unreachable_offers_the_hosted_flow(
    new_embedded_page, embedded_server, fake
):
    page = new_embedded_page()
    page.route(re.compile(r".*/connect-js/v1\.0/connect\.js$"), lambda route: route.abort())
    log_in_as(page, embedded_server, "Carol")
    stripe_card(page).get_by_role("button", name="Connect with Stripe").click()

    expect(page).to_have_url(f"{embedded_server.url}/stripe/onboarding/")
    alert = page.get_by_role("alert")
    expect(alert).to_contain_text("Stripe's onboarding form could not be loaded on this page.")
    screenshot(page, "24-embedded-connect-js-unreachable")
    alert.get_by_role("button", name="Continue on Stripe's website instead").click()

    # Stripe's hosted onboarding (an Account Link) for the same account.
    expect(page).to_have_url(re.compile(re.escape(fake.url) + "/setup/e/"))
    page.get_by_role("button", name="Agree and submit").click()
    expect(page).to_have_url(f"{embedded_server.url}/")
    expect(stripe_card(page)).to_contain_text(ENABLED)
    assert embedded_server.account_of("carol")[1] == "enabled"


def test_static_files_not_served_still_end_in_the_fallback(
    new_embedded_page, embedded_server, fake
):
    # No collectstatic, no static serving: the app's script and stylesheet are
    # 404. The markup's own timed style shows the fallback instead of
    # "Loading from Stripe..." forever.
    page = new_embedded_page()
    # Bob left onboarding early (above): his onboarding page hosts the component.
    log_in_as(page, embedded_server, "Bob")
    page.route(re.compile(r".*/static/django_stripe_express/.*"),
               lambda route: route.fulfill(status=404, body="Not found"))
    page.goto("/stripe/onboarding/")

    expect(page).to_have_url(f"{embedded_server.url}/stripe/onboarding/")
    alert = page.get_by_role("alert")
    expect(alert).not_to_be_visible()  # the script may still be on its way
    expect(alert).to_be_visible(timeout=15_000)
    expect(alert).to_contain_text("Stripe's onboarding form could not be loaded on this page.")
    expect(page.get_by_text("Loading from Stripe")).not_to_be_visible()
    screenshot(page, "24-embedded-static-not-served")
    alert.get_by_role("button", name="Continue on Stripe's website instead").click()
    expect(page).to_have_url(re.compile(re.escape(fake.url) + "/setup/e/"))


def test_a_wrong_publishable_key_says_so_instead_of_a_blank_page(
    new_embedded_page, embedded_server, fake, monkeypatch
):
    page = new_embedded_page()
    log_in_as(page, embedded_server, "Bob")
    # The fake now accepts another key than the one the platform sends.
    monkeypatch.setattr(fake, "publishable_key", "pk_test_someone_else")

    page.goto("/stripe/onboarding/")

    expect(component(page, "account_onboarding")).to_have_attribute("data-fake-state", "error")
    alert = page.get_by_role("alert")
    expect(alert).to_contain_text("Stripe's onboarding form could not be loaded on this page.")
    # A POST form (a GET that makes a link at Stripe could be triggered cross-site).
    expect(alert.locator("form")).to_have_attribute("action", "/stripe/onboarding/refresh/")
    expect(alert.locator("form")).to_have_attribute("method", "post")
    screenshot(page, "25-embedded-wrong-key")


def test_the_account_session_refusals(new_embedded_page, embedded_server, fake):
    # GET: 405, whoever asks.
    page = new_embedded_page()
    assert page.request.get(f"{embedded_server.url}{SESSION}").status == 405

    # Not logged in: a script gets 401 JSON, not a login page to parse.
    page.goto("/login/")
    anonymous = page.evaluate(
        """async (url) => {
            const token = document.cookie.match(/csrftoken=([^;]+)/)[1];
            const r = await fetch(url, {method: "POST", headers: {
                "X-CSRFToken": token, "Accept": "application/json"}});
            return [r.status, await r.json()];
        }""",
        SESSION,
    )
    assert anonymous == [401, {"error": "Your session has ended. Please log in again."}]

    # Logged in, but no CSRF token (what another site's form or script would send).
    log_in_as(page, embedded_server, "Alice")
    loaded(page, "payouts")  # the dashboard's own session is made
    before = len(fake.account_sessions())
    forged = page.request.post(f"{embedded_server.url}{SESSION}",
                               headers={"Accept": "application/json"})
    assert forged.status == 403
    assert len(fake.account_sessions()) == before

    # With the token: a session for Alice's account, whatever the request names.
    alice = embedded_server.account_of("alice")[0]
    bob = embedded_server.account_of("bob")[0]
    mine = page.evaluate(
        """async ([url, other]) => {
            const token = document.cookie.match(/csrftoken=([^;]+)/)[1];
            const body = new URLSearchParams({components: "payouts", account: other});
            const r = await fetch(url, {method: "POST", body, headers: {
                "X-CSRFToken": token, "Accept": "application/json"}});
            return [r.status, Object.keys(await r.json())];
        }""",
        [SESSION, bob],
    )
    assert mine == [200, ["client_secret"]]
    assert fake.account_sessions()[-1].account_id == alice
    assert fake.account_sessions()[-1].account_id != bob
