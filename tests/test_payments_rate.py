"""Stripe's rate limit at payday: calls that move money are paced under a shared
rate, a 429 is sent again with the same key, never a failure nor a duplicate."""

from __future__ import annotations

import time

import pytest
import stripe
from django.test import TestCase

from django_stripe_express import payments
from django_stripe_express.checks import _check_settings
from django_stripe_express.models import Transfer
from django_stripe_express.payments import transfers
from django_stripe_express.stripe_api import get_client

from .payments_support import pay_committed, payable_account, send_committed, transfer_posts

Status = Transfer.Status


@pytest.fixture
def payee(fake_stripe, db):
    fake_stripe.add_funds(10_000_000, "usd")
    return payable_account(fake_stripe)


def _rate(settings, per_second):
    settings.STRIPE_EXPRESS = {**settings.STRIPE_EXPRESS, "PAYMENTS_RATE_LIMIT": per_second}


def test_the_fake_answers_stripes_429_beyond_its_rate_and_counts_them(fake_stripe, payee):
    fake_stripe.limit_rate(per_second=1)
    client = get_client()
    client.v1.balance.retrieve()
    with pytest.raises(stripe.RateLimitError) as refused:
        client.v1.balance.retrieve()
    assert refused.value.http_status == 429
    assert refused.value.json_body["error"]["code"] == "rate_limit"
    assert refused.value.json_body["error"]["type"] == "invalid_request_error"
    assert refused.value.headers["Retry-After"] == "1"
    assert fake_stripe.rate_limited == 1
    fake_stripe.limit_rate(None)
    client.v1.balance.retrieve()
    assert fake_stripe.rate_limited == 1


def test_a_429_is_sent_again_with_the_same_key_and_one_transfer_is_made(
    fake_stripe, payee, settings
):
    _rate(settings, 0)
    fake_stripe.fail_next("POST /v1/transfers", status=429)

    transfer = pay_committed(payee.user, 500, "usd", "busy")

    assert transfer.status == Status.SENT
    keys = [p.header("Idempotency-Key") for p in transfer_posts(fake_stripe)]
    assert keys == [transfer.idempotency_key] * 2
    assert [t["id"] for t in fake_stripe.transfers_made()] == [transfer.stripe_id]


def test_429s_past_the_budget_leave_it_pending_with_its_key_never_failed(
    fake_stripe, payee, settings, monkeypatch
):
    _rate(settings, 0)
    # Less than the one second a 429 without Retry-After costs.
    monkeypatch.setattr(transfers, "_INLINE_WAIT", 0.5)
    fake_stripe.fail_next("POST /v1/transfers", status=429)

    transfer = pay_committed(payee.user, 500, "usd", "very-busy")

    assert (transfer.status, transfer.key_generation, transfer.failure_code) == (
        Status.PENDING, 1, "")
    assert fake_stripe.transfers_made() == []
    again = send_committed(transfer.pk)  # the command's or the task's next run
    assert again.status == Status.SENT
    assert {p.header("Idempotency-Key") for p in transfer_posts(fake_stripe)} == {
        transfer.idempotency_key}
    assert len(fake_stripe.transfers_made()) == 1


def test_unpaced_calls_over_the_fakes_rate_wait_out_its_429s(fake_stripe, payee, settings):
    _rate(settings, 0)
    fake_stripe.limit_rate(per_second=5)

    made = [pay_committed(payee.user, 100, "usd", f"unpaced-{n}") for n in range(12)]

    assert fake_stripe.rate_limited > 0
    assert {t.status for t in made} == {Status.SENT}
    by_reference = [t["metadata"][transfers.REFERENCE_KEY] for t in fake_stripe.transfers_made()]
    assert sorted(by_reference) == sorted(f"unpaced-{n}" for n in range(12))


def test_a_payday_burst_is_paced_under_the_fakes_limit(fake_stripe, payee, settings):
    # The default for a test key: 20 a second, under Stripe's 25.
    fake_stripe.limit_rate(per_second=25)
    started = time.monotonic()

    made = [pay_committed(payee.user, 100, "usd", f"payday-{n}") for n in range(200)]

    elapsed = time.monotonic() - started
    print(f"200 transfers in {elapsed:.1f} s, {fake_stripe.rate_limited} answered 429")
    assert {t.status for t in made} == {Status.SENT}
    references = [t["metadata"][transfers.REFERENCE_KEY] for t in fake_stripe.transfers_made()]
    assert sorted(references) == sorted(f"payday-{n}" for n in range(200))
    assert fake_stripe.rate_limited == 0  # paced: Stripe never had to refuse
    assert elapsed >= 200 / 20 - 1.5  # and no faster than the rate allows


def _rate_check_ids(settings, caches, **stripe_express):
    settings.STRIPE_EXPRESS = {"SECRET_KEY": "sk_test_abc", **stripe_express}
    settings.CACHES = caches
    return {m.id for m in _check_settings()} & {
        "django_stripe_express.E046", "django_stripe_express.W046"}


LOCMEM = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
SHARED = {"default": {"BACKEND": "django.core.cache.backends.db.DatabaseCache",
                      "LOCATION": "cache"}}


def test_task_workers_pacing_in_a_local_memory_cache_are_warned(settings):
    assert _rate_check_ids(settings, LOCMEM, PAYMENTS_PROCESSING="task") == {
        "django_stripe_express.W046"}
    assert _rate_check_ids(settings, SHARED, PAYMENTS_PROCESSING="task") == set()
    # Inline, each request paces alone anyway; pacing off: nothing to share.
    assert _rate_check_ids(settings, LOCMEM) == set()
    assert _rate_check_ids(settings, LOCMEM, PAYMENTS_PROCESSING="task",
                           PAYMENTS_RATE_LIMIT=0) == set()


@pytest.mark.parametrize("value", ["fast", -1, True, [20]])
def test_a_rate_that_is_no_number_is_an_error(settings, value):
    assert _rate_check_ids(settings, SHARED, PAYMENTS_RATE_LIMIT=value) == {
        "django_stripe_express.E046"}
    assert _rate_check_ids(settings, SHARED, PAYMENTS_RATE_LIMIT=12.5) == set()


def test_a_worker_waits_out_a_429_an_inline_send_leaves_pending(
    fake_stripe, payee, settings, monkeypatch
):
    _rate(settings, 0)
    monkeypatch.setattr(transfers, "_INLINE_WAIT", 0.5)
    monkeypatch.setattr(transfers, "_TASK_WAIT", 5.0)
    settings.STRIPE_EXPRESS = {**settings.STRIPE_EXPRESS, "PAYMENTS_PROCESSING": "task"}
    with TestCase.captureOnCommitCallbacks(execute=False):
        transfer = payments.pay(payee.user, 500, "usd", "on-a-worker")
    fake_stripe.fail_next("POST /v1/transfers", status=429)

    sent = send_committed(transfer.pk)  # what the worker's task runs

    assert sent.status == Status.SENT
    assert len(transfer_posts(fake_stripe)) == 2
    assert len(fake_stripe.transfers_made()) == 1
