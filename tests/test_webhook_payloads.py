"""Signed events with values the database refuses, or about another account.

A JSON body can carry what no column takes (``\\u0000``, a lone surrogate, a
number too large for a float) or text longer than a column. Every such event
must end recorded with a clear outcome, never in a 500 that Stripe retries for
days, and no log line may carry the payload's content (personal data).
"""

from __future__ import annotations

import logging
from typing import Any

import pytest
from django.db import DataError
from django.db.models.signals import pre_save

from django_stripe_express.models import ExpressAccount, WebhookEvent

from .factories import ExpressAccountFactory
from .test_webhooks import T0, deliver

PRIVATE = "Ada-Lovelace-Private"  # stands for personal data in a payload


@pytest.fixture
def account(fake_stripe, db) -> ExpressAccount:
    account = ExpressAccountFactory(onboarding=True)
    fake_stripe.create_account(id=account.stripe_id)
    fake_stripe.complete_onboarding(account.stripe_id)
    return account


@pytest.fixture
def logs(caplog) -> Any:
    caplog.set_level(logging.DEBUG)
    return caplog


def updated(fake, account: ExpressAccount, **object_changes: Any) -> dict[str, Any]:
    event = fake.build_event("account.updated", account=account.stripe_id, created=T0)
    event["data"]["object"].update(object_changes)
    return event


@pytest.mark.parametrize(
    ("bad", "stored"),
    [
        ("\u0000", "\ufffd"),  # PostgreSQL: no NUL in text or jsonb
        ("\ud800", "\ufffd"),  # a lone surrogate: no driver encodes it
    ],
    ids=["nul", "lone-surrogate"],
)
def test_characters_no_database_stores_are_replaced(client, fake_stripe, account, logs, bad,
                                                    stored):
    event = updated(
        fake_stripe, account,
        business_profile={"name": f"{PRIVATE}{bad}", f"key{bad}": "x"},
        email=f"{PRIVATE}{bad}@example.com",
    )
    response = deliver(fake_stripe, client, event)

    assert (response.status_code, response.content) == (200, b"processed")
    row = WebhookEvent.objects.get()
    assert row.status == "processed"
    assert "replaced" in row.detail
    profile = row.payload["data"]["object"]["business_profile"]
    assert profile == {"name": f"{PRIVATE}{stored}", f"key{stored}": "x"}
    account.refresh_from_db()
    assert account.status == ExpressAccount.Status.ENABLED
    assert account.email == f"{PRIVATE}{stored}@example.com"
    assert PRIVATE not in logs.text
    # Stripe's redelivery is a duplicate, not a loop.
    assert deliver(fake_stripe, client, event).content == b"duplicate"


def test_numbers_too_large_for_a_float_are_stored_as_null(client, fake_stripe, account, logs):
    body = fake_stripe.signed(updated(fake_stripe, account, metadata={"big": 1.5}))[0]
    body = body.replace('"big": 1.5', '"big": 1e999, "nan": NaN')  # what Python's json reads
    response = deliver(fake_stripe, client, body)

    assert (response.status_code, response.content) == (200, b"processed")
    row = WebhookEvent.objects.get()
    assert row.payload["data"]["object"]["metadata"] == {"big": None, "nan": None}
    assert "2 value(s)" in row.detail


def test_a_text_longer_than_its_column_is_left_empty(client, fake_stripe, account, logs):
    long_email = f"{PRIVATE}{'x' * 250}@example.com"
    response = deliver(fake_stripe, client, updated(fake_stripe, account, email=long_email))

    assert (response.status_code, response.content) == (200, b"processed")
    account.refresh_from_db()
    assert account.email == ""  # a cut address would be someone else's
    assert account.status == ExpressAccount.Status.ENABLED
    row = WebhookEvent.objects.get()
    assert row.detail == "not stored (too long): email"
    assert row.payload["data"]["object"]["email"] == long_email  # the event keeps it
    assert "email longer than the column" in logs.text
    assert PRIVATE not in logs.text


def test_a_database_error_is_logged_without_its_message(client, fake_stripe, account, logs):
    # A database error quotes the values it refused: the log names its class only.
    def refuse(sender: Any, instance: ExpressAccount, **kwargs: Any) -> None:
        raise DataError(f'value "{instance.email}" is refused')

    pre_save.connect(refuse, sender=ExpressAccount, weak=False)
    try:
        event = updated(fake_stripe, account, email=f"{PRIVATE}@example.com")
        response = deliver(fake_stripe, client, event)
    finally:
        pre_save.disconnect(refuse, sender=ExpressAccount)

    assert response.status_code == 500
    row = WebhookEvent.objects.get()
    assert (row.status, row.attempts) == ("failed", 1)
    assert row.detail.startswith("DataError")
    assert "DataError" in logs.text
    assert PRIVATE not in logs.text
    # Stripe's retry processes it again.
    assert deliver(fake_stripe, client, event).content == b"processed"


# -- an event about another account ----------------------------------------------


def test_an_account_updated_about_another_account_is_refused(client, fake_stripe, account):
    attacker = ExpressAccountFactory(onboarding=True)
    event = updated(fake_stripe, account, email="attacker@example.com")
    event["account"] = attacker.stripe_id  # signed for one account, about another

    response = deliver(fake_stripe, client, event)

    reason = (
        f"account mismatch: data.object is {account.stripe_id}, "
        f"the event is {attacker.stripe_id}'s"
    )
    assert (response.status_code, response.content.decode()) == (200, f"ignored: {reason}")
    row = WebhookEvent.objects.get()
    assert (row.status, row.detail) == ("ignored", reason)
    for unchanged in (account, attacker):
        unchanged.refresh_from_db()
        assert unchanged.status == ExpressAccount.Status.ONBOARDING
        assert unchanged.email != "attacker@example.com"


def test_a_capability_updated_about_another_account_is_refused(client, fake_stripe, account):
    other = ExpressAccountFactory(onboarding=True)
    event = fake_stripe.build_event(
        "capability.updated", account=account.stripe_id, capability="transfers", created=T0
    )
    event["account"] = other.stripe_id

    response = deliver(fake_stripe, client, event)

    assert response.content.startswith(b"ignored: account mismatch")
    assert WebhookEvent.objects.get().status == "ignored"
    other.refresh_from_db()
    assert other.capabilities == {"transfers": "inactive"}
