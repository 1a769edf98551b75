"""Held until payable, waiting for funds, and the command: each sent once.

Webhooks are signed and delivered to the app's endpoint as Stripe sends them
(`FakeStripe.deliver` runs what the request leaves for the commit).
"""

from __future__ import annotations

import pytest
from django.core.management import CommandError, call_command

from django_stripe_express import signals
from django_stripe_express.models import ExpressAccount, Transfer, WebhookEvent

from .factories import UserFactory
from .payments_support import pay_committed, payable_account, transfer_posts

Status = Transfer.Status


@pytest.fixture
def onboarding(fake_stripe, db) -> ExpressAccount:
    fake_stripe.add_funds(100_000)
    return payable_account(fake_stripe, onboarding=True)


def finish_onboarding_by_webhook(fake_stripe, client, account: ExpressAccount) -> None:
    fake_stripe.complete_onboarding(account.stripe_id)
    event = fake_stripe.build_event("account.updated", account=account.stripe_id)
    assert fake_stripe.deliver(client, event).status_code == 200
    # Stripe delivers it again: nothing more happens.
    assert fake_stripe.deliver(client, event).content == b"duplicate"


def test_held_transfers_are_sent_once_when_a_webhook_makes_the_account_payable(
    fake_stripe, client, onboarding, capture_signal
):
    sent = capture_signal(signals.transfer_sent)
    first = pay_committed(onboarding.user, 100, "usd", "held:1")
    second = pay_committed(onboarding.user, 200, "usd", "held:2")
    assert {first.status, second.status} == {Status.HELD}

    finish_onboarding_by_webhook(fake_stripe, client, onboarding)

    rows = Transfer.objects.order_by("pk")
    assert [(t.reference, t.status) for t in rows] == [
        ("held:1", Status.SENT), ("held:2", Status.SENT)]
    assert sorted(t["amount"] for t in fake_stripe.transfers_made()) == [100, 200]
    assert len(sent) == 2
    # Another update of the (payable) account sends nothing more.
    event = fake_stripe.build_event("account.updated", account=onboarding.stripe_id)
    fake_stripe.deliver(client, event)
    assert len(transfer_posts(fake_stripe)) == 2


def test_a_user_who_reconnects_with_a_new_account_is_paid_there(fake_stripe, client, db):
    fake_stripe.add_funds(10_000)
    old = payable_account(fake_stripe)
    # The user disconnects; the obligation stays theirs.
    old.deauthorized_at = old.connected_at
    old.save()
    transfer = pay_committed(old.user, 300, "usd", "reconnect")
    assert transfer.status == Status.HELD

    # They connect again: a new Stripe account on their row (as the flows do).
    new_id = fake_stripe.create_account()["id"]
    old.forget_stripe_account()
    old.stripe_id, old.deauthorized_at = new_id, None
    old.save()
    finish_onboarding_by_webhook(fake_stripe, client, old)

    transfer.refresh_from_db()
    assert (transfer.status, transfer.destination) == (Status.SENT, new_id)
    assert [t["destination"] for t in fake_stripe.transfers_made()] == [new_id]


def test_an_update_that_leaves_the_account_unpayable_keeps_them_held(
    fake_stripe, client, onboarding
):
    pay_committed(onboarding.user, 100, "usd", "still-held")
    event = fake_stripe.build_event("account.updated", account=onboarding.stripe_id)
    fake_stripe.deliver(client, event)
    assert Transfer.objects.get().status == Status.HELD
    assert transfer_posts(fake_stripe) == []


def test_waiting_for_funds_is_sent_once_on_balance_available(fake_stripe, client, db):
    payee = payable_account(fake_stripe)
    fake_stripe.add_funds(50)
    transfer = pay_committed(payee.user, 500, "usd", "funds")
    assert (transfer.status, transfer.failure_code) == (
        Status.WAITING_FOR_FUNDS, "balance_insufficient")
    first_key = transfer_posts(fake_stripe)[0].header("Idempotency-Key")

    fake_stripe.add_funds(1000, pending=True)
    event = fake_stripe.make_funds_available()
    assert fake_stripe.deliver(client, event).status_code == 200
    assert fake_stripe.deliver(client, event).content == b"duplicate"

    transfer.refresh_from_db()
    assert transfer.status == Status.SENT
    keys = [p.header("Idempotency-Key") for p in transfer_posts(fake_stripe)]
    assert len(keys) == 2
    assert keys[1] != first_key  # Stripe replays the saved refusal under the old key
    assert len(fake_stripe.transfers_made()) == 1
    recorded = WebhookEvent.objects.get(stripe_id=event["id"])
    assert "waiting for funds" in recorded.detail


def test_the_command_sends_pending_waiting_and_releasable_transfers_once(fake_stripe, db):
    payee = payable_account(fake_stripe)
    later = payable_account(fake_stripe, onboarding=True)
    # Written without their commit's send (a worker that never ran).
    Transfer.objects.create(user=payee.user, reference="c:fresh", amount=100,
                                    currency="usd")
    Transfer.objects.create(user=payee.user, reference="c:funds", amount=200,
                                      currency="usd", status=Status.WAITING_FOR_FUNDS)
    Transfer.objects.create(user=later.user, reference="c:held", amount=300,
                                   currency="usd", status=Status.HELD)
    Transfer.objects.create(user=UserFactory(), reference="c:none", amount=1,
                                         currency="usd", status=Status.HELD)
    fake_stripe.complete_onboarding(later.stripe_id)
    ExpressAccount.objects.filter(pk=later.pk).update(capabilities={"transfers": "active"})
    fake_stripe.add_funds(10_000)

    call_command("stripe_express_transfers", "--dry-run")
    assert transfer_posts(fake_stripe) == []

    call_command("stripe_express_transfers")
    call_command("stripe_express_transfers")  # nothing left: nothing more sent

    statuses = dict(Transfer.objects.values_list("reference", "status"))
    assert statuses == {"c:fresh": "sent", "c:funds": "sent", "c:held": "sent", "c:none": "held"}
    assert len(transfer_posts(fake_stripe)) == 3
    assert len(fake_stripe.transfers_made()) == 3


def test_the_command_prints_progress_and_fails_while_something_stays_pending(
    fake_stripe, db, capsys
):
    payee = payable_account(fake_stripe)
    fake_stripe.add_funds(10_000)
    Transfer.objects.create(user=payee.user, reference="p:1", amount=100, currency="usd")
    with fake_stripe.refuse_connections(), pytest.raises(CommandError, match="still pending"):
        call_command("stripe_express_transfers")
    out = capsys.readouterr().out
    assert "[1/1] p:1 (100 usd): send -> pending" in out

    call_command("stripe_express_transfers", "--dry-run")
    assert "[1/1] p:1 (100 usd): would retry with the same key" in capsys.readouterr().out
    call_command("stripe_express_transfers")
    assert "-> sent tr_" in capsys.readouterr().out
    assert len(fake_stripe.transfers_made()) == 1


def test_reversals_from_the_dashboard_keep_amount_reversed_once(
    fake_stripe, fake_stripe_client, client, db, capture_signal
):
    reversed_ = capture_signal(signals.transfer_reversed)
    payee = payable_account(fake_stripe)
    fake_stripe.add_funds(10_000)
    transfer = pay_committed(payee.user, 1000, "usd", "rev")
    # Staff reverse part of it in the Dashboard, twice; Stripe sends the events.
    for amount, key in ((300, "d-1"), (200, "d-2")):
        fake_stripe_client.v1.transfers.reversals.create(
            transfer.stripe_id, {"amount": amount}, {"idempotency_key": key})
    events = [e for e in fake_stripe.events.values() if e["type"] == "transfer.reversed"]
    # Delivered late and out of order, one of them twice.
    for event in (events[1], events[0], events[1]):
        assert fake_stripe.deliver(client, event).status_code == 200

    transfer.refresh_from_db()
    assert transfer.amount_reversed == 500
    assert [r["amount"] for r in reversed_] == [500]  # the newest said 500 in all
    assert WebhookEvent.objects.filter(status="ignored").count() == 2
