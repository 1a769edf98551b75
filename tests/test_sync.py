"""The sync logic and the ``stripe_express_sync`` command, against the fake Stripe."""

from __future__ import annotations

import io

import pytest
import stripe
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import CommandError

from django_stripe_express.models import ExpressAccount
from django_stripe_express.signals import account_deauthorized, account_updated
from django_stripe_express.sync import PAGE_SIZE, refresh_account, sync_accounts

from .factories import ExpressAccountFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def updates(capture_signal):
    """Every `account_updated` signal sent during the test."""
    return capture_signal(account_updated)


def known_accounts(fake, count: int, *, livemode: bool = False) -> list[ExpressAccount]:
    """``count`` accounts at the fake, not onboarded, each with a local row (bulk)."""
    users = get_user_model().objects.bulk_create(
        get_user_model()(username=f"sync{livemode}{i}", email=f"sync{i}@example.com")
        for i in range(count)
    )
    rows = []
    for user in users:
        data = fake.create_account(email=user.email)
        rows.append(
            ExpressAccount(
                user=user,
                stripe_id=data["id"],
                livemode=livemode,
                requirements=data["requirements"],
                future_requirements=data["future_requirements"],
                capabilities=data["capabilities"],
                country="US",
                email=user.email,
                default_currency="usd",
                disabled_reason="requirements.past_due",
                status=ExpressAccount.Status.ONBOARDING,
            )
        )
    return ExpressAccount.objects.bulk_create(rows)


def account_list_calls(fake) -> int:
    return len([r for r in fake.requests_to("/v1/accounts", "GET") if r.path == "/v1/accounts"])


class TestRefreshAccount:
    def test_stores_stripes_view_and_signals_the_status_change(self, fake_stripe, updates):
        data = fake_stripe.create_account()
        fake_stripe.complete_onboarding(data["id"])
        account = ExpressAccountFactory(stripe_id=data["id"], onboarding=True)
        assert account.status == ExpressAccount.Status.ONBOARDING

        change = refresh_account(account, source="admin")

        account.refresh_from_db()
        assert account.status == ExpressAccount.Status.ENABLED
        assert account.charges_enabled
        assert account.payouts_enabled
        assert account.synced_at is not None
        assert change.status_changed
        assert "charges_enabled" in change.fields
        assert [(u["account"].pk, u["previous_status"], u["source"]) for u in updates] == [
            (account.pk, "onboarding", "admin")
        ]
        assert len(fake_stripe.requests_to(f"/v1/accounts/{data['id']}")) == 1

    def test_no_signal_when_the_status_is_the_same(self, fake_stripe, updates):
        data = fake_stripe.create_account()
        fake_stripe.complete_onboarding(data["id"])
        account = ExpressAccountFactory(stripe_id=data["id"])

        change = refresh_account(account)

        assert not change.status_changed
        assert updates == []

    def test_an_account_the_platform_lost_is_disconnected(self, fake_stripe, updates):
        data = fake_stripe.create_account()
        account = ExpressAccountFactory(stripe_id=data["id"])
        fake_stripe.deauthorize(data["id"])

        change = refresh_account(account)

        account.refresh_from_db()
        assert account.status == ExpressAccount.Status.DISCONNECTED
        assert (change.previous_status, change.status) == ("enabled", "disconnected")
        assert updates == []  # account_deauthorized went out instead

    def test_other_permission_errors_propagate(self, fake_stripe):
        data = fake_stripe.create_account()
        account = ExpressAccountFactory(stripe_id=data["id"])
        fake_stripe.fail_next("GET /v1/accounts", status=403,
                              message="The provided key does not have the required permissions.")

        with pytest.raises(stripe.PermissionError):
            refresh_account(account)
        account.refresh_from_db()
        assert account.is_connected


class TestSyncAllAccounts:
    def test_calls_grow_with_pages_not_accounts(self, fake_stripe, updates):
        known = known_accounts(fake_stripe, 255)
        unknown = [fake_stripe.create_account()["id"] for _ in range(10)]  # not ours
        for row in known[:40]:
            fake_stripe.complete_onboarding(row.stripe_id)
        fake_stripe.request_log.clear()

        result = sync_accounts()

        # 265 accounts at 100 per page: 3 list calls, no retrieve.
        assert account_list_calls(fake_stripe) == 3
        assert len(fake_stripe.requests) == 3
        assert all(r.query.get("limit") == str(PAGE_SIZE) for r in fake_stripe.requests)
        assert (result.seen, result.unknown, result.pages) == (265, 10, 3)
        assert result.failed == 0
        statuses = dict(ExpressAccount.objects.values_list("stripe_id", "status"))
        assert sum(s == "enabled" for s in statuses.values()) == 40
        assert not set(unknown) & set(statuses)
        assert ExpressAccount.objects.filter(synced_at__isnull=True).count() == 0
        # Status changed for the 40 onboarded ones only; the signal says "sync".
        assert len(updates) == 40
        assert {u["source"] for u in updates} == {"sync"}

    def test_a_thousand_accounts_take_ten_calls(self, fake_stripe):
        known_accounts(fake_stripe, 1000)

        result = sync_accounts()

        assert account_list_calls(fake_stripe) == len(fake_stripe.requests) == 10
        assert (result.seen, result.unchanged, result.unknown) == (1000, 1000, 0)

    def test_queries_per_page_do_not_grow_with_accounts(
        self, fake_stripe, django_assert_max_num_queries
    ):
        known = known_accounts(fake_stripe, 100)
        for row in known:
            fake_stripe.complete_onboarding(row.stripe_id)
        # One page: a SELECT, the bulk UPDATE (batched by the backend), the
        # transaction's savepoint statements, and one SELECT of the held
        # transfers of the accounts that can now receive them.
        with django_assert_max_num_queries(7):
            result = sync_accounts()
        assert result.updated == 100

    def test_only_accounts_in_the_configured_mode(self, fake_stripe):
        (live,) = known_accounts(fake_stripe, 1, livemode=True)
        fake_stripe.complete_onboarding(live.stripe_id)

        result = sync_accounts()

        assert (result.seen, result.unknown, result.updated) == (1, 1, 0)
        live.refresh_from_db()
        assert live.status == ExpressAccount.Status.ONBOARDING


class TestSyncCommand:
    def run(self, *args: str) -> tuple[str, str]:
        out, err = io.StringIO(), io.StringIO()
        call_command("stripe_express_sync", *args, stdout=out, stderr=err)
        return out.getvalue(), err.getvalue()

    def test_summary_and_progress(self, fake_stripe):
        known = known_accounts(fake_stripe, 120)
        fake_stripe.complete_onboarding(known[0].stripe_id)
        fake_stripe.create_account()

        out, err = self.run()

        assert f"{known[0].stripe_id} changed: onboarding -> enabled" in out
        assert (
            "seen 121, updated 1, unchanged 119, unknown to this platform 1, failed 0." in out
        )
        assert "page 1: 100 accounts read" in err
        assert "page 2: 121 accounts read" in err

    def test_dry_run_reports_and_writes_nothing(self, fake_stripe, updates):
        (row,) = known_accounts(fake_stripe, 1)
        fake_stripe.complete_onboarding(row.stripe_id)

        out, _err = self.run("--dry-run")

        assert f"{row.stripe_id} would change: onboarding -> enabled" in out
        assert "Dry run: seen 1, would update 1" in out
        row.refresh_from_db()
        assert row.status == ExpressAccount.Status.ONBOARDING
        assert row.synced_at is None
        assert updates == []

    def test_one_account(self, fake_stripe):
        first, second = known_accounts(fake_stripe, 2)
        fake_stripe.complete_onboarding(first.stripe_id)
        fake_stripe.complete_onboarding(second.stripe_id)
        fake_stripe.request_log.clear()

        out, _err = self.run("--account", first.stripe_id)

        assert [r.path for r in fake_stripe.requests] == [f"/v1/accounts/{first.stripe_id}"]
        assert "seen 1, updated 1" in out
        first.refresh_from_db()
        second.refresh_from_db()
        assert (first.status, second.status) == ("enabled", "onboarding")

    def test_one_account_unknown_to_stripe_fails(self, fake_stripe):
        with pytest.raises(CommandError, match="1 account"):
            self.run("--account", "acct_doesnotexist")

    @pytest.mark.parametrize("dry_run", [False, True])
    def test_one_account_the_platform_lost_is_disconnected(
        self, fake_stripe, capture_signal, dry_run
    ):
        (row,) = known_accounts(fake_stripe, 1)
        fake_stripe.deauthorize(row.stripe_id)  # 403 account_invalid from now on
        deauthorized = capture_signal(account_deauthorized)

        out, _err = self.run("--account", row.stripe_id, *(["--dry-run"] if dry_run else []))

        verb = "would change" if dry_run else "changed"
        assert f"{row.stripe_id} {verb}: onboarding -> disconnected (deauthorized_at)" in out
        assert "failed 0" in out
        row.refresh_from_db()
        assert row.is_connected is dry_run
        assert len(deauthorized) == (0 if dry_run else 1)

    def test_unreachable_stripe_exits_non_zero(self, fake_stripe):
        known_accounts(fake_stripe, 1)
        with fake_stripe.refuse_connections(), pytest.raises(
            CommandError, match="Stripe could not be reached"
        ):
            self.run()

    def test_api_error_on_a_later_page_keeps_the_earlier_pages(self, fake_stripe):
        known = known_accounts(fake_stripe, 150)
        for row in known:
            fake_stripe.complete_onboarding(row.stripe_id)

        def rate_limit_next_page(result):  # called after each stored page
            fake_stripe.fail_next("GET /v1/accounts", status=429)

        with pytest.raises(stripe.RateLimitError):
            sync_accounts(progress=rate_limit_next_page)
        assert ExpressAccount.objects.filter(status="enabled").count() == 100

    def test_api_error_exits_non_zero(self, fake_stripe):
        fake_stripe.fail_next("GET /v1/accounts", status=500)
        with pytest.raises(CommandError, match="Could not read accounts from Stripe"):
            self.run()


def test_a_failing_receiver_does_not_stop_the_sync(fake_stripe, caplog):
    first, second = known_accounts(fake_stripe, 2)
    for row in (first, second):
        fake_stripe.complete_onboarding(row.stripe_id)

    def broken(sender, **kwargs):
        raise RuntimeError("host bug")

    account_updated.connect(broken)
    try:
        result = sync_accounts()
    finally:
        account_updated.disconnect(broken)

    assert result.updated == 2
    assert ExpressAccount.objects.filter(status="enabled").count() == 2
    assert caplog.text.count("account_updated receiver") == 2
