"""The Express accounts list at a laptop's width (1200 px), as support staff see it:
the columns they read first fit whole, every status badge is whole in its cell,
and nothing hides behind a sideways scroll. A screenshot is kept."""

from __future__ import annotations

from typing import Any

import pytest

from .conftest import screenshot

pytestmark = pytest.mark.browser

CHANGELIST = "/admin/django_stripe_express/expressaccount/"

# One account per status, with realistic (long) names, in the example's database.
SEED = """
import datetime
from django.contrib.auth import get_user_model
from django.utils import timezone
from django_stripe_express.models import ExpressAccount

User = get_user_model()
soon = int((timezone.now() + datetime.timedelta(days=9)).timestamp())


def reqs(**lists):
    base = {"currently_due": [], "eventually_due": [], "past_due": [],
            "pending_verification": [], "errors": [], "current_deadline": None}
    return {**base, **lists}


due = reqs(currently_due=["individual.verification.document", "external_account",
                          "individual.dob.day"], past_due=["external_account"],
           current_deadline=soon)
rows = [
    ("margaret.hamilton-wong", dict(charges_enabled=True, payouts_enabled=True,
                                    details_submitted=True, requirements=reqs())),
    ("bartholomew.okonkwo", dict(requirements=due, disabled_reason="requirements.past_due")),
    ("christina.vandermeer", dict(charges_enabled=True, details_submitted=True,
                                  requirements=due, disabled_reason="requirements.past_due")),
    ("dmitri.alexandrovich", dict(details_submitted=True, requirements=reqs(
        pending_verification=["individual.verification.document"]),
        disabled_reason="requirements.pending_verification")),
    ("evangeline.sutherland", dict(details_submitted=True, disabled_reason="rejected.fraud",
                                   requirements=reqs())),
    ("fitzgerald.montgomery", dict(charges_enabled=True, payouts_enabled=True,
                                   details_submitted=True, requirements=reqs(),
                                   deauthorized_at=timezone.now())),
]
for n, (username, fields) in enumerate(rows):
    user = User.objects.create(username=username, email=f"{username}@example-marketplace.com")
    ExpressAccount.objects.create(
        user=user, stripe_id=f"acct_1Q{n}Zx8KLmNoPqRsTu", livemode=n % 2 == 1,
        email=user.email, country="US", **fields)
ExpressAccount.objects.create(user=None, stripe_id="acct_1QdeletedUserXyZ", country="FR",
                              details_submitted=True, requirements=reqs(),
                              deauthorized_at=timezone.now())
"""

STATUSES = {"enabled", "onboarding", "restricted", "pending_verification", "disabled",
            "disconnected"}


def test_the_accounts_list_fits_a_laptop_screen(browser: Any, account_links_server: Any):
    server = account_links_server
    server.manage("shell", "-c", SEED)
    context = browser.new_context(base_url=server.url, viewport={"width": 1200, "height": 800})
    context.set_default_timeout(10_000)
    page = context.new_page()
    try:
        page.goto("/demo/users/")
        page.get_by_role("button", name="Log in as Sam").click()
        page.goto(CHANGELIST)
        path = screenshot(page, "admin-accounts-1200")
        print(f"screenshot: {path}")

        badges = page.locator("#result_list .stripe-express-status")
        seen = set(badges.evaluate_all(
            "els => els.map(e => [...e.classList].find(c => c.startsWith("
            "'stripe-express-status-')).slice('stripe-express-status-'.length))"
        ))
        assert seen == STATUSES
        assert badges.count() == 7

        cut = page.evaluate(
            """() => {
              const out = [];
              const badges = document.querySelectorAll('#result_list .stripe-express-status');
              for (const badge of badges) {
                const b = badge.getBoundingClientRect();
                const c = badge.closest('td').getBoundingClientRect();
                const inCell = b.left >= c.left - 0.5 && b.right <= c.right + 0.5
                  && b.top >= c.top - 0.5 && b.bottom <= c.bottom + 0.5;
                const box = document.querySelector("#changelist .results").getBoundingClientRect();
                const inView = b.left >= 0 && b.right <= window.innerWidth
                  && b.left >= box.left && b.right <= box.right;
                const oneLine = b.height < 2 * parseFloat(getComputedStyle(badge).lineHeight);
                if (!inCell || !inView || !oneLine) out.push([badge.textContent, b.right, c.right]);
              }
              return out;
            }"""
        )
        assert cut == [], cut

        # No sideways scroll: neither the page nor the results table's box.
        overflow = page.evaluate(
            """() => {
              const doc = document.documentElement;
              const results = document.querySelector('#changelist .results');
              return [doc.scrollWidth - doc.clientWidth,
                      results.scrollWidth - results.clientWidth];
            }"""
        )
        widths = page.evaluate(
            """() => [...document.querySelectorAll('#result_list thead th')].map(
                th => [th.textContent.trim(), Math.round(th.getBoundingClientRect().width)])"""
        )
        assert overflow == [0, 0], (overflow, str(widths))

        # Every column header is whole on screen, so are the first columns' cells.
        headers = page.evaluate(
            """() => [...document.querySelectorAll('#result_list thead th')].map(th => {
                const r = th.getBoundingClientRect();
                return [th.textContent.trim(), r.left >= 0 && r.right <= window.innerWidth];
            })"""
        )
        assert [h for h, whole in headers if not whole] == [], headers
        names = [h for h, _ in headers]
        for column in ("Stripe account id", "User", "Mode", "Status"):
            assert column in names, names
        assert "deleted user" in page.locator("#result_list").inner_text()
    finally:
        context.close()
    assert not server.errors(), server.log()[-4000:]
