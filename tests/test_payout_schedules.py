"""Payout schedules: PAYOUT_SCHEDULE on the accounts the app creates (v1 in the
creation, v2 through Balance Settings), payments.set_payout_schedule per
Accounts API, and the checks that refuse schedules Stripe would."""

from __future__ import annotations

import datetime
import logging

import pytest
from django.core.management import call_command
from django.core.management.base import SystemCheckError
from django.urls import reverse

from django_stripe_express import checks, payments
from django_stripe_express.models import ExpressAccount, Payout
from django_stripe_express.payments.payouts import InvalidSchedule, NoPayoutAccount

from .account_links_support import only_v1, only_v2
from .factories import ExpressAccountFactory, UserFactory

pytestmark = pytest.mark.django_db

WEEKLY = {"interval": "weekly", "weekly_anchor": "friday", "delay_days": 7}


@only_v1
def test_a_new_v1_account_gets_the_schedule_in_its_creation(
    logged_in_client, account_links_mode, settings
):
    settings.STRIPE_EXPRESS = {**settings.STRIPE_EXPRESS, "PAYOUT_SCHEDULE": WEEKLY}
    logged_in_client.post(reverse("stripe_express:connect"))

    (created,) = account_links_mode.creates()
    assert created.form["settings"]["payouts"]["schedule"] == {
        "interval": "weekly", "weekly_anchor": "friday", "delay_days": "7"}
    acct = ExpressAccount.objects.get().stripe_id
    schedule = account_links_mode.account(acct)["settings"]["payouts"]["schedule"]
    assert schedule == {"interval": "weekly", "weekly_anchor": "friday", "delay_days": 7}
    assert not account_links_mode.requests_to("/v1/balance_settings")


@only_v2
def test_a_new_v2_account_gets_the_schedule_through_balance_settings(
    logged_in_client, account_links_mode, settings, fake_stripe_client
):
    settings.STRIPE_EXPRESS = {**settings.STRIPE_EXPRESS, "PAYOUT_SCHEDULE": {
        "interval": "monthly", "monthly_anchor": 15, "delay_days": "minimum"}}
    logged_in_client.post(reverse("stripe_express:connect"))

    (update,) = account_links_mode.requests_to("/v1/balance_settings", "POST")
    acct = update.header("Stripe-Account")
    assert acct == ExpressAccount.objects.get().stripe_id
    answer = fake_stripe_client.v1.balance_settings.retrieve(options={"stripe_account": acct})
    assert answer.payments.payouts.schedule.interval == "monthly"
    assert answer.payments.payouts.schedule.monthly_payout_days == [15]
    assert answer.payments.settlement_timing.delay_days_override is None


@only_v2
def test_a_refused_schedule_never_fails_the_onboarding(
    logged_in_client, account_links_mode, settings, caplog
):
    settings.STRIPE_EXPRESS = {**settings.STRIPE_EXPRESS, "PAYOUT_SCHEDULE": WEEKLY}
    account_links_mode.fail_next("POST /v1/balance_settings", status=400)
    with caplog.at_level(logging.WARNING):
        response = logged_in_client.post(reverse("stripe_express:connect"))

    assert response.status_code == 302
    assert response["Location"].startswith(f"{account_links_mode.url}/setup/")
    assert "Payout schedule not set for new account" in caplog.text


def test_no_schedule_setting_sends_nothing(logged_in_client, account_links_mode):
    logged_in_client.post(reverse("stripe_express:connect"))
    assert not account_links_mode.requests_to("/v1/balance_settings")
    for created in account_links_mode.creates():
        assert "settings" not in account_links_mode.create_params(created)


def test_set_payout_schedule_for_a_v1_account(fake_stripe):
    account = ExpressAccountFactory(accounts_api="v1")
    fake_stripe.create_account(id=account.stripe_id)

    payments.set_payout_schedule(account.user, "weekly", delay_days=5, anchor="monday")

    schedule = fake_stripe.account(account.stripe_id)["settings"]["payouts"]["schedule"]
    assert schedule == {"interval": "weekly", "weekly_anchor": "monday", "delay_days": 5}
    (update,) = fake_stripe.requests_to(f"/v1/accounts/{account.stripe_id}", "POST")
    assert update.form["settings"]["payouts"]["schedule"]["interval"] == "weekly"


def test_set_payout_schedule_for_a_v2_account(fake_stripe, fake_stripe_client):
    account = ExpressAccountFactory(accounts_api="v2")
    fake_stripe.create_account(id=account.stripe_id)

    payments.set_payout_schedule(account.user, "manual", delay_days=10)

    answer = fake_stripe_client.v1.balance_settings.retrieve(
        options={"stripe_account": account.stripe_id})
    assert answer.payments.payouts.schedule.interval == "manual"
    assert answer.payments.settlement_timing.delay_days_override == 10
    assert not fake_stripe.requests_to(f"/v1/accounts/{account.stripe_id}", "POST")


@pytest.mark.parametrize(("interval", "delay_days", "anchor", "words"), [
    ("hourly", None, None, "interval 'hourly' is not one of"),
    ("daily", None, "friday", "a daily schedule takes no anchor"),
    ("weekly", None, None, "a weekly schedule needs its anchor"),
    ("weekly", None, "saturday", "a weekly schedule needs its anchor"),  # v2: weekdays
    ("monthly", None, 32, "a monthly schedule needs its anchor"),
    ("daily", 0, None, "delay_days must be 'minimum' or 1 to 31"),
    ("daily", 45, None, "delay_days must be 'minimum' or 1 to 31"),
])
def test_set_payout_schedule_refuses_what_stripe_would_and_sends_nothing(
    fake_stripe, interval, delay_days, anchor, words
):
    account = ExpressAccountFactory(accounts_api="v2")
    fake_stripe.create_account(id=account.stripe_id)
    with pytest.raises(InvalidSchedule, match=words):
        payments.set_payout_schedule(account.user, interval, delay_days=delay_days,
                                     anchor=anchor)
    assert not fake_stripe.requests


def test_set_payout_schedule_needs_a_connected_account(fake_stripe):
    with pytest.raises(NoPayoutAccount):
        payments.set_payout_schedule(UserFactory(), "daily")
    gone = ExpressAccountFactory(disconnected=True)
    with pytest.raises(NoPayoutAccount):
        payments.set_payout_schedule(gone.user, "daily")


def test_stripe_s_own_refusal_propagates(fake_stripe):
    import stripe

    account = ExpressAccountFactory(accounts_api="v1")
    fake_stripe.create_account(id=account.stripe_id)
    fake_stripe.fail_next(f"POST /v1/accounts/{account.stripe_id}", status=400)
    with pytest.raises(stripe.InvalidRequestError):
        payments.set_payout_schedule(account.user, "daily")


# -- checks --------------------------------------------------------------------------
def ids_for(settings, **values) -> list[str]:
    settings.STRIPE_EXPRESS = {**settings.STRIPE_EXPRESS, **values}
    return [m.id for m in checks._check_settings() if m.id.endswith(
        ("E040", "E041", "E042", "E043"))]


@pytest.mark.parametrize(("schedule", "expected"), [
    (WEEKLY, []),
    ({"interval": "daily"}, []),
    ({"interval": "monthly", "monthly_anchor": 31, "delay_days": "minimum"}, []),
    ("weekly", ["E040"]),
    ({"interval": "fortnightly"}, ["E040"]),
    ({"interval": "daily", "anchor": "friday"}, ["E040"]),
    ({"interval": "daily", "weekly_anchor": "friday"}, ["E041"]),
    ({"interval": "weekly"}, ["E041"]),
    ({"interval": "weekly", "weekly_anchor": "sunday"}, ["E041"]),  # v2 by default
    ({"interval": "weekly", "monthly_anchor": 3}, ["E041"]),
    ({"interval": "monthly", "monthly_anchor": "15"}, ["E041"]),
    ({"interval": "daily", "delay_days": 0}, ["E042"]),
    ({"interval": "daily", "delay_days": 32}, ["E042"]),
    ({"interval": "manual", "delay_days": "max"}, ["E042"]),
])
def test_the_checks_refuse_impossible_schedules(settings, schedule, expected):
    found = ids_for(settings, PAYOUT_SCHEDULE=schedule)
    assert [i.rsplit(".", 1)[1] for i in found] == expected


def test_a_weekend_anchor_is_fine_for_v1(settings):
    found = ids_for(settings, ACCOUNTS_API="v1",
                    PAYOUT_SCHEDULE={"interval": "weekly", "weekly_anchor": "sunday"})
    assert found == []


@pytest.mark.parametrize(("value", "expected"), [(60, []), (0, []), (-1, ["E043"]),
                                                 ("60", ["E043"]), (True, ["E043"])])
def test_the_balance_cache_must_be_seconds(settings, value, expected):
    found = ids_for(settings, BALANCE_CACHE_SECONDS=value)
    assert [i.rsplit(".", 1)[1] for i in found] == expected


def test_call_command_check_names_the_schedule(settings):
    settings.STRIPE_EXPRESS = {**settings.STRIPE_EXPRESS,
                               "PAYOUT_SCHEDULE": {"interval": "weekly"}}
    with pytest.raises(SystemCheckError, match="E041"):
        call_command("check")


# -- the admin's action ------------------------------------------------------------
CHANGELIST = "admin:django_stripe_express_expressaccount_changelist"


def schedule_action(client, accounts, **form):
    data = {"action": "set_payout_schedule", "_selected_action": [a.pk for a in accounts]}
    if form:
        data.update(post="yes", **form)
    return client.post(reverse(CHANGELIST), data, follow=True)


def test_the_admin_action_needs_its_own_permission(fake_stripe):
    from .admin_support import action_names, staff_client

    response = staff_client("view_expressaccount", "change_expressaccount").get(
        reverse(CHANGELIST))
    assert "set_payout_schedule" not in action_names(response)
    allowed = staff_client("view_expressaccount", "set_payout_schedule_expressaccount")
    assert "set_payout_schedule" in action_names(allowed.get(reverse(CHANGELIST)))


def test_the_admin_sets_the_schedule_of_v1_and_v2_accounts(fake_stripe, fake_stripe_client):
    from .admin_support import messages_of, staff_client

    v1_account = ExpressAccountFactory(accounts_api="v1")
    v2_account = ExpressAccountFactory(accounts_api="v2")
    gone = ExpressAccountFactory(disconnected=True)
    for account in (v1_account, v2_account, gone):
        fake_stripe.create_account(id=account.stripe_id)
    staff = staff_client("view_expressaccount", "set_payout_schedule_expressaccount")

    form_page = schedule_action(staff, [v1_account, v2_account, gone])
    assert "Set the payout schedule" in form_page.content.decode()
    assert not fake_stripe.requests  # the form first, nothing sent

    done = schedule_action(staff, [v1_account, v2_account, gone], interval="weekly",
                           delay_days="3", anchor="Tuesday")
    assert "Payout schedule set to weekly for 2 account(s)." in messages_of(done)
    assert any("is disconnected" in m for m in messages_of(done))
    schedule = fake_stripe.account(v1_account.stripe_id)["settings"]["payouts"]["schedule"]
    assert schedule == {"interval": "weekly", "weekly_anchor": "tuesday", "delay_days": 3}
    settings_v2 = fake_stripe_client.v1.balance_settings.retrieve(
        options={"stripe_account": v2_account.stripe_id})
    assert settings_v2.payments.payouts.schedule.weekly_payout_days == ["tuesday"]


def test_the_admin_says_why_a_schedule_is_refused(fake_stripe):
    from .admin_support import messages_of, staff_client

    account = ExpressAccountFactory(accounts_api="v2")
    fake_stripe.create_account(id=account.stripe_id)
    staff = staff_client("view_expressaccount", "set_payout_schedule_expressaccount")

    done = schedule_action(staff, [account], interval="monthly", delay_days="", anchor="")
    (message,) = messages_of(done)
    assert "a monthly schedule needs its anchor" in message
    assert not fake_stripe.requests


# -- the fake's clock: Stripe's automatic payouts, day by day -------------------

FRIDAY, THURSDAY = datetime.date(2026, 12, 11), datetime.date(2026, 12, 10)


def paid_out(fake_stripe, client, account, day):
    """Run the fake's schedule on ``day``, deliver its events to the app: the rows."""
    for event in fake_stripe.run_payout_schedule(day, [account.stripe_id]):
        assert fake_stripe.deliver(client, event).status_code == 200
    return list(Payout.objects.filter(account=account).values_list("amount", "automatic",
                                                                   "status"))


@pytest.mark.parametrize("accounts_api", ["v1", "v2"])
def test_a_weekly_schedule_set_by_the_app_pays_out_on_its_day_only(
    fake_stripe, client, accounts_api
):
    account = fake_stripe.connected_account(UserFactory(), accounts_api=accounts_api)
    payments.set_payout_schedule(account.user, "weekly", anchor="friday")
    fake_stripe.set_balance(account.stripe_id, available=4200, pending=100)

    assert paid_out(fake_stripe, client, account, THURSDAY) == []
    assert paid_out(fake_stripe, client, account, FRIDAY) == [(4200, True, "pending")]
    # The whole available balance went; the pending part waits for its day.
    assert fake_stripe.balances[account.stripe_id]["available"] == 0
    assert paid_out(fake_stripe, client, account, FRIDAY) == [(4200, True, "pending")]


def test_a_monthly_anchor_past_the_month_s_end_pays_out_on_its_last_day(fake_stripe, client):
    account = fake_stripe.connected_account(UserFactory(), accounts_api="v2")
    payments.set_payout_schedule(account.user, "monthly", anchor=31)
    fake_stripe.set_balance(account.stripe_id, available=900)

    assert paid_out(fake_stripe, client, account, datetime.date(2027, 2, 27)) == []
    assert paid_out(fake_stripe, client, account, datetime.date(2027, 2, 28)) == [
        (900, True, "pending")]


def test_manual_schedules_and_accounts_without_payouts_are_never_paid_out(fake_stripe, client):
    manual = fake_stripe.connected_account(UserFactory(), accounts_api="v1")
    payments.set_payout_schedule(manual.user, "manual")
    onboarding = fake_stripe.connected_account(UserFactory(), onboarded=False)
    for account in (manual, onboarding):
        fake_stripe.set_balance(account.stripe_id, available=500)

    assert fake_stripe.run_payout_schedule(FRIDAY) == []
    assert not Payout.objects.exists()
