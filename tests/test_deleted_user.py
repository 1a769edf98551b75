"""Deleting a platform user who has an Express account and transfers: the account
is disconnected (at Stripe for OAuth), the rows stay, staff still find them."""

from __future__ import annotations

import logging

import pytest
from django.urls import reverse

from django_stripe_express import payments
from django_stripe_express.models import ConnectAttempt, ExpressAccount, Transfer
from django_stripe_express.reassign import reassign_account
from django_stripe_express.signals import account_deauthorized

from .admin_support import staff_client, superuser_client
from .factories import ExpressAccountFactory, UserFactory
from .payments_support import payable_account

pytestmark = pytest.mark.django_db

CHANGELIST = "admin:django_stripe_express_expressaccount_changelist"


def oauth_account(fake, **traits) -> ExpressAccount:
    account = payable_account(fake, **traits)
    account.connected_via = ConnectAttempt.Flow.OAUTH
    account.save()
    return account


def test_an_oauth_account_is_deauthorized_at_stripe_and_kept_with_its_transfers(
    fake_stripe, capture_signal
):
    account = oauth_account(fake_stripe)
    user = account.user
    transfer = payments.pay(user, 1500, "usd", reference="order-1")
    deauthorized = capture_signal(account_deauthorized)

    user.delete()

    assert fake_stripe.is_deauthorized(account.stripe_id)
    account.refresh_from_db()
    assert account.user is None
    assert account.status == ExpressAccount.Status.DISCONNECTED
    assert [kw["account"].pk for kw in deauthorized] == [account.pk]
    kept = Transfer.objects.get(pk=transfer.pk)
    assert kept.user is None
    assert kept.amount == 1500
    assert str(account).endswith("for deleted user")


def test_an_account_the_platform_created_is_marked_disconnected_without_a_stripe_call(
    fake_stripe,
):
    account = payable_account(fake_stripe)
    account.connected_via = ConnectAttempt.Flow.ACCOUNT_LINKS
    account.save()
    fake_stripe.requests.clear()

    account.user.delete()

    assert fake_stripe.requests == []
    account.refresh_from_db()
    assert account.user is None
    assert not account.is_connected


def test_stripe_down_does_not_block_the_delete_and_says_so(fake_stripe, caplog):
    account = oauth_account(fake_stripe)
    user = account.user

    with fake_stripe.refuse_connections(), caplog.at_level(logging.ERROR):
        user.delete()

    assert not type(user).objects.filter(pk=user.pk).exists()
    account.refresh_from_db()
    assert account.user is None
    # Still connected at Stripe: left for staff to disconnect in the admin.
    assert account.is_connected
    assert f"could not disconnect Stripe account {account.stripe_id}" in caplog.text
    assert "disconnect it in the admin" in caplog.text


def test_staff_find_and_handle_accounts_of_deleted_users(fake_stripe):
    orphan = oauth_account(fake_stripe)
    orphan.user.delete()
    kept = ExpressAccountFactory(user__username="grace")
    client = staff_client("view_expressaccount", "delete_expressaccount")

    page = client.get(reverse(CHANGELIST)).content.decode()
    assert "deleted user" in page
    assert "grace" in page

    found = client.get(reverse(CHANGELIST), {"deleted_user": "yes"}).content.decode()
    assert orphan.stripe_id in found
    assert kept.stripe_id not in found

    detail = client.get(
        reverse("admin:django_stripe_express_expressaccount_change", args=[orphan.pk])
    )
    assert detail.status_code == 200
    assert "deleted user" in detail.content.decode()

    confirm = client.post(
        reverse(CHANGELIST),
        {"action": "disconnect_accounts", "_selected_action": [kept.pk]},
    )
    assert confirm.status_code == 200


def test_an_account_of_a_deleted_user_can_be_reassigned(fake_stripe):
    account = ExpressAccountFactory()
    account.connected_via = ConnectAttempt.Flow.ACCOUNT_LINKS
    account.save()
    account.user.delete()
    account.refresh_from_db()
    heir = UserFactory(username="heir")
    client = superuser_client()

    url = reverse("admin:django_stripe_express_expressaccount_reassign", args=[account.pk])
    confirmation = client.post(url, {"user": heir.pk, "reason": "ticket 9"})
    assert confirmation.status_code == 200
    assert "deleted user" in confirmation.content.decode()

    record = reassign_account(account, heir, by=None, reason="ticket 9")
    assert record.from_user is None
    account.refresh_from_db()
    assert account.user == heir
