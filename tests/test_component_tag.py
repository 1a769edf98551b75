"""`{% stripe_express_component %}`: enabled components only, the loader once per
page, nothing (or the button) without an account, never a secret in the page."""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import re
from pathlib import Path

import pytest
from django.template import TemplateSyntaxError

from .factories import ExpressAccountFactory, UserFactory
from .templatetag_support import render as render_tag

ROOT = Path(__file__).resolve().parent.parent

pytestmark = pytest.mark.django_db

LOADER = '<script src="/static/django_stripe_express/embedded.js" defer></script>'


def render(source: str, user=None) -> str:
    return render_tag(source, user).html


def placeholders(html: str) -> list[str]:
    return re.findall(r'data-stripe-express-component="(\w+)"', html)


def config_of(html: str) -> dict:
    (block,) = re.findall(
        r'<script id="stripe-express-embedded-config" type="application/json">(.*?)</script>',
        html, re.S,
    )
    return json.loads(block)


@pytest.fixture
def embedded_settings(settings):
    settings.STRIPE_EXPRESS = {
        **settings.STRIPE_EXPRESS,
        "PUBLISHABLE_KEY": "pk_test_platform",
        "CONNECT_JS_URL": "https://connect-js.stripe.com/v1.0/connect.js",
        "EMBEDDED_APPEARANCE": {"variables": {"colorPrimary": "#0f766e"}},
    }
    return settings


def test_renders_a_placeholder_and_the_loader(embedded_settings):
    account = ExpressAccountFactory()

    html = render('{% stripe_express_component "payouts" %}', account.user)

    assert placeholders(html) == ["payouts"]
    assert html.count(LOADER) == 1
    assert 'href="/static/django_stripe_express/embedded.css"' in html
    config = config_of(html)
    assert config == {
        "publishableKey": "pk_test_platform",
        "connectJsUrl": "https://connect-js.stripe.com/v1.0/connect.js",
        "accountSessionUrl": "/stripe/account-session/",
        "csrfToken": config["csrfToken"],
        "appearance": {"variables": {"colorPrimary": "#0f766e"}},
        "locale": "en-US",
    }
    assert len(config["csrfToken"]) == 64
    # The fallback, waiting for the script (which hides it until Connect.js
    # fails), links to the Express dashboard; without the script, the loader's
    # constant style shows it after 8 seconds (its hash is in docs/embedded.md).
    assert re.search(r"data-stripe-express-fallback data-stripe-express-wait>", html)
    (style,) = re.findall(r"<style>(.*?)</style>", html, re.S)
    assert "[data-stripe-express-fallback][data-stripe-express-wait]" in style
    assert "0s 8s both" in style
    digest = base64.b64encode(hashlib.sha256(style.encode()).digest()).decode()
    assert f"'sha256-{digest}'" in (ROOT / "docs" / "embedded.md").read_text()
    assert 'method="post" action="/stripe/dashboard/"' in html
    # No inline script: only the JSON block (data) and a static file.
    scripts = re.findall(r"<script([^>]*)>(.*?)</script>", html, re.S)
    assert all('type="application/json"' in attrs or not body for attrs, body in scripts)


def test_the_loader_goes_out_once_per_page(embedded_settings, django_assert_num_queries):
    account = ExpressAccountFactory()
    source = (
        '{% stripe_express_component "notification_banner" %}'
        '{% stripe_express_component "payouts" %}{% stripe_express_button %}'
        '{% stripe_express_component "account_management" %}'
        '{% stripe_express_component "documents" %}'
    )
    with django_assert_num_queries(1):  # one account read for every tag
        html = render(source, account.user)

    assert placeholders(html) == [
        "notification_banner", "payouts", "account_management", "documents",
    ]
    assert html.count(LOADER) == 1
    assert html.count("stripe-express-embedded-config") == 1
    assert html.count("embedded.css") == 1


@pytest.mark.parametrize("user_kind", ["anonymous", "no account", "disconnected"])
def test_nothing_without_a_connected_account(embedded_settings, user_kind):
    user = None
    if user_kind != "anonymous":
        user = UserFactory()
    if user_kind == "disconnected":
        ExpressAccountFactory(user=user, disconnected=True)

    html = render('{% stripe_express_component "payouts" %}', user)

    assert html == ""


def test_or_the_connect_button_when_asked(embedded_settings):
    user = UserFactory()

    html = render('{% stripe_express_component "payouts" connect_button=True %}', user)

    assert 'data-stripe-express-status="not_connected"' in html
    assert "Connect with Stripe" in html
    assert placeholders(html) == []
    assert LOADER not in html
    disconnected = ExpressAccountFactory(disconnected=True)
    html = render('{% stripe_express_component "payouts" connect_button=True %}',
                  disconnected.user)
    assert "Reconnect" in html


def test_a_component_that_is_not_enabled_is_an_error_while_developing(
    embedded_settings, settings
):
    settings.DEBUG = True
    settings.STRIPE_EXPRESS = {**settings.STRIPE_EXPRESS, "EMBEDDED_COMPONENTS": ["payouts"]}
    account = ExpressAccountFactory()

    with pytest.raises(TemplateSyntaxError) as raised:
        render('{% stripe_express_component "balances" %}', account.user)

    message = str(raised.value)
    assert "'balances' is not enabled" in message
    assert "EMBEDDED_COMPONENTS" in message
    # A name that is no component at all is a typo, not a setting to add (that
    # would fail check E030); even for a user without an account.
    with pytest.raises(TemplateSyntaxError) as raised:
        render('{% stripe_express_component "payout" %}', UserFactory())
    message = str(raised.value)
    assert "'payout' is not a component; did you mean 'payouts'?" in message
    assert "EMBEDDED_COMPONENTS" not in message
    with pytest.raises(TemplateSyntaxError, match=r"'wallet' is not a component\. Components: "):
        render('{% stripe_express_component "wallet" %}', UserFactory())


def test_and_renders_nothing_in_production(embedded_settings, settings, caplog):
    settings.DEBUG = False
    settings.STRIPE_EXPRESS = {**settings.STRIPE_EXPRESS, "EMBEDDED_COMPONENTS": ["payouts"]}
    account = ExpressAccountFactory()

    with caplog.at_level(logging.WARNING, logger="django_stripe_express"):
        html = render(
            '<p>before</p>{% stripe_express_component "balances" %}<p>after</p>', account.user
        )

    assert html == "<p>before</p><p>after</p>"
    assert "'balances' is not enabled" in caplog.text


def test_the_onboarding_component_is_always_enabled(embedded_settings, settings):
    settings.STRIPE_EXPRESS = {**settings.STRIPE_EXPRESS, "EMBEDDED_COMPONENTS": []}
    account = ExpressAccountFactory(onboarding=True)

    html = render(
        '{% stripe_express_component "account_onboarding" on_exit="my-exit-form" %}',
        account.user,
    )

    assert placeholders(html) == ["account_onboarding"]
    assert 'data-stripe-express-exit="my-exit-form"' in html
    # The hosted form as fallback: a POST, as it makes a link at Stripe.
    assert 'method="post" action="/stripe/onboarding/refresh/"' in html


def test_a_secret_key_in_the_publishable_slot_never_reaches_the_page(settings, caplog):
    secret = "sk_test_Y2hvY29sYXRlIGNha2UgaXMgYSBsaWU"
    settings.STRIPE_EXPRESS = {**settings.STRIPE_EXPRESS, "PUBLISHABLE_KEY": secret}
    account = ExpressAccountFactory()

    with caplog.at_level(logging.WARNING, logger="django_stripe_express"):
        html = render('{% stripe_express_component "payouts" %}', account.user)

    assert secret not in html
    assert "Y2hvY29s" not in html
    assert LOADER not in html
    # Nothing can load: the fallback shows at once.
    assert re.search(r"data-stripe-express-fallback>", html)
    assert "Open your Stripe dashboard instead" in html
    assert "PUBLISHABLE_KEY" in caplog.text
    assert secret not in caplog.text


def test_a_missing_publishable_key_is_an_error_while_developing(settings):
    settings.DEBUG = True
    settings.STRIPE_EXPRESS = {**settings.STRIPE_EXPRESS, "PUBLISHABLE_KEY": ""}
    account = ExpressAccountFactory()
    with pytest.raises(TemplateSyntaxError, match="PUBLISHABLE_KEY"):
        render('{% stripe_express_component "payouts" %}', account.user)


def test_another_template_can_be_named(embedded_settings, tmp_path, settings):
    (tmp_path / "mine.html").write_text("<aside>{{ name }} via {{ element_name }}</aside>")
    settings.TEMPLATES = [
        {**settings.TEMPLATES[0], "DIRS": [str(tmp_path)]},
    ]
    account = ExpressAccountFactory()
    html = render(
        '{% stripe_express_component "payouts_list" template="mine.html" %}', account.user
    )
    assert html == "<aside>payouts_list via payouts-list</aside>"


def test_stripe_s_money_components_render_once_enabled(embedded_settings):
    from .test_components import MONEY_COMPONENTS

    account = ExpressAccountFactory()
    embedded_settings.STRIPE_EXPRESS = {**embedded_settings.STRIPE_EXPRESS,
                                        "EMBEDDED_COMPONENTS": list(MONEY_COMPONENTS)}
    for name in MONEY_COMPONENTS:
        html = render(f'{{% stripe_express_component "{name}" %}}', account.user)
        assert placeholders(html) == [name], name
