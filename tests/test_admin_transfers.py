"""The transfers ledger in the admin: read-only, filters and search, the inline on
the account, and the guarded "Send again" / "Cancel" actions."""

from __future__ import annotations

import pytest
from django.test import TestCase
from django.urls import reverse
from django.utils import timezone

from django_stripe_express import payments
from django_stripe_express.models import Transfer

from .admin_support import action_names, messages_of, staff_client
from .payments_support import payable_account, transfer_posts

CHANGELIST = "admin:django_stripe_express_transfer_changelist"
Status = Transfer.Status
pytestmark = pytest.mark.django_db


def post_action(client, action: str, transfers, **extra):
    data = {"action": action, "_selected_action": [t.pk for t in transfers], **extra}
    with TestCase.captureOnCommitCallbacks(execute=True):
        return client.post(reverse(CHANGELIST), data, follow=True)


@pytest.fixture
def ledger(fake_stripe):
    payee = payable_account(fake_stripe)
    rows = {
        status: Transfer.objects.create(
            user=payee.user, account=payee, reference=f"ref:{status}", amount=100,
            currency="usd" if status != Status.HELD else "eur", status=status,
            stripe_id="tr_sent123" if status == Status.SENT else "",
        )
        for status in Status.values
    }
    return payee, rows


def test_view_only_staff_see_the_ledger_and_no_action_or_edit(ledger):
    client = staff_client("view_transfer")
    response = client.get(reverse(CHANGELIST))
    assert response.status_code == 200
    assert response.context["cl"].result_count == len(Status.values)
    assert action_names(response) == []
    _payee, rows = ledger
    detail = client.get(
        reverse("admin:django_stripe_express_transfer_change", args=[rows[Status.SENT].pk]))
    assert detail.status_code == 200
    assert b'name="amount"' not in detail.content  # nothing editable


@pytest.mark.parametrize(
    ("query", "expected"),
    [("status__exact=failed", {"ref:failed"}), ("currency__exact=eur", {"ref:held"}),
     ("q=tr_sent123", {"ref:sent"}), ("q=ref:canceled", {"ref:canceled"})],
)
def test_filters_and_search(ledger, query, expected):
    response = staff_client("view_transfer").get(f"{reverse(CHANGELIST)}?{query}")
    assert {t.reference for t in response.context["cl"].result_list} == expected


def test_the_account_page_lists_its_transfers(ledger):
    payee, _rows = ledger
    client = staff_client("view_expressaccount", "view_transfer")
    page = client.get(
        reverse("admin:django_stripe_express_expressaccount_change", args=[payee.pk]))
    assert page.status_code == 200
    assert "ref:sent" in page.content.decode()


def test_each_action_needs_its_own_permission(ledger):
    assert action_names(staff_client("view_transfer", "retry_transfer").get(
        reverse(CHANGELIST))) == ["retry_transfers"]
    assert action_names(staff_client("view_transfer", "cancel_transfer").get(
        reverse(CHANGELIST))) == ["cancel_transfers"]
    _payee, rows = ledger
    client = staff_client("view_transfer", "cancel_transfer")
    post_action(client, "retry_transfers", [rows[Status.FAILED]], post="yes")
    assert Transfer.objects.get(pk=rows[Status.FAILED].pk).status == Status.FAILED


def test_send_again_is_confirmed_then_sent_with_a_new_key(fake_stripe, ledger):
    fake_stripe.add_funds(1000)
    _payee, rows = ledger
    failed = rows[Status.FAILED]
    client = staff_client("view_transfer", "retry_transfer")

    page = post_action(client, "retry_transfers", [failed, rows[Status.SENT]])
    assert page.templates[0].name.endswith("action_confirmation.html")
    assert transfer_posts(fake_stripe) == []

    response = post_action(client, "retry_transfers", [failed, rows[Status.SENT]], post="yes")

    assert "1 transfer(s) will be sent again." in messages_of(response)
    assert any("ref:sent cannot be sent again" in m for m in messages_of(response))
    failed.refresh_from_db()
    assert failed.status == Status.SENT
    assert len(fake_stripe.transfers_made()) == 1


def test_cancel_refuses_what_may_have_reached_stripe(fake_stripe, ledger):
    _payee, rows = ledger
    unknown = rows[Status.PENDING]
    Transfer.objects.filter(pk=unknown.pk).update(key_used_at=timezone.now())
    client = staff_client("view_transfer", "cancel_transfer")

    response = post_action(client, "cancel_transfers", [rows[Status.HELD], unknown], post="yes")

    assert "1 transfer(s) canceled." in messages_of(response)
    assert Transfer.objects.get(pk=rows[Status.HELD].pk).status == Status.CANCELED
    assert Transfer.objects.get(pk=unknown.pk).status == Status.PENDING


def test_the_detail_page_lists_the_transfers_reversals_and_refunds(ledger):
    _payee, rows = ledger
    sent = rows[Status.SENT]
    sent.reversals.create(kind="reversal", reference="return:77", amount=40, status="done",
                          stripe_id="trr_seen123")
    sent.reversals.create(kind="refund", reference="rest", amount=None, status="failed",
                          failure_code="charge_already_refunded")
    client = staff_client("view_transfer")
    detail = client.get(reverse("admin:django_stripe_express_transfer_change", args=[sent.pk]))
    assert detail.status_code == 200
    body = detail.content.decode()
    assert "return:77" in body
    assert "trr_seen123" in body
    assert "charge_already_refunded" in body
    assert "Refund of the destination charge" in body


def test_reverse_needs_its_permission_is_confirmed_and_reverses_the_rest_once(
    fake_stripe, db
):
    fake_stripe.add_funds(10_000)
    payee = payable_account(fake_stripe)
    with TestCase.captureOnCommitCallbacks(execute=True):
        payments.pay(payee.user, 900, "usd", "to-reverse")
    sent = Transfer.objects.get(reference="to-reverse")
    held = Transfer.objects.create(user=payee.user, reference="held", amount=5,
                                   currency="usd", status=Status.HELD)
    assert "reverse_transfers" not in action_names(
        staff_client("view_transfer", "retry_transfer").get(reverse(CHANGELIST)))
    client = staff_client("view_transfer", "reverse_transfer")
    assert action_names(client.get(reverse(CHANGELIST))) == ["reverse_transfers"]

    page = post_action(client, "reverse_transfers", [sent, held])
    assert page.templates[0].name.endswith("action_confirmation.html")
    assert fake_stripe.transfers_made()[0]["amount_reversed"] == 0

    response = post_action(client, "reverse_transfers", [sent, held], post="yes")
    post_action(client, "reverse_transfers", [sent], post="yes")  # twice: still once

    assert "1 transfer(s) will be reversed." in messages_of(response)
    assert any("held cannot be reversed" in m for m in messages_of(response))
    assert fake_stripe.transfers_made()[0]["amount_reversed"] == 900
    sent.refresh_from_db()
    assert sent.amount_reversed == 900
    assert sent.reversals.get().reference == "rest"


def test_the_list_shows_amounts_in_their_currency(fake_stripe):
    payee = payable_account(fake_stripe)
    Transfer.objects.create(user=payee.user, account=payee, reference="order:1", amount=4050,
                            currency="usd", status=Status.SENT, stripe_id="tr_1",
                            amount_reversed=1000)
    Transfer.objects.create(user=payee.user, account=payee, reference="order:2", amount=1200,
                            currency="jpy", status=Status.PENDING)
    page = staff_client("view_transfer").get(reverse(CHANGELIST)).content.decode()
    assert '<td class="field-amount_display">$40.50</td>' in page
    assert '<td class="field-reversed_display">$10.00</td>' in page
    assert '<td class="field-amount_display">¥1,200</td>' in page
    assert "django_stripe_express/admin.css" in page
