"""Payout rows from Stripe's ``payout.*`` Connect events: one row per payout,
redelivery and disorder safe, failures kept and shown until the bank works."""

from __future__ import annotations

import copy

import pytest

from django_stripe_express import signals
from django_stripe_express.models import ExpressAccount, Payout, WebhookEvent
from django_stripe_express.testing.objects import build_event

from .payments_support import payable_account
from .templatetag_support import button

pytestmark = pytest.mark.django_db


def later(event: dict, seconds: int) -> dict:
    """``event`` as if Stripe had created it ``seconds`` later (its payout too)."""
    event = copy.deepcopy(event)
    event["created"] += seconds
    return event


def refreshed(account: ExpressAccount) -> ExpressAccount:
    return ExpressAccount.objects.get(pk=account.pk)


def test_a_payout_s_events_keep_one_row_and_say_paid_once(fake_stripe, client, capture_signal):
    paid = capture_signal(signals.payout_paid)
    payee = payable_account(fake_stripe)
    created = fake_stripe.create_payout(payee.stripe_id, 1250, "eur")
    payout_id = created["data"]["object"]["id"]
    settled = later(fake_stripe.settle_payout(payout_id), 5)

    for event in (created, settled, settled, created):  # one redelivered, one late
        assert fake_stripe.deliver(client, event).status_code == 200

    payout = Payout.objects.get()
    assert (payout.stripe_id, payout.account_id, payout.status) == (payout_id, payee.pk, "paid")
    assert (payout.amount, payout.currency, payout.method, payout.automatic) == (
        1250, "eur", "standard", True)
    assert payout.arrival_date is not None
    assert payout.created is not None
    assert [s["payout"].stripe_id for s in paid] == [payout_id]
    assert paid[0]["account"].pk == payee.pk
    statuses = dict(WebhookEvent.objects.values_list("stripe_id", "status"))
    assert statuses == {created["id"]: "processed", settled["id"]: "processed"}


def test_a_late_created_never_turns_paid_back(fake_stripe, client):
    payee = payable_account(fake_stripe)
    created = fake_stripe.create_payout(payee.stripe_id, 500)
    settled = later(fake_stripe.settle_payout(created["data"]["object"]["id"]), 5)

    fake_stripe.deliver(client, settled)
    response = fake_stripe.deliver(client, created)

    assert response.status_code == 200
    assert Payout.objects.get().status == "paid"
    stale = WebhookEvent.objects.get(stripe_id=created["id"])
    assert (stale.status, stale.detail) == (
        "ignored", "stale: the payout's row already has newer news")


def test_a_failed_payout_keeps_stripe_s_code_and_message_and_marks_the_account(
    fake_stripe, client, capture_signal
):
    failed = capture_signal(signals.payout_failed)
    payee = payable_account(fake_stripe)
    created = fake_stripe.create_payout(payee.stripe_id, 900)
    payout_id = created["data"]["object"]["id"]
    fake_stripe.deliver(client, created)
    event = later(fake_stripe.settle_payout(payout_id, "account_closed"), 5)
    fake_stripe.deliver(client, event)
    fake_stripe.deliver(client, event)

    payout = Payout.objects.get()
    assert (payout.status, payout.failure_code) == ("failed", "account_closed")
    assert payout.failure_message == "The bank account has been closed."
    assert [s["payout"].pk for s in failed] == [payout.pk]
    account = refreshed(payee)
    assert account.payout_failure_code == "account_closed"
    assert account.payout_failed_at is not None


def test_a_paid_payout_the_bank_returns_later_is_failed(fake_stripe, client, capture_signal):
    paid, failed = capture_signal(signals.payout_paid), capture_signal(signals.payout_failed)
    payee = payable_account(fake_stripe)
    payout_id = fake_stripe.create_payout(payee.stripe_id, 700)["data"]["object"]["id"]
    fake_stripe.deliver(client, fake_stripe.settle_payout(payout_id))
    returned = copy.deepcopy(fake_stripe.settle_payout(payout_id, "no_account"))
    returned["created"] += 3
    fake_stripe.deliver(client, returned)

    assert Payout.objects.get().status == "failed"
    assert (len(paid), len(failed)) == (1, 1)


def test_a_later_paid_payout_clears_the_failure_and_an_older_one_does_not(fake_stripe, client):
    payee = payable_account(fake_stripe)
    older = fake_stripe.create_payout(payee.stripe_id, 100)["data"]["object"]
    failing = fake_stripe.create_payout(payee.stripe_id, 200)["data"]["object"]
    failure = later(fake_stripe.settle_payout(failing["id"], "invalid_account_number"), 10)
    fake_stripe.deliver(client, failure)

    # The older payout's paid event arrives late: the bank is not shown as fixed.
    older_paid = build_event("payout.paid", {**older, "status": "paid"},
                             account=payee.stripe_id, created=failure["created"] + 1)
    older_paid["data"]["object"]["created"] = failure["created"] - 100
    fake_stripe.deliver(client, older_paid)
    assert refreshed(payee).payout_failure_code == "invalid_account_number"

    newer = fake_stripe.create_payout(payee.stripe_id, 300)["data"]["object"]
    newer_paid = build_event("payout.paid", {**newer, "status": "paid",
                                             "created": failure["created"] + 60},
                             account=payee.stripe_id, created=failure["created"] + 120)
    fake_stripe.deliver(client, newer_paid)
    account = refreshed(payee)
    assert (account.payout_failure_code, account.payout_failed_at) == ("", None)


def test_a_failure_delivered_after_a_later_payout_was_paid_is_not_shown(fake_stripe, client):
    payee = payable_account(fake_stripe)
    failing = fake_stripe.create_payout(payee.stripe_id, 200)["data"]["object"]
    failure = fake_stripe.settle_payout(failing["id"], "account_frozen")
    newer = fake_stripe.create_payout(payee.stripe_id, 300)["data"]["object"]
    newer_paid = build_event("payout.paid", {**newer, "status": "paid",
                                             "created": failure["created"] + 60},
                             account=payee.stripe_id, created=failure["created"] + 120)

    fake_stripe.deliver(client, newer_paid)
    fake_stripe.deliver(client, failure)

    assert refreshed(payee).payout_failed_at is None
    assert Payout.objects.get(stripe_id=failing["id"]).status == "failed"


def test_a_new_bank_account_clears_the_failure_unless_older(fake_stripe, client):
    payee = payable_account(fake_stripe)
    payout_id = fake_stripe.create_payout(payee.stripe_id, 100)["data"]["object"]["id"]
    failure = fake_stripe.settle_payout(payout_id, "debit_not_authorized")
    bank = fake_stripe.update_external_account(payee.stripe_id)

    fake_stripe.deliver(client, later(failure, 10))
    fake_stripe.deliver(client, bank)  # made before the failure: old news
    assert refreshed(payee).payout_failure_code == "debit_not_authorized"
    assert WebhookEvent.objects.get(stripe_id=bank["id"]).detail == "stale"

    changed = later(fake_stripe.update_external_account(payee.stripe_id), 20)
    fake_stripe.deliver(client, changed)
    assert refreshed(payee).payout_failed_at is None
    assert WebhookEvent.objects.get(stripe_id=changed["id"]).status == "processed"


def test_a_partial_payout_is_recorded_with_a_note_and_a_malformed_one_never_500s(
    fake_stripe, client
):
    payee = payable_account(fake_stripe)
    partial = build_event("payout.failed", {"id": "po_partial1", "object": "payout",
                                            "amount": "lots", "failure_code": 7},
                          account=payee.stripe_id)
    assert fake_stripe.deliver(client, partial).status_code == 200
    payout = Payout.objects.get()
    assert (payout.stripe_id, payout.status, payout.amount, payout.failure_code) == (
        "po_partial1", "failed", 0, "")
    detail = WebhookEvent.objects.get(stripe_id=partial["id"]).detail
    assert detail.startswith("payout object partial, not read: status, amount, currency")

    for obj in ({"object": "payout"}, {"id": "po_../../x", "status": "paid"}, {"id": 5}):
        event = build_event("payout.paid", obj, account=payee.stripe_id)
        response = fake_stripe.deliver(client, event)
        assert response.status_code == 200, obj
        row = WebhookEvent.objects.get(stripe_id=event["id"])
        assert (row.status, row.detail) == ("ignored", "payout object without a payout id (po_...)")
    assert Payout.objects.count() == 1


def test_payout_events_of_unknown_accounts_and_of_the_platform_are_recorded_only(
    fake_stripe, client
):
    payee = payable_account(fake_stripe)
    payout = fake_stripe.create_payout(payee.stripe_id, 100)["data"]["object"]
    for account in ("acct_unknown123", None):
        event = build_event("payout.created", payout, account=account)
        assert fake_stripe.deliver(client, event).status_code == 200
        assert WebhookEvent.objects.get(stripe_id=event["id"]).status == "ignored"
    assert not Payout.objects.exists()


# -- what the user sees ------------------------------------------------------------
def failed_payout(fake_stripe, client, code: str) -> ExpressAccount:
    payee = payable_account(fake_stripe)
    payout_id = fake_stripe.create_payout(payee.stripe_id, 100)["data"]["object"]["id"]
    fake_stripe.deliver(client, fake_stripe.settle_payout(payout_id, code))
    return refreshed(payee)


@pytest.mark.parametrize("embedded", [
    {"EMBEDDED_COMPONENTS": []},
    # The default components, but no publishable key: the component could never
    # load (and would be an error page with DEBUG on).
    {"PUBLISHABLE_KEY": ""},
])
def test_the_button_says_the_payout_failed_why_and_opens_the_dashboard_to_fix_it(
    fake_stripe, client, django_assert_num_queries, settings, embedded
):
    settings.DEBUG = True
    settings.STRIPE_EXPRESS = {**settings.STRIPE_EXPRESS, **embedded}
    user = failed_payout(fake_stripe, client, "invalid_account_number").user
    with django_assert_num_queries(1):  # the account, as without a failure
        page = button(user)
    assert "Your last payout failed" in page.text
    assert "Your bank says the account number is not valid. Please check it." in page.text
    assert page.form("Update your bank account") == "/stripe/dashboard/?next=%2Fdashboard%2F"
    assert 'data-stripe-express-payout="failed"' in page.html


def test_with_embedded_components_the_fix_is_the_account_management_component(
    fake_stripe, client, settings
):
    settings.STRIPE_EXPRESS = {
        **settings.STRIPE_EXPRESS, "PUBLISHABLE_KEY": "pk_test_platform",
        "EMBEDDED_COMPONENTS": ["account_management"],
    }
    account = failed_payout(fake_stripe, client, "account_closed")
    page = button(account.user)
    assert "Your bank says this account is closed." in page.text
    assert 'data-stripe-express-component="account_management"' in page.html
    assert "Update your bank account" not in page.text


def test_an_unknown_code_still_says_the_payout_failed_and_a_fix_clears_it(
    fake_stripe, client
):
    account = failed_payout(fake_stripe, client, "could_not_process")
    ExpressAccount.objects.filter(pk=account.pk).update(payout_failure_code="brand_new_code")
    page = button(account.user)
    assert "Your bank could not receive the payment. Please check your bank details" in page.text

    fake_stripe.deliver(client, later(fake_stripe.update_external_account(account.stripe_id), 5))
    page = button(account.user)
    assert "payout failed" not in page.text
    assert "Payouts are on" in page.text


def test_every_failure_code_has_user_and_staff_words():
    from django_stripe_express.payments import payouts
    from django_stripe_express.testing.payouts import FAILURE_MESSAGES

    assert set(payouts.FAILURES) == set(FAILURE_MESSAGES)
    for code, row in payouts.FAILURES.items():
        assert str(row.user)
        assert f"({code})" not in str(row.user)  # plain words for the user
        assert code in str(row.staff)


def test_staff_see_the_failure_with_its_code_and_the_payouts_on_the_account_page(
    fake_stripe, client
):
    from django.urls import reverse

    from .admin_support import staff_client

    account = failed_payout(fake_stripe, client, "debit_not_authorized")
    staff = staff_client("view_expressaccount", "view_payout")
    url = reverse("admin:django_stripe_express_expressaccount_change", args=[account.pk])
    html = staff.get(url).content.decode()

    assert "Payout failed" in html
    assert "<code>debit_not_authorized</code>" in html
    assert "Debit transactions are not approved on the bank account" in html
    payout = Payout.objects.get()
    assert payout.stripe_id in html  # the payouts inline
    assert "Debit transactions are not approved on the bank account." in html  # Stripe's message

    fake_stripe.deliver(client, later(fake_stripe.update_external_account(account.stripe_id), 5))
    html = staff.get(url).content.decode()
    assert "None: no failed payout waits for the user to fix it." in html


def test_a_new_account_replacing_a_disconnected_one_forgets_its_failed_payout(
    fake_stripe, client
):
    account = failed_payout(fake_stripe, client, "account_closed")
    account.forget_stripe_account()
    account.stripe_id = "acct_replacement1"
    account.save()
    account = refreshed(account)
    assert (account.payout_failure_code, account.payout_failed_at) == ("", None)
