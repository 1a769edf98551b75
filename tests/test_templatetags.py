"""The template tags: what a user sees in every state, and what it costs."""

from __future__ import annotations

import datetime
from urllib.parse import parse_qs, urlsplit

import pytest
from django.template import Context, Template

from django_stripe_express.models import ExpressAccount

from .factories import ExpressAccountFactory, UserFactory
from .templatetag_support import Rendered, button, render

CONNECT = "/stripe/connect/"
DASHBOARD = "/stripe/dashboard/"
# The dashboard link carries the page it is on, for the way back if Stripe fails.
DASHBOARD_LINK = "/stripe/dashboard/?next=%2Fdashboard%2F"


def connect_target(href: str) -> tuple[str, dict[str, list[str]]]:
    parts = urlsplit(href)
    return parts.path, parse_qs(parts.query)


pytestmark = pytest.mark.django_db


def test_anonymous_user_gets_a_login_hint_and_no_query(django_assert_num_queries):
    with django_assert_num_queries(0):
        page = button()
    assert page.status == "anonymous"
    assert "Log in to receive payouts with Stripe." in page.text
    assert page.link("Log in") == "/accounts/login/?next=%2Fdashboard%2F"
    assert CONNECT not in page.html


def test_not_connected_shows_the_connect_with_stripe_button(user):
    page = button(user)
    assert page.status == "not_connected"
    assert "Get paid with Stripe" in page.text
    path, query = connect_target(page.form("Connect with Stripe"))
    assert path == CONNECT
    assert query == {"next": ["/dashboard/"]}
    # A real form that works without JavaScript, styled as Stripe's blurple button.
    assert (
        '<form class="stripe-express__form" method="post" '
        'action="/stripe/connect/?next=%2Fdashboard%2F">'
    ) in page.html
    # Once clicked it says that Stripe is being asked (button.js, a static file).
    assert (
        '<button type="submit" class="stripe-express__connect" '
        'data-stripe-express-busy="Contacting Stripe…">'
    ) in page.html
    assert "#635bff" in page.html.lower()
    # No inline script: only the static file, once per page.
    assert page.html.count("<script") == 1
    assert (
        '<script src="/static/django_stripe_express/button.js" defer></script>'
    ) in page.html
    assert "<img" not in page.html


def test_onboarding_says_how_many_items_are_due_and_links_to_connect():
    account = ExpressAccountFactory(onboarding=True)
    page = button(account.user)
    assert account.status == ExpressAccount.Status.ONBOARDING
    assert page.status == "onboarding"
    assert "Your payouts are almost set up" in page.text
    # external_account and tos_acceptance.date, in plain words.
    assert "Stripe still needs 2 items from you: Bank account Terms of service acceptance" in (
        page.text
    )
    path, _ = connect_target(page.form("Finish setting up payouts"))
    assert path == CONNECT
    assert DASHBOARD not in page.html


def test_onboarding_with_one_item_uses_the_singular():
    account = ExpressAccountFactory(
        onboarding=True,
        requirements={"currently_due": ["tos_acceptance.date", "tos_acceptance.ip"]},
    )
    page = button(account.user)
    assert "Stripe still needs 1 item from you: Terms of service acceptance" in page.text


def test_restricted_says_what_is_wrong_in_plain_words_and_links_to_fix_it():
    account = ExpressAccountFactory(restricted=True)
    page = button(account.user)
    assert account.status == ExpressAccount.Status.RESTRICTED
    assert page.status == "restricted"
    assert "Your payouts are paused" in page.text
    assert "Stripe needs this from you before it can send payouts again: Identity document" in (
        page.text
    )
    assert "individual.verification.document" not in page.html
    path, _ = connect_target(page.form("Update your details"))
    assert path == CONNECT


def test_restricted_shows_the_deadline_and_humanises_unknown_requirements():
    deadline = datetime.datetime(2030, 3, 14, 12, tzinfo=datetime.timezone.utc)
    account = ExpressAccountFactory(
        restricted=True,
        requirements={
            "past_due": ["external_account", "individual.political_exposure"],
            "currently_due": ["external_account", "business_profile.url"],
            "current_deadline": int(deadline.timestamp()),
        },
    )
    page = button(account.user)
    assert (
        "Stripe needs these from you before it can send payouts again: "
        "Bank account Political exposure declaration Business website"
    ) in page.text
    assert "Please update your details by March 14, 2030." in page.text


def test_restricted_without_listed_requirements_points_at_the_stripe_dashboard():
    account = ExpressAccountFactory(payouts_enabled=False)
    page = button(account.user)
    assert page.status == "restricted"
    assert "Stripe has limited this account." in page.text
    assert page.form("Open Stripe dashboard") == DASHBOARD_LINK


def test_pending_verification_says_stripe_is_checking():
    account = ExpressAccountFactory(pending=True)
    page = button(account.user)
    assert account.status == ExpressAccount.Status.PENDING_VERIFICATION
    assert page.status == "pending_verification"
    assert "Stripe is checking your details" in page.text
    assert "There is nothing for you to do now" in page.text
    assert "ID number" in page.text
    assert page.form("Open Stripe dashboard") == DASHBOARD_LINK
    assert CONNECT not in page.html


def test_enabled_says_payouts_are_on_and_opens_the_stripe_dashboard():
    account = ExpressAccountFactory()
    page = button(account.user)
    assert account.status == ExpressAccount.Status.ENABLED
    assert page.status == "enabled"
    assert "Payouts are on" in page.text
    assert page.form("Open Stripe dashboard") == DASHBOARD_LINK
    assert CONNECT not in page.html


def test_disabled_explains_and_sends_the_user_to_support(settings):
    account = ExpressAccountFactory(rejected=True)
    page = button(account.user)
    assert account.status == ExpressAccount.Status.DISABLED
    assert page.status == "disabled"
    assert "Payouts are disabled" in page.text
    assert "Stripe closed this account because of suspected fraud." in page.text
    assert "Please contact our support team." in page.text
    assert page.links == []

    settings.STRIPE_EXPRESS = {**settings.STRIPE_EXPRESS, "SUPPORT_URL": "/help/"}
    page = button(account.user)
    assert page.link("contact our support team") == "/help/"


def test_disconnected_offers_to_reconnect():
    account = ExpressAccountFactory(disconnected=True)
    page = button(account.user)
    assert account.status == ExpressAccount.Status.DISCONNECTED
    assert page.status == "disconnected"
    assert "Your Stripe account is disconnected" in page.text
    path, _ = connect_target(page.form("Reconnect"))
    assert path == CONNECT
    assert DASHBOARD not in page.html


def test_only_the_configured_mode_counts(settings):
    live = ExpressAccountFactory(livemode=True)
    assert button(live.user).status == "not_connected"

    settings.STRIPE_EXPRESS = {**settings.STRIPE_EXPRESS, "SECRET_KEY": "sk_live_unused"}
    assert button(live.user).status == "enabled"


def test_another_users_account_is_never_shown(user):
    ExpressAccountFactory()
    assert button(user).status == "not_connected"


def test_one_query_per_page_however_many_tags(django_assert_num_queries):
    account = ExpressAccountFactory(onboarding=True)
    source = (
        "{% stripe_express_button %}{% stripe_express_button %}"
        "{% stripe_express_account as acct %}{{ acct.stripe_id }}"
        "{% stripe_express_button next='/elsewhere/' %}"
    )
    with django_assert_num_queries(1):
        page = render(source, account.user)
    assert page.html.count('data-stripe-express-status="onboarding"') == 3
    assert account.stripe_id in page.text
    # The <style> goes out once per page.
    assert page.html.count("<style>") == 1
    assert "next=%2Felsewhere%2F" in page.html


def test_one_query_also_when_the_user_has_no_account(user, django_assert_num_queries):
    with django_assert_num_queries(1):
        page = render(
            "{% stripe_express_account as acct %}{% if not acct %}none{% endif %}"
            "{% stripe_express_button %}{% stripe_express_button %}",
            user,
        )
    assert page.text.startswith("none")
    assert page.html.count('data-stripe-express-status="not_connected"') == 2


def test_account_tag_gives_the_account_or_none(user):
    page = render("{% stripe_express_account as acct %}[{{ acct.stripe_id|default:'none' }}]")
    assert "[none]" in page.text
    account = ExpressAccountFactory(user=user)
    page = render(
        "{% stripe_express_account as acct %}[{{ acct.stripe_id }} {{ acct.status }}]", user
    )
    assert f"[{account.stripe_id} enabled]" in page.text


def test_an_explicit_account_renders_without_a_query(django_assert_num_queries):
    account = ExpressAccountFactory.build(user=UserFactory.build(), pending=True)
    account.status = account.derive_status()
    with django_assert_num_queries(0):
        page = render("{% stripe_express_button account=acct %}", acct=account)
    assert page.status == "pending_verification"


def test_the_templates_can_be_overridden(tmp_path, settings, user):
    override = tmp_path / "django_stripe_express" / "states"
    override.mkdir(parents=True)
    (override / "not_connected.html").write_text(
        '<a href="{{ connect_url }}">Get paid now</a>'
    )
    (tmp_path / "django_stripe_express" / "styles.html").write_text("")
    (tmp_path / "mine.html").write_text("mine:{{ status }}")
    settings.TEMPLATES = [{**settings.TEMPLATES[0], "DIRS": [str(tmp_path)]}]

    page = button(user)
    assert page.links == [("Get paid now", "/stripe/connect/?next=%2Fdashboard%2F")]
    assert "<style>" not in page.html
    assert render("{% stripe_express_button template='mine.html' %}", user).html.endswith(
        "mine:not_connected"
    )


def test_rendered_values_are_escaped(user):
    page = render("{% stripe_express_button next=n %}", user, n='/x/?a="><script>')
    assert "<script>" not in page.html


def test_without_the_request_context_processor_the_user_variable_is_used(user):
    # No `request` in the context: the tag still renders for `user`, just
    # without the per-request memo and without a `next`.
    account = ExpressAccountFactory(user=user, restricted=True)
    html = Template("{% load stripe_express %}{% stripe_express_button %}").render(
        Context({"user": user})
    )
    page = Rendered(html)
    assert page.status == "restricted"
    # No request, so no CSRF token: the form is there, and posting it would be
    # refused; the tag's docs say the `request` context processor must be on.
    assert [(t, m, a) for t, m, a, _f in page.buttons] == [
        ("Update your details →", "post", CONNECT)
    ]
    assert account.stripe_id not in html


def test_enabled_with_a_deadline_says_what_and_by_when():
    deadline = datetime.datetime(2031, 5, 2, 12, tzinfo=datetime.timezone.utc)
    account = ExpressAccountFactory(
        requirements={
            "currently_due": ["individual.verification.document", "external_account"],
            "eventually_due": ["individual.verification.document", "external_account"],
            "past_due": [],
            "pending_verification": [],
            "errors": [],
            "disabled_reason": None,
            "current_deadline": int(deadline.timestamp()),
        }
    )
    page = button(account.user)
    assert account.status == ExpressAccount.Status.ENABLED
    assert page.status == "enabled"
    assert "Payouts are on" in page.text
    assert (
        "To keep your payouts on, Stripe needs these from you by May 2, 2031: "
        "Identity document Bank account"
    ) in page.text
    path, _ = connect_target(page.form("Update your details"))
    assert path == CONNECT


def test_enabled_shows_future_requirements_once_they_have_a_deadline():
    deadline = datetime.datetime(2031, 9, 30, tzinfo=datetime.timezone.utc)
    future = {
        "currently_due": [],
        "eventually_due": ["company.tax_id"],
        "past_due": [],
        "pending_verification": [],
        "errors": [],
        "disabled_reason": None,
        "current_deadline": None,
    }
    account = ExpressAccountFactory(future_requirements=future)
    assert "Stripe needs" not in button(account.user).text  # not due yet

    account.future_requirements = {
        **future,
        "currently_due": ["company.tax_id"],
        "current_deadline": int(deadline.timestamp()),
    }
    account.save()
    page = button(account.user)
    assert page.status == "enabled"
    assert (
        "To keep your payouts on, Stripe needs this from you by Sept. 30, 2031: Company tax ID"
    ) in page.text
