"""Shared by the payments tests: a user Stripe can pay, pay() with commits run."""

from __future__ import annotations

from typing import Any

from django.test import TestCase

from django_stripe_express import payments
from django_stripe_express.models import ExpressAccount, Transfer
from django_stripe_express.testing import FakeStripe

from .factories import ExpressAccountFactory


def payable_account(fake: FakeStripe, **traits: Any) -> ExpressAccount:
    """A stored account whose twin at the fake can receive transfers (unless traits
    say the stored one is still onboarding: then the fake's is too)."""
    account = ExpressAccountFactory(**traits)
    fake.create_account(id=account.stripe_id)
    if not traits:
        fake.complete_onboarding(account.stripe_id)
    return account


def pay_committed(*args: Any, **kwargs: Any) -> Transfer:
    """`payments.pay` in a transaction that commits: what it sends after the
    commit runs before this returns (a test's own transaction never commits)."""
    with TestCase.captureOnCommitCallbacks(execute=True):
        transfer = payments.pay(*args, **kwargs)
    return Transfer.objects.get(pk=transfer.pk)


def transfer_posts(fake: FakeStripe) -> list[Any]:
    return fake.requests_to("/v1/transfers", "POST")


def send_committed(transfer_id: int) -> Transfer:
    """`payments.send`, with what it defers to the commit (signals, releases) run."""
    with TestCase.captureOnCommitCallbacks(execute=True):
        payments.send(transfer_id)
    return Transfer.objects.get(pk=transfer_id)
