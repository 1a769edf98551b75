"""Signed payloads that must not wedge the webhook (issue 24, items 2, 3 and 11).

Each is signed exactly as Stripe signs, so only Stripe (or a leaked secret)
could send it; none may answer 500 for ever, reach a Stripe URL it should
not, or freeze the account's ordering.
"""

from __future__ import annotations

import logging
import time

import pytest
from django.core.management import call_command

from django_stripe_express.models import ExpressAccount, WebhookEvent
from django_stripe_express.webhooks.store import process_stored

from .factories import ExpressAccountFactory
from .test_webhook_tasks import DB_BACKEND
from .test_webhook_thin import RETURNED, UPDATED, deliver, stored, stored_v2_account, thin
from .test_webhooks import T0

URL = "/stripe/webhook/"


@pytest.fixture
def v1_account(fake_stripe, db) -> ExpressAccount:
    account = ExpressAccountFactory(onboarding=True)
    fake_stripe.create_account(id=account.stripe_id)
    fake_stripe.complete_onboarding(account.stripe_id)
    return account


# -- 2: an object where Stripe writes one is a list, a string or a number ----------

ODD_VALUES = [["PRIVATE"], "PRIVATE", 7]


@pytest.mark.django_db
@pytest.mark.parametrize("key", ["requirements", "future_requirements", "capabilities"])
@pytest.mark.parametrize("value", ODD_VALUES, ids=["list", "string", "number"])
def test_a_signed_account_updated_with_a_non_object_is_recorded_with_a_note(
    client, fake_stripe, v1_account, key, value
):
    event = fake_stripe.build_event("account.updated", account=v1_account.stripe_id, created=T0)
    event["data"]["object"][key] = value

    response = fake_stripe.post_event(client, event, path=URL)

    assert (response.status_code, response.content) == (200, b"processed")
    row = WebhookEvent.objects.get()
    assert row.status == "processed"
    assert f"not an object, read as empty: {key}" in row.detail
    account = ExpressAccount.objects.get(pk=v1_account.pk)
    assert getattr(account, key) == {}
    assert account.charges_enabled is True  # the rest of the account is applied


@pytest.mark.django_db(transaction=True)
def test_the_same_event_in_task_mode_is_processed_by_the_worker(
    client, fake_stripe, v1_account, settings
):
    settings.STRIPE_EXPRESS = {**settings.STRIPE_EXPRESS, "WEBHOOK_PROCESSING": "task"}
    settings.TASKS = DB_BACKEND
    event = fake_stripe.build_event("account.updated", account=v1_account.stripe_id, created=T0)
    event["data"]["object"]["requirements"] = ["PRIVATE"]
    assert fake_stripe.post_event(client, event, path=URL).content == b"queued"

    call_command("db_worker", batch=True, startup_delay=False, reload=False, interval=0,
                 verbosity=0)

    row = WebhookEvent.objects.get()
    assert (row.status, row.detail) == ("processed", "not an object, read as empty: requirements")


# -- 3: another mode's link-returned event is never fetched --------------------------


@pytest.mark.django_db
def test_an_other_mode_link_returned_event_is_ignored_without_a_fetch(client, fake_stripe):
    account = stored_v2_account(fake_stripe)
    event = thin(fake_stripe, RETURNED, account.stripe_id, 1, livemode=True)

    response = deliver(fake_stripe, client, event)

    assert (response.status_code, response.content) == (
        200, b"ignored: live-mode event, other mode configured"
    )
    assert fake_stripe.requests == []
    assert WebhookEvent.objects.get().status == "ignored"


@pytest.mark.django_db
def test_a_404_on_the_event_fetch_is_recorded_and_ignored(client, fake_stripe):
    account = stored_v2_account(fake_stripe)
    event = thin(fake_stripe, RETURNED, account.stripe_id, 1)
    fake_stripe.fail_next(f"GET /v2/core/events/{event['id']}", status=404,
                          message="No such event")

    response = deliver(fake_stripe, client, event)

    assert (response.status_code, response.content) == (
        200, b"ignored: the event is not found at Stripe (404)"
    )
    row = WebhookEvent.objects.get()
    assert (row.status, row.detail) == ("ignored", "the event is not found at Stripe (404)")
    # A redelivery is a duplicate: no call to Stripe.
    calls = len(fake_stripe.requests)
    assert deliver(fake_stripe, client, event).content == b"duplicate"
    assert len(fake_stripe.requests) == calls


# -- 11: ids, ordering, logs, stored rows ----------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("bad", [".", "..", "evt_../../v1/accounts"])
def test_event_ids_not_shaped_like_stripe_s_are_refused(client, fake_stripe, bad):
    account = stored_v2_account(fake_stripe)
    event = thin(fake_stripe, RETURNED, account.stripe_id, 1)
    event["id"] = bad

    response = deliver(fake_stripe, client, event)

    assert response.status_code == 400
    assert fake_stripe.requests == []
    assert not WebhookEvent.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize("bad", [".", "..", "acct_x/../../v1/balance"])
def test_related_object_ids_not_shaped_like_accounts_are_refused(client, fake_stripe, bad):
    account = stored_v2_account(fake_stripe)
    event = thin(fake_stripe, UPDATED, account.stripe_id, 1)
    event["related_object"]["id"] = bad

    response = deliver(fake_stripe, client, event)

    assert response.status_code == 400
    assert fake_stripe.requests == []


@pytest.mark.django_db
def test_an_object_id_with_a_line_break_never_reaches_the_log(
    client, fake_stripe, v1_account, caplog
):
    event = fake_stripe.build_event("account.updated", account=v1_account.stripe_id, created=T0)
    event["data"]["object"]["id"] = "acct_x\nCRITICAL forged line"

    with caplog.at_level(logging.DEBUG):
        response = fake_stripe.post_event(client, event, path=URL)

    assert response.status_code == 200
    assert fake_stripe.requests == []  # never a Stripe URL either
    assert "forged" not in caplog.text
    assert "forged" not in WebhookEvent.objects.get().detail


@pytest.mark.django_db
def test_an_event_from_the_far_future_does_not_freeze_ordering(client, fake_stripe, v1_account):
    acct = v1_account.stripe_id
    future = fake_stripe.build_event("account.updated", account=acct,
                                     created=int(time.time()) + 10 * 365 * 86400)
    assert fake_stripe.post_event(client, future, path=URL).content == b"processed"
    row = WebhookEvent.objects.get(stripe_id=future["id"])
    assert "created in the future" in row.detail

    fake_stripe.require_verification(acct, None, "requirements.past_due")
    later = fake_stripe.build_event("account.updated", account=acct, created=int(time.time()) + 1)

    assert fake_stripe.post_event(client, later, path=URL).content == b"processed"
    assert ExpressAccount.objects.get(pk=v1_account.pk).disabled_reason == (
        "requirements.past_due"
    )


@pytest.mark.django_db
def test_a_stored_row_whose_payload_is_another_event_is_refused(fake_stripe, v1_account):
    event = fake_stripe.build_event("account.updated", account=v1_account.stripe_id, created=T0)
    row = WebhookEvent.objects.create(
        stripe_id="evt_the_key", type=event["type"], account=v1_account.stripe_id,
        livemode=False, created=v1_account.connected_at, status="received", payload=event,
    )

    answer = process_stored("evt_the_key")

    assert answer.status_code == 500
    row.refresh_from_db()
    assert row.status == "failed"
    assert "refused" in row.detail
    assert WebhookEvent.objects.count() == 1  # nothing recorded under the payload's id
    assert stored(v1_account).charges_enabled is False
