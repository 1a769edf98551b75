"""Sync and the admin's refresh for Accounts v2 accounts, against the fake Stripe.

v1 accounts come from /v1/accounts pages; v2 accounts are read one by one with
/v2/core/accounts/{id}?include=... (the v2 list takes no ``include``), and
stored 100 at a time.
"""

from __future__ import annotations

import io

import pytest
import stripe
from django.contrib.auth import get_user_model
from django.core.management import call_command

from django_stripe_express.models import ExpressAccount
from django_stripe_express.signals import account_deauthorized, account_updated
from django_stripe_express.sync import refresh_account, sync_accounts

from .account_links_support import INCLUDE

pytestmark = pytest.mark.django_db



def known_v2_accounts(fake, count: int, start: int = 0) -> list[ExpressAccount]:
    """``count`` v2 accounts at the fake, not onboarded, each stored as Stripe made it."""
    users = get_user_model().objects.bulk_create(
        get_user_model()(username=f"v2sync{i}", email=f"v2sync{i}@example.com")
        for i in range(start, start + count)
    )
    rows = []
    for user in users:
        data = fake.create_v2_account(contact_email=user.email)
        row = ExpressAccount(user=user, stripe_id=data["id"], accounts_api="v2")
        row.apply(data)
        rows.append(row)
    return ExpressAccount.objects.bulk_create(rows)


def v2_reads(fake) -> list:
    return fake.requests_to("/v2/core/accounts/", "GET")


def test_v2_accounts_are_read_one_by_one_and_stored_in_bulk(fake_stripe, capture_signal):
    updates = capture_signal(account_updated)
    rows = known_v2_accounts(fake_stripe, 150)
    v1 = fake_stripe.create_account()["id"]  # another platform flow's account: unknown
    for row in rows[:30]:
        fake_stripe.complete_onboarding(row.stripe_id)
    fake_stripe.request_log.clear()

    result = sync_accounts()

    # 151 accounts in v1 pages of 100 (2 calls), then one read per v2 account.
    v1_pages = [r for r in fake_stripe.requests if r.path == "/v1/accounts"]
    assert len(v1_pages) == 2
    reads = v2_reads(fake_stripe)
    assert len(reads) == 150
    assert len(fake_stripe.requests) == 152
    assert all(r.query == {"include": INCLUDE} for r in reads)
    # Each account counted once, though v1 pages list the v2 ones too.
    assert (result.seen, result.unknown, result.updated, result.failed) == (151, 1, 30, 0)
    assert result.pages == 2
    statuses = dict(ExpressAccount.objects.values_list("stripe_id", "status"))
    assert sum(s == "enabled" for s in statuses.values()) == 30
    assert v1 not in statuses
    assert len(updates) == 30


def test_queries_per_hundred_v2_accounts(fake_stripe, django_assert_max_num_queries):
    rows = known_v2_accounts(fake_stripe, 100)
    for row in rows:
        fake_stripe.complete_onboarding(row.stripe_id)

    # The v1 page: a SELECT (nothing of it to write); the v2 ids; for the 100
    # v2 accounts one SELECT and a bulk UPDATE in a savepoint (SQLite splits
    # the UPDATE in two batches); one SELECT of the held transfers of the
    # accounts that can now receive them.
    with django_assert_max_num_queries(8):
        result = sync_accounts()

    assert result.updated == 100


def test_an_account_stripe_no_longer_knows_is_disconnected_alone(fake_stripe):
    first, second = known_v2_accounts(fake_stripe, 2)
    fake_stripe.complete_onboarding(second.stripe_id)
    del fake_stripe.accounts[first.stripe_id]

    result = sync_accounts()

    assert (result.failed, result.errors) == (0, [])
    first.refresh_from_db()
    assert first.status == ExpressAccount.Status.DISCONNECTED
    assert [c.stripe_id for c in result.changes if "deauthorized_at" in c.fields] == [
        first.stripe_id
    ]
    second.refresh_from_db()
    assert second.status == ExpressAccount.Status.ENABLED


def test_another_error_about_one_account_fails_it_alone(fake_stripe):
    first, second = known_v2_accounts(fake_stripe, 2)
    fake_stripe.complete_onboarding(second.stripe_id)
    fake_stripe.fail_next(f"GET /v2/core/accounts/{first.stripe_id}", status=400,
                          code="parameter_invalid", message="Bad.")

    result = sync_accounts()

    assert result.failed == 1
    assert result.errors[0][0] == first.stripe_id
    assert "parameter_invalid" in result.errors[0][1]
    first.refresh_from_db()
    assert first.is_connected
    second.refresh_from_db()
    assert second.status == ExpressAccount.Status.ENABLED


def test_a_closed_account_is_disconnected(fake_stripe, capture_signal):
    deauthorized = capture_signal(account_deauthorized)
    (row,) = known_v2_accounts(fake_stripe, 1)
    fake_stripe.close_account(row.stripe_id)

    sync_accounts()

    row.refresh_from_db()
    assert row.status == ExpressAccount.Status.DISCONNECTED
    assert [kw["account"].pk for kw in deauthorized] == [row.pk]
    fake_stripe.request_log.clear()
    sync_accounts()  # a disconnected v2 account is not read again
    assert v2_reads(fake_stripe) == []


def test_stripe_unreachable_during_the_v2_reads_raises(fake_stripe):
    known_v2_accounts(fake_stripe, 1)
    fake_stripe.fail_next("GET /v2/core/accounts/", status=500)

    with pytest.raises(stripe.APIError):
        sync_accounts()


def test_one_v2_account_with_the_command(fake_stripe):
    first, second = known_v2_accounts(fake_stripe, 2)
    fake_stripe.complete_onboarding(first.stripe_id)
    fake_stripe.complete_onboarding(second.stripe_id)
    fake_stripe.request_log.clear()
    out = io.StringIO()

    call_command("stripe_express_sync", "--account", first.stripe_id, stdout=out)

    assert [r.path for r in fake_stripe.requests] == [f"/v2/core/accounts/{first.stripe_id}"]
    assert f"{first.stripe_id} changed: onboarding -> enabled" in out.getvalue()
    second.refresh_from_db()
    assert second.status == ExpressAccount.Status.ONBOARDING


def test_admin_refresh_reads_a_v2_account_with_v2(fake_stripe, capture_signal):
    updates = capture_signal(account_updated)
    (row,) = known_v2_accounts(fake_stripe, 1)
    fake_stripe.complete_onboarding(row.stripe_id)
    fake_stripe.require_verification(row.stripe_id, ["identity.individual.id_numbers"])

    change = refresh_account(row, source="admin")

    row.refresh_from_db()
    assert (change.previous_status, row.status) == ("onboarding", "restricted")
    assert row.currently_due == ["identity.individual.id_numbers"]
    assert row.capability_details == {
        "stripe_balance.stripe_transfers": [
            {"code": "requirements_past_due", "resolution": "provide_info"}
        ]
    }
    assert [r.path for r in v2_reads(fake_stripe)] == [f"/v2/core/accounts/{row.stripe_id}"]
    assert [u["source"] for u in updates] == ["admin"]


def test_the_command_says_which_accounts_are_v1_and_which_v2(fake_stripe):
    from .factories import ExpressAccountFactory

    (v2_account,) = known_v2_accounts(fake_stripe, 1)
    v1_data = fake_stripe.create_account()
    v1_account = ExpressAccountFactory(stripe_id=v1_data["id"], onboarding=True)
    fake_stripe.complete_onboarding(v2_account.stripe_id)
    fake_stripe.complete_onboarding(v1_account.stripe_id)
    out = io.StringIO()

    call_command("stripe_express_sync", stdout=out)

    said = out.getvalue()
    assert f"{v2_account.stripe_id} changed: onboarding -> enabled" in said
    lines = {line.split()[0]: line for line in said.splitlines() if line.startswith("acct_")}
    assert lines[v2_account.stripe_id].endswith("[v2]")
    assert lines[v1_account.stripe_id].endswith("[v1]")
    assert "Stored accounts read: 1 v1, 1 v2." in said
