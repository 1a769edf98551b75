"""The button offers "disconnect" where Stripe allows it, behind a confirmation.

The docs described a POST to ``disconnect`` that no template rendered. Now
the button shows, for an account connected with OAuth, a disclosure that
explains what disconnecting does and holds the form (POST, CSRF token, the
page as ``next``); ``disconnect=False`` hides it.
"""

from __future__ import annotations

import re
from html import unescape

import pytest
from django.template import Context, Template
from django.test import Client

from django_stripe_express.models import ExpressAccount

from .factories import ExpressAccountFactory

pytestmark = pytest.mark.django_db

_DISCLOSURE = re.compile(
    r'<details class="stripe-express__disconnect">\s*<summary[^>]*>([^<]+)</summary>'
    r'\s*<p[^>]*>([^<]+)</p>\s*<form class="stripe-express__form" method="post" '
    r'action="([^"]+)"><input type="hidden" name="csrfmiddlewaretoken" value="([^"]+)">'
    r'<button type="submit"[^>]*>([^<]+)</button></form>\s*</details>'
)
CSRF = "k" * 32


def button(account: ExpressAccount, source: str = "{% stripe_express_button %}") -> str:
    from django.test import RequestFactory

    request = RequestFactory().get("/settings/payouts/")
    request.user = account.user
    request.META["CSRF_COOKIE"] = CSRF
    return Template("{% load stripe_express %}" + source).render(Context({"request": request}))


@pytest.fixture
def oauth_mode(settings):
    settings.STRIPE_EXPRESS = {**settings.STRIPE_EXPRESS, "ONBOARDING": "oauth"}


@pytest.mark.usefixtures("oauth_mode")
@pytest.mark.parametrize("traits", [{}, {"restricted": True}, {"onboarding": True},
                                    {"pending": True}])
def test_an_oauth_connection_gets_the_form_behind_a_confirmation(traits):
    html = button(ExpressAccountFactory(**traits))

    found = _DISCLOSURE.search(html)
    assert found, html
    summary, explanation, action, token, label = found.groups()
    assert summary == "Disconnect your Stripe account"
    assert "This site will stop sending you payouts" in explanation
    assert unescape(action) == "/stripe/disconnect/?next=%2Fsettings%2Fpayouts%2F"
    assert token
    assert label == "Yes, disconnect"
    assert "<details class=\"stripe-express__disconnect\">" in html  # closed: no `open`


def test_account_links_accounts_get_no_form(settings):
    settings.STRIPE_EXPRESS = {**settings.STRIPE_EXPRESS, "ONBOARDING": "account_links"}
    assert '<details class="stripe-express__disconnect"' not in button(ExpressAccountFactory())


@pytest.mark.usefixtures("oauth_mode")
def test_a_disconnected_account_gets_no_form():
    html = button(ExpressAccountFactory(disconnected=True))
    assert '<details class="stripe-express__disconnect"' not in html


@pytest.mark.usefixtures("oauth_mode")
def test_the_tag_can_hide_it():
    html = button(ExpressAccountFactory(), "{% stripe_express_button disconnect=False %}")
    assert 'data-stripe-express-status="enabled"' in html
    assert '<details class="stripe-express__disconnect"' not in html


@pytest.mark.usefixtures("oauth_mode")
def test_the_form_disconnects_and_comes_back_to_the_page(user, fake_stripe):
    acct = fake_stripe.create_account()
    fake_stripe.complete_onboarding(acct["id"])
    account = ExpressAccountFactory(user=user, stripe_id=acct["id"])
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(user)

    page = browser.get("/stripe/connect/", {"next": "/settings/payouts/"}).content.decode()
    _summary, _text, action, token, _label = _DISCLOSURE.search(page).groups()
    response = browser.post(unescape(action), {"csrfmiddlewaretoken": token})

    assert response.status_code == 302
    assert response["Location"] == "/settings/payouts/"
    assert fake_stripe.is_deauthorized(acct["id"])
    account.refresh_from_db()
    assert account.status == ExpressAccount.Status.DISCONNECTED
    after = browser.get("/stripe/connect/").content.decode()
    assert "Your Stripe account is disconnected." in after  # the message
    assert 'data-stripe-express-status="disconnected"' in after
    assert '<details class="stripe-express__disconnect"' not in after


def test_how_the_account_was_connected_decides_not_todays_setting(settings):
    """An OAuth connection stays one after the platform moves new users to
    Account Links (and a platform-created account never becomes one): the user's
    button and the admin's disconnect read the same answer from the account."""
    settings.STRIPE_EXPRESS = {**settings.STRIPE_EXPRESS, "ONBOARDING": "account_links"}
    oauth = ExpressAccountFactory(connected_via="oauth")
    assert oauth.via_oauth
    assert _DISCLOSURE.search(button(oauth))

    settings.STRIPE_EXPRESS = {**settings.STRIPE_EXPRESS, "ONBOARDING": "oauth"}
    created = ExpressAccountFactory(connected_via="account_links")
    assert not created.via_oauth
    assert '<details class="stripe-express__disconnect"' not in button(created)
