"""Balances: payments.balance(user) from /v1/balance for the user's account,
cached; {% stripe_express_balance %} formatted by Stripe's currency rules and
the page's language, one Stripe call per cache period and no query of its own."""

from __future__ import annotations

import pytest
from django.utils import translation

from django_stripe_express import payments
from django_stripe_express.payments.payouts import NoPayoutAccount, decimals, to_units

from .factories import ExpressAccountFactory, UserFactory
from .payments_support import payable_account
from .templatetag_support import render

pytestmark = pytest.mark.django_db


def balance_calls(fake_stripe) -> list:
    return fake_stripe.requests_to("/v1/balance", "GET")


def test_balance_reads_the_user_s_account_once_per_cache_period(fake_stripe, settings):
    payee = payable_account(fake_stripe)
    fake_stripe.set_balance(payee.stripe_id, available=1200, pending=-50, instant_available=300,
                            currency="eur")

    first = payments.balance(payee.user)
    again = payments.balance(payee.user)

    expected = {"eur": {"available": 1200, "pending": -50, "instant_available": 300}}
    assert first == again == expected
    (call,) = balance_calls(fake_stripe)
    assert call.header("Stripe-Account") == payee.stripe_id

    settings.STRIPE_EXPRESS = {**settings.STRIPE_EXPRESS, "BALANCE_CACHE_SECONDS": 0}
    payments.balance(payee.user)
    payments.balance(payee.user)
    assert len(balance_calls(fake_stripe)) == 3


def test_balance_needs_a_connected_account(fake_stripe):
    with pytest.raises(NoPayoutAccount):
        payments.balance(UserFactory())
    assert not fake_stripe.requests


@pytest.mark.parametrize(("currency", "amount", "language", "shown"), [
    ("usd", 123456, "en-us", "$1,234.56"),
    ("usd", 123456, "fr", "1\u202f234,56\xa0$US"),
    ("jpy", 1234, "en-us", "¥1,234"),  # zero-decimal: 1234 is ¥1,234
    ("kwd", 1234, "en-us", "KWD1.234"),  # three-decimal: 1234 is 1.234 KWD
    ("usd", -505, "en-us", "-$5.05"),  # a negative balance stays negative
])
def test_the_tag_formats_by_stripe_s_currency_rules_and_the_language(
    fake_stripe, currency, amount, language, shown
):
    payee = payable_account(fake_stripe)
    fake_stripe.set_balance(payee.stripe_id, available=amount, currency=currency)
    with translation.override(language):
        page = render("{% stripe_express_balance %}", payee.user)
    available = page.html.split('data-stripe-express-balance="available"')[1]
    assert f">{shown}</dd>" in available
    assert ("stripe-express-balance--negative" in page.html) is (amount < 0)


def test_currency_decimals_follow_stripe_not_iso():
    assert (decimals("jpy"), decimals("KWD"), decimals("usd"), decimals("isk")) == (0, 3, 2, 2)
    assert str(to_units(1234, "kwd")) == "1.234"
    assert str(to_units(-1234, "jpy")) == "-1234"


def test_the_tag_costs_one_stripe_call_per_cache_period_and_no_query_of_its_own(
    fake_stripe, django_assert_num_queries
):
    payee = payable_account(fake_stripe)
    user = payee.user
    fake_stripe.set_balance(payee.stripe_id, available=100, instant_available=40)
    source = "{% stripe_express_button %}{% stripe_express_balance %}{% stripe_express_balance %}"
    for _page in range(3):
        with django_assert_num_queries(1):  # the account, shared with the button
            page = render(source, user)
        assert page.html.count('data-stripe-express-balance="available"') == 2
    assert len(balance_calls(fake_stripe)) == 1
    assert "Available for an instant payout" in page.text


def test_when_stripe_cannot_answer_the_tag_says_so_and_the_page_renders(fake_stripe):
    payee = payable_account(fake_stripe)
    with fake_stripe.refuse_connections():
        page = render("{% stripe_express_balance %}", payee.user)
    assert "Your balance cannot be shown right now" in page.text


def test_no_connected_account_renders_nothing(fake_stripe):
    assert render("{% stripe_express_balance %}", UserFactory()).html == ""
    gone = ExpressAccountFactory(disconnected=True)
    assert render("{% stripe_express_balance %}", gone.user).html == ""
    assert not fake_stripe.requests
