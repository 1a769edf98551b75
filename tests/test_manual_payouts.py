"""Manual payouts: payments.payout(user, amount, currency, method=, reference=)
from the user's connected account balance, a row first and its key from the
row, once per reference; instant only from instant_available; refused clearly
for an account whose schedule is not manual."""

from __future__ import annotations

import datetime

import pytest
import stripe
from django.utils import timezone

from django_stripe_express import payments
from django_stripe_express.models import Payout, record_payout
from django_stripe_express.payments.payouts import NoPayoutAccount

from .factories import UserFactory
from .payments_support import payable_account

pytestmark = pytest.mark.django_db


def payout_posts(fake_stripe) -> list:
    return fake_stripe.requests_to("/v1/payouts", "POST")


@pytest.fixture
def manual(fake_stripe):
    """A user whose account pays out manually, 900 usd available, 400 instantly."""
    payee = payable_account(fake_stripe)
    payments.set_payout_schedule(payee.user, "manual")
    fake_stripe.set_balance(payee.stripe_id, available=900, instant_available=400,
                            currency="usd")
    return payee


def test_a_payout_is_made_once_per_reference(fake_stripe, manual):
    made = payments.payout(manual.user, 300, "usd", reference="week-1")
    again = payments.payout(manual.user, 300, "usd", reference="week-1")

    assert made.pk == again.pk
    assert made.stripe_id
    assert made.stripe_id.startswith("po_")
    row = Payout.objects.get()
    assert (row.account, row.amount, row.currency, row.method, row.automatic, row.reference,
            row.status) == (manual, 300, "usd", "standard", False, "week-1", "pending")
    (post,) = payout_posts(fake_stripe)
    assert post.header("Stripe-Account") == manual.stripe_id
    assert post.header("Idempotency-Key") == row.idempotency_key
    assert post.form["metadata"]["django_stripe_express_reference"] == "week-1"
    assert fake_stripe.balances[manual.stripe_id]["available"] == 600


def test_no_amount_pays_out_the_whole_available_balance(fake_stripe, manual):
    row = payments.payout(manual.user, reference="all")

    assert (row.amount, row.currency) == (900, "usd")
    assert fake_stripe.balances[manual.stripe_id]["available"] == 0


def test_an_instant_payout_only_from_instant_available(fake_stripe, manual):
    with pytest.raises(payments.NoInstantFunds, match="available instantly: 400 usd"):
        payments.payout(manual.user, 500, "usd", method="instant", reference="fast")
    assert not payout_posts(fake_stripe)
    assert not Payout.objects.exists()

    row = payments.payout(manual.user, method="instant", reference="fast")
    assert (row.amount, row.method) == (400, "instant")
    assert fake_stripe.balances[manual.stripe_id]["instant_available"] == 0


def test_a_payout_on_an_automatic_schedule_is_explained(fake_stripe):
    payee = payable_account(fake_stripe)
    fake_stripe.set_balance(payee.stripe_id, available=900)

    with pytest.raises(payments.PayoutsNotManual, match="payout schedule is manual"):
        payments.payout(payee.user, 100, "usd", reference="r")
    # Stripe did nothing: the reference is free for a retry once the schedule is manual.
    assert not Payout.objects.exists()
    payments.set_payout_schedule(payee.user, "manual")
    assert payments.payout(payee.user, 100, "usd", reference="r").stripe_id


def test_more_than_the_balance_is_refused_by_stripe(fake_stripe, manual):
    with pytest.raises(payments.PayoutRefused) as refused:
        payments.payout(manual.user, 10_000, "usd", reference="big")
    assert refused.value.code == "balance_insufficient"
    assert not Payout.objects.exists()


def test_a_lost_answer_is_retried_with_the_same_key(fake_stripe, manual):
    fake_stripe.drop_after_commit("POST /v1/payouts")
    with pytest.raises(stripe.APIConnectionError):
        payments.payout(manual.user, 300, "usd", reference="lost")
    row = Payout.objects.get()
    assert row.stripe_id is None
    assert row.tries == 1

    again = payments.payout(manual.user, 300, "usd", reference="lost")

    first, second = payout_posts(fake_stripe)
    assert first.header("Idempotency-Key") == second.header("Idempotency-Key")
    assert again.pk == row.pk
    assert again.stripe_id
    assert fake_stripe.balances[manual.stripe_id]["available"] == 600  # paid out once
    assert len(fake_stripe.payouts[manual.stripe_id]) == 1


def test_past_the_key_window_stripe_is_asked_first(fake_stripe, manual):
    fake_stripe.drop_after_commit("POST /v1/payouts")
    with pytest.raises(stripe.APIConnectionError):
        payments.payout(manual.user, 300, "usd", reference="old")
    Payout.objects.update(key_used_at=timezone.now() - datetime.timedelta(days=2))
    fake_stripe.forget_idempotency_keys()

    row = payments.payout(manual.user, 300, "usd", reference="old")

    assert row.stripe_id == fake_stripe.payouts[manual.stripe_id][0]["id"]
    assert len(payout_posts(fake_stripe)) == 1
    (asked,) = fake_stripe.requests_to("/v1/payouts", "GET")
    assert asked.header("Stripe-Account") == manual.stripe_id
    assert "gte" in asked.query.get("created", {})
    assert fake_stripe.balances[manual.stripe_id]["available"] == 600


def test_a_reference_names_one_payout(fake_stripe, manual):
    payments.payout(manual.user, 300, "usd", reference="x")
    with pytest.raises(payments.PayoutConflict) as conflict:
        payments.payout(manual.user, 200, "usd", reference="x")
    assert conflict.value.payout.amount == 300
    assert len(payout_posts(fake_stripe)) == 1


def test_an_event_recorded_before_stripe_s_answer_merges_into_the_row(fake_stripe, manual):
    # The answer is lost; the payout's events arrive first and make their own row.
    fake_stripe.drop_after_commit("POST /v1/payouts")
    with pytest.raises(stripe.APIConnectionError):
        payments.payout(manual.user, 300, "usd", reference="race")
    (made,) = fake_stripe.payouts[manual.stripe_id]
    event = fake_stripe.settle_payout(made["id"])
    record_payout(manual, {"stripe_id": made["id"], "status": "paid", "amount": 300,
                           "currency": "usd"},
                  datetime.datetime.fromtimestamp(event["created"], tz=datetime.timezone.utc))
    assert Payout.objects.count() == 2

    row = payments.payout(manual.user, 300, "usd", reference="race")

    assert Payout.objects.get() == row
    assert (row.stripe_id, row.status, row.reference) == (made["id"], "paid", "race")


@pytest.mark.parametrize(("kwargs", "words"), [
    ({"amount": 0}, "positive integer"),
    ({"amount": "100"}, "positive integer"),
    ({"currency": "dollars"}, "three-letter"),
    ({"method": "fast"}, "standard, instant"),
    ({"reference": ""}, "non-empty"),
])
def test_bad_input_gets_a_clear_answer_before_stripe(fake_stripe, manual, kwargs, words):
    given = {"reference": "r", **kwargs}
    with pytest.raises(payments.InvalidPayout, match=words):
        payments.payout(manual.user, **given)
    assert not payout_posts(fake_stripe)


def test_nothing_to_pay_out(fake_stripe, manual):
    fake_stripe.set_balance(manual.stripe_id, available=0, currency="usd")
    with pytest.raises(payments.InvalidPayout, match="Nothing to pay out"):
        payments.payout(manual.user, reference="none")
    assert not payout_posts(fake_stripe)


def test_a_payout_needs_a_connected_account(fake_stripe):
    with pytest.raises(NoPayoutAccount):
        payments.payout(UserFactory(), 100, "usd", reference="r")
    assert not fake_stripe.requests


def old_account(fake_stripe, country: str, days: int, available: int):
    account = payable_account(fake_stripe)
    account.country = country
    account.connected_at = timezone.now() - datetime.timedelta(days=days)
    account.save()
    fake_stripe.set_balance(account.stripe_id, available=available, currency="eur")
    return account


def test_the_command_lists_balances_nearing_stripe_s_payout_deadline(fake_stripe):
    from io import StringIO

    from django.core.management import call_command

    near = old_account(fake_stripe, "FR", 80, 4200)  # 90 days in France: 10 left
    us_late = old_account(fake_stripe, "US", 740, 100)  # two years in the US: 10 past
    us_fine = old_account(fake_stripe, "US", 80, 100)
    old_account(fake_stripe, "FR", 10, 100)  # young
    old_account(fake_stripe, "FR", 85, 0)  # nothing to pay out
    paid = old_account(fake_stripe, "DE", 85, 500)
    Payout.objects.create(account=paid, stripe_id="po_recent", amount=1, currency="eur",
                          created=timezone.now() - datetime.timedelta(days=5))
    before = len(fake_stripe.requests_to("/v1/balance", "GET"))

    out = StringIO()
    call_command("stripe_express_transfers", "--payout-deadlines", stdout=out)

    lines = out.getvalue().splitlines()
    assert lines[0].startswith(f"{us_late.stripe_id} (US): €1.00 not paid out since ")
    assert lines[0].endswith("10 day(s) past")
    assert lines[1].startswith(f"{near.stripe_id} (FR): €42.00 not paid out since ")
    assert lines[1].endswith("10 day(s) left")
    assert lines[2] == "2 account(s) near Stripe's deadline for paying out."
    assert us_fine.stripe_id not in out.getvalue()
    # Only the accounts old enough were asked for their balance (3: one has none).
    assert len(fake_stripe.requests_to("/v1/balance", "GET")) - before == 3
    assert not payout_posts(fake_stripe)  # listing pays nothing out

    out = StringIO()
    call_command("stripe_express_transfers", "--payout-deadlines", "5", stdout=out)
    assert near.stripe_id not in out.getvalue()
    assert "1 account(s) near" in out.getvalue()
