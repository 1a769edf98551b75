"""Every signal goes out through `models.notify`: a receiver's bug is logged,
and never turns what the app already stored into an error for the user."""

from __future__ import annotations

import logging

import pytest

from django_stripe_express import signals
from django_stripe_express.models import ConnectAttempt, ExpressAccount

from .account_links_support import hosted_onboarding, local_path


@pytest.fixture
def broken_receivers():
    """A receiver that raises, connected to every signal of the app."""

    def receiver(sender, **kwargs):
        raise RuntimeError("the host's receiver is broken")

    names = ("account_connected", "account_updated", "account_deauthorized",
             "connect_failed", "webhook_event")
    for name in names:
        getattr(signals, name).connect(receiver, weak=False)
    yield
    for name in names:
        getattr(signals, name).disconnect(receiver)


def test_a_broken_receiver_does_not_undo_onboarding(
    logged_in_client, account_links_mode, broken_receivers, caplog
):
    caplog.set_level(logging.ERROR, logger="django_stripe_express.signals")

    started = logged_in_client.post("/stripe/connect/")
    assert started.status_code == 302
    back = logged_in_client.get(local_path(hosted_onboarding(started["Location"])))

    assert back.status_code == 302
    assert back["Location"] == "/dashboard/"
    assert ExpressAccount.objects.get().details_submitted is True
    failures = [r.getMessage() for r in caplog.records]
    assert any(m.startswith("account_connected receiver") for m in failures)
    assert any(m.startswith("account_updated receiver") for m in failures)


def test_a_broken_receiver_does_not_hide_a_failure_from_the_user(
    logged_in_client, account_links_mode, broken_receivers, caplog
):
    account_links_mode.fail_next(f"POST {account_links_mode.create_path}", status=500)

    response = logged_in_client.post("/stripe/connect/")

    assert response.status_code == 302
    attempt = ConnectAttempt.objects.get()
    assert attempt.outcome == ConnectAttempt.Outcome.STRIPE_ERROR
    assert any(r.getMessage().startswith("connect_failed receiver") for r in caplog.records)
