"""The account's admin page shows its Stripe balance and latest payouts: what support
staff read for "when do I get paid?" and "why didn't I?"."""

from __future__ import annotations

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone, translation

from django_stripe_express.models import ExpressAccount

from .admin_support import staff_client
from .factories import ExpressAccountFactory, PayoutFactory
from .payments_support import payable_account

pytestmark = pytest.mark.django_db


def change_url(account: ExpressAccount) -> str:
    return reverse("admin:django_stripe_express_expressaccount_change", args=[account.pk])


def balance_calls(fake) -> list:
    return fake.requests_to("/v1/balance", "GET")


def field(html: str, name: str) -> str:
    """The readonly field's block on the change page."""
    return html.split(f"field-{name}")[1].split('<div class="form-row')[0].split("</fieldset>")[0]


def test_the_balance_is_shown_formatted_and_read_once_per_cache_period(fake_stripe):
    account = payable_account(fake_stripe)
    fake_stripe.set_balance(account.stripe_id, available=123456, pending=-2500,
                            instant_available=1000)
    client = staff_client("view_expressaccount")

    for _visit in range(2):
        page = client.get(change_url(account)).content.decode()
        block = field(page, "balance_display")
        assert 'data-balance="available">$1,234.56<' in block
        assert 'data-balance="pending">-$25.00<' in block
        assert "$10.00" in block
        assert "USD" in block

    assert len(balance_calls(fake_stripe)) == 1  # cached: one call for both pages
    assert balance_calls(fake_stripe)[0].header("Stripe-Account") == account.stripe_id


def test_a_negative_balance_is_shown_negative_in_french(fake_stripe):
    account = payable_account(fake_stripe)
    fake_stripe.set_balance(account.stripe_id, available=-1050, currency="eur")
    client = staff_client("view_expressaccount")
    with translation.override("fr"):
        block = field(client.get(change_url(account), HTTP_ACCEPT_LANGUAGE="fr")
                      .content.decode(), "balance_display")
    assert "stripe-express-negative" in block
    assert "-10,50\xa0€" in block or "-10,50\u202f€" in block, block


def test_stripe_failing_is_a_plain_message_never_a_500_nor_a_secret(fake_stripe):
    account = payable_account(fake_stripe)
    client = staff_client("view_expressaccount")
    with fake_stripe.refuse_connections():
        response = client.get(change_url(account))
    assert response.status_code == 200
    block = field(response.content.decode(), "balance_display")
    assert "The balance could not be read from Stripe" in block
    assert fake_stripe.settings()["SECRET_KEY"] not in response.content.decode()

    fake_stripe.fail_next("GET /v1/balance", status=401)
    response = client.get(change_url(account))
    assert response.status_code == 200
    assert "The balance could not be read from Stripe" in field(
        response.content.decode(), "balance_display")
    assert fake_stripe.settings()["SECRET_KEY"] not in response.content.decode()


def test_a_disconnected_account_costs_no_stripe_call(fake_stripe):
    account = ExpressAccountFactory(disconnected=True)
    page = staff_client("view_expressaccount").get(change_url(account)).content.decode()
    assert "No balance: the account is not connected" in field(page, "balance_display")
    assert not balance_calls(fake_stripe)


def test_the_latest_payouts_with_status_amount_arrival_and_failure_code(fake_stripe):
    account = payable_account(fake_stripe)
    now = timezone.now()
    for days in range(7, 0, -1):  # seven paid payouts, the oldest first
        PayoutFactory(account=account, amount=days * 100,
                      created=now - datetime.timedelta(days=days + 10))
    PayoutFactory(account=account, amount=4200, status="in_transit", created=now,
                  arrival_date=datetime.datetime(2031, 3, 14, tzinfo=datetime.timezone.utc))
    PayoutFactory(account=account, failed=True, amount=990, failure_code="no_account",
                  created=now - datetime.timedelta(days=1))
    PayoutFactory(amount=777)  # another account's
    fake_stripe.set_balance(account.stripe_id, available=0)

    page = staff_client("view_expressaccount", "view_payout").get(
        change_url(account)).content.decode()
    block = field(page, "latest_payouts_display")
    rows = block.split("<tr data-payout-status=")[1:]
    assert [r.split(">", 1)[0] for r in rows] == [
        '"in_transit"', '"failed"', '"paid"', '"paid"', '"paid"']
    assert "$42.00" in rows[0]
    assert "In transit" in rows[0]
    assert "March 14, 2031" in rows[0]
    assert "<code>no_account</code>" in rows[1]
    assert "$9.90" in rows[1]
    assert "probably incorrect" in rows[1]  # the staff words for the code
    assert [r.split("<td>")[2].split("<")[0] for r in rows[2:]] == ["$1.00", "$2.00", "$3.00"]
    assert "$7.77" not in page


def test_the_payouts_need_the_view_payout_permission(fake_stripe):
    account = payable_account(fake_stripe)
    PayoutFactory(account=account, amount=4321)
    page = staff_client("view_expressaccount").get(change_url(account)).content.decode()
    assert "field-latest_payouts_display" not in page
    assert "$43.21" not in page
    assert "field-balance_display" in page


def test_the_failed_payout_stands_with_its_code(fake_stripe):
    account = payable_account(fake_stripe, payout_failure_code="debit_not_authorized",
                              payout_failed_at=timezone.now())
    page = staff_client("view_expressaccount").get(change_url(account)).content.decode()
    block = field(page, "payout_failure_display")
    assert "Payout failed" in block
    assert "<code>debit_not_authorized</code>" in block


def data_queries(client, url: str) -> tuple[int, str]:
    """The page's data queries (Django 4.2's admin also wraps a GET in a
    savepoint, which is no data), and the page."""
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    data = [q for q in queries.captured_queries
            if q["sql"].lstrip().split(" ", 1)[0].upper() in ("SELECT", "INSERT", "UPDATE",
                                                              "DELETE")]
    return len(data), response.content.decode()


def test_queries_do_not_grow_with_payouts_and_stripe_is_called_once(fake_stripe):
    account = payable_account(fake_stripe)
    fake_stripe.set_balance(account.stripe_id, available=500)
    client = staff_client("view_expressaccount", "view_payout")
    PayoutFactory(account=account)
    client.get(change_url(account))  # the session, permissions and balance warmed up
    assert data_queries(client, change_url(account))[0] == QUERIES

    PayoutFactory.create_batch(40, account=account)
    count, page = data_queries(client, change_url(account))
    assert count == QUERIES
    assert page.count("<tr data-payout-status=") == 5
    assert len(balance_calls(fake_stripe)) == 1


#: The account's change page for staff who may view accounts (not transfers):
#: the session, the staff user, their permissions (user's and groups'), the
#: account, its user, its latest payouts (one query, five rows), its reassignments.
QUERIES = 8
