"""Reassigning an account to another user: its own permission, a confirmation
naming both users, a recorded reason, a signal.

Moving an account moves payouts to another person; before, the plain
``change`` permission (the one "Refresh from Stripe" needs) could do it
silently from the change form.
"""

from __future__ import annotations

import pytest
from django.contrib.admin.models import LogEntry
from django.urls import reverse

from django_stripe_express.models import AccountReassignment, ExpressAccount
from django_stripe_express.reassign import ReassignError, reassign_account
from django_stripe_express.signals import account_reassigned

from .admin_support import messages_of, staff_client, superuser_client
from .factories import ExpressAccountFactory, UserFactory

pytestmark = pytest.mark.django_db

REASSIGN = "reassign_expressaccount"


def change_url(account):
    return reverse("admin:django_stripe_express_expressaccount_change", args=[account.pk])


def reassign_url(account):
    return reverse("admin:django_stripe_express_expressaccount_reassign", args=[account.pk])


@pytest.fixture
def account():
    return ExpressAccountFactory(
        user=UserFactory(username="alice", first_name="Alice", last_name="Martin")
    )


@pytest.fixture
def bob():
    return UserFactory(username="bob", first_name="Bob", last_name="Okafor",
                       email="bob@example.com")


def test_the_change_permission_does_not_move_an_account(account, bob):
    client = staff_client("view_expressaccount", "change_expressaccount")

    assert client.post(change_url(account), {"user": bob.pk}).status_code == 403
    assert client.get(reassign_url(account)).status_code == 403
    confirm = {"user": bob.pk, "reason": "ticket 1", "confirm": "yes"}
    assert client.post(reassign_url(account), confirm).status_code == 403

    account.refresh_from_db()
    assert account.user.username == "alice"
    assert "Reassign to another user" not in client.get(change_url(account)).content.decode()
    assert not AccountReassignment.objects.exists()


def test_the_reassign_permission_offers_the_action(account):
    client = staff_client("view_expressaccount", REASSIGN, "auth.view_user")
    page = client.get(change_url(account)).content.decode()
    assert f'href="{reassign_url(account)}"' in page
    form = client.get(reassign_url(account))
    assert form.status_code == 200
    assert "Alice Martin" in form.content.decode()
    assert 'name="reason"' in form.content.decode()


def test_reassigning_asks_to_confirm_naming_both_users_then_records_it(
    account, bob, capture_signal
):
    received = capture_signal(account_reassigned)
    client = staff_client("view_expressaccount", REASSIGN, "auth.view_user")
    reason = "Ticket #4521: the shop was sold to Bob; Alice agreed by email."

    confirmation = client.post(reassign_url(account), {"user": bob.pk, "reason": reason})

    assert confirmation.status_code == 200
    html = confirmation.content.decode()
    assert "Move <strong>" in html
    assert account.stripe_id in html
    assert "alice (Alice Martin, alice@example.com) [id" in html
    assert "bob (Bob Okafor, bob@example.com) [id" in html
    assert 'name="confirm" value="yes"' in html
    account.refresh_from_db()
    assert account.user.username == "alice"  # nothing yet
    assert received == []

    done = client.post(
        reassign_url(account), {"user": bob.pk, "reason": reason, "confirm": "yes"}, follow=True
    )

    assert done.redirect_chain[-1][0] == change_url(account)
    account.refresh_from_db()
    assert account.user == bob
    record = AccountReassignment.objects.get()
    staff = done.wsgi_request.user
    assert (record.account, record.stripe_id, record.reason) == (account, account.stripe_id, reason)
    assert record.from_user.username == "alice"
    assert (record.to_user, record.by) == (bob, staff)
    assert "alice" in record.summary
    assert "bob" in record.summary
    entry = LogEntry.objects.get(object_id=str(account.pk))
    assert reason in entry.get_change_message()
    assert any("Reassigned from alice" in m for m in messages_of(done))
    assert reason in done.content.decode()  # listed on the account's page
    assert len(received) == 1
    sent = received[0]
    assert (sent["account"], sent["user"], sent["by"], sent["reason"]) == (
        account, bob, staff, reason
    )
    assert sent["previous_user"].username == "alice"
    assert sent["reassignment"] == record
    assert sent["request"] is not None


@pytest.mark.parametrize(
    ("data", "error"),
    [
        ({"reason": ""}, "This field is required."),
        ({"reason": "   "}, "This field is required."),
        ({"user": "taken"}, "already has an Express account in this mode"),
        ({"user": "same"}, "already belongs to this user"),
        ({"user": 999999}, "Select a valid choice"),
    ],
)
def test_refusals_change_nothing(account, bob, data, error):
    taken = ExpressAccountFactory().user
    users = {"taken": taken.pk, "same": account.user.pk}
    fields = {"user": bob.pk, "reason": "ticket", **data}
    fields["user"] = users.get(fields["user"], fields["user"])
    client = staff_client("view_expressaccount", REASSIGN, "auth.view_user")

    for extra in ({}, {"confirm": "yes"}):
        response = client.post(reassign_url(account), {**fields, **extra})
        assert response.status_code == 200
        assert error in response.content.decode()
        assert 'name="confirm"' not in response.content.decode()

    account.refresh_from_db()
    assert account.user.username == "alice"
    assert not AccountReassignment.objects.exists()


def test_a_clash_appearing_before_the_confirmation_is_refused(account, bob):
    client = staff_client("view_expressaccount", REASSIGN, "auth.view_user")
    client.post(reassign_url(account), {"user": bob.pk, "reason": "ticket"})
    ExpressAccountFactory(user=bob)  # bob connected meanwhile

    response = client.post(
        reassign_url(account), {"user": bob.pk, "reason": "ticket", "confirm": "yes"}
    )

    assert response.status_code == 200
    assert "already has an Express account in this mode" in response.content.decode()
    account.refresh_from_db()
    assert account.user.username == "alice"


def test_a_superuser_may_reassign(account, bob):
    client = superuser_client()
    assert "Reassign to another user" in client.get(change_url(account)).content.decode()
    client.post(reassign_url(account), {"user": bob.pk, "reason": "r", "confirm": "yes"})
    account.refresh_from_db()
    assert account.user == bob


def test_an_unknown_account_is_a_404():
    client = staff_client("view_expressaccount", REASSIGN, "auth.view_user")
    url = "/admin/django_stripe_express/expressaccount/424242/reassign/"
    assert client.get(url).status_code == 404


def test_the_plain_function_refuses_and_records(account, bob, capture_signal):
    received = capture_signal(account_reassigned)
    staff = UserFactory(is_staff=True)
    with pytest.raises(ReassignError):
        reassign_account(account, bob, by=staff, reason=" ")
    with pytest.raises(ReassignError):
        reassign_account(account, account.user, by=staff, reason="r")
    assert received == []

    record = reassign_account(account, bob, by=staff, reason="merge of duplicate users")

    assert ExpressAccount.objects.get().user == bob
    assert account.user == bob
    assert record.reason == "merge of duplicate users"
    assert [r["user"] for r in received] == [bob]


def test_the_record_outlives_the_users(account, bob):
    staff = UserFactory(is_staff=True)
    reassign_account(account, bob, by=staff, reason="r")
    previous = AccountReassignment.objects.get().from_user
    previous.delete()
    staff.delete()
    record = AccountReassignment.objects.get()
    assert record.from_user is None
    assert record.by is None
    assert "alice" in record.summary
    assert record.account == ExpressAccount.objects.get()


# -- issue 24: the reassign permission alone reads no one's personal data ------------


@pytest.mark.parametrize("perms", [
    (REASSIGN,),  # not even the accounts
    ("view_expressaccount", REASSIGN),  # the accounts, not the users
])
def test_the_reassign_permission_alone_shows_no_user_s_details(account, bob, perms):
    client = staff_client(*perms)

    shown = client.post(reassign_url(account), {"user": bob.pk, "reason": "peek"})

    assert shown.status_code == 403
    assert "bob@example.com" not in shown.content.decode()
    assert "Okafor" not in shown.content.decode()
    page = client.get(change_url(account)).content.decode()
    assert f'href="{reassign_url(account)}"' not in page
