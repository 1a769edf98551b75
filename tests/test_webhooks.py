"""The webhook view end to end: real signatures, real database, the fake Stripe."""

from __future__ import annotations

import datetime
import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from django_stripe_express import signals
from django_stripe_express.models import ExpressAccount, WebhookEvent
from django_stripe_express.testing import signature_header
from django_stripe_express.webhooks.store import process_event

from .factories import ExpressAccountFactory, WebhookEventFactory

URL = "/stripe/webhook/"
T0 = 1_700_000_000  # events' `created`, well after the accounts were connected


def at(ts: int) -> datetime.datetime:
    return datetime.datetime.fromtimestamp(ts, tz=datetime.timezone.utc)


@pytest.fixture
def received(db) -> Iterator[list[tuple[str, dict[str, Any]]]]:
    """Every signal this app sends, in order: (name, kwargs)."""
    seen: list[tuple[str, dict[str, Any]]] = []
    hooked = {
        "account_updated": signals.account_updated,
        "account_deauthorized": signals.account_deauthorized,
        "webhook_event": signals.webhook_event,
    }
    receivers = {}
    for name, signal in hooked.items():

        def receiver(sender: Any, _name: str = name, **kwargs: Any) -> None:
            kwargs.pop("signal")
            seen.append((_name, kwargs))

        receivers[name] = receiver
        signal.connect(receiver, weak=False)
    yield seen
    for name, signal in hooked.items():
        signal.disconnect(receivers[name])


@pytest.fixture
def onboarding_account(fake_stripe, db):
    """An account the platform knows as onboarding, and Stripe's copy of it."""
    account = ExpressAccountFactory(onboarding=True, connected_at=at(T0 - 3600))
    fake_stripe.create_account(id=account.stripe_id, email=account.email)
    return account


def deliver(fake, client: Client, event: dict[str, Any], **kwargs: Any):
    return fake.post_event(client, event, path=URL, **kwargs)


def test_reverse_matches_the_contract():
    assert reverse("stripe_express:webhook") == URL


# -- HTTP surface --------------------------------------------------------------


@pytest.mark.parametrize("method", ["get", "put", "delete"])
def test_only_post_is_allowed(client, db, method):
    response = getattr(client, method)(URL)
    assert response.status_code == 405
    assert not WebhookEvent.objects.exists()


def test_body_over_the_limit_is_413_and_stores_nothing(
    client, fake_stripe, onboarding_account, settings
):
    settings.STRIPE_EXPRESS = {**settings.STRIPE_EXPRESS, "WEBHOOK_MAX_BODY_SIZE": 1024}
    fake_stripe.complete_onboarding(onboarding_account.stripe_id)
    event = fake_stripe.build_event("account.updated", account=onboarding_account.stripe_id)
    response = deliver(fake_stripe, client, event)
    assert response.status_code == 413
    assert not WebhookEvent.objects.exists()
    onboarding_account.refresh_from_db()
    assert onboarding_account.status == ExpressAccount.Status.ONBOARDING


def test_the_webhook_alone_is_csrf_exempt(fake_stripe, onboarding_account, user):
    strict = Client(enforce_csrf_checks=True)
    event = fake_stripe.build_event("account.updated", account=onboarding_account.stripe_id)
    assert deliver(fake_stripe, strict, event).status_code == 200

    strict.force_login(user)
    for name in ("connect", "oauth_callback", "onboarding_refresh", "onboarding_return",
                 "dashboard", "disconnect"):
        response = strict.post(reverse(f"stripe_express:{name}"))
        assert response.status_code == 403, name


# -- bad input: 400, nothing stored, a log line naming the check -------------------


def _signed(payload: str, secret: str, timestamp: int | None = None) -> str:
    return signature_header(payload, secret, timestamp)


BAD = {
    "missing header": lambda body, secret: None,
    "no timestamp": lambda body, secret: _signed(body, secret).split(",", 1)[1],
    "no v1": lambda body, secret: _signed(body, secret).split(",", 1)[0] + ",v0=abc",
    "wrong secret": lambda body, secret: _signed(body, "whsec_someone_else"),
    "stale": lambda body, secret: _signed(body, secret, int(time.time()) - 301),
    "tampered body": lambda body, secret: _signed(body + " ", secret),
}
EXPECTED_LOG = {
    "missing header": "missing Stripe-Signature header",
    "no timestamp": "no timestamp",
    "no v1": "no v1 signature",
    "wrong secret": "Connect endpoints have their own signing secret",
    "stale": "outside the tolerance",
    "tampered body": "no signature matched",
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_signature_is_400_and_stores_nothing(
    client, fake_stripe, onboarding_account, caplog, case
):
    fake_stripe.complete_onboarding(onboarding_account.stripe_id)
    event = fake_stripe.build_event("account.updated", account=onboarding_account.stripe_id)
    body, _good = fake_stripe.signed(event)
    header = BAD[case](body, fake_stripe.webhook_secret)
    extra = {} if header is None else {"HTTP_STRIPE_SIGNATURE": header}
    with caplog.at_level(logging.WARNING, logger="django_stripe_express.webhooks"):
        response = client.post(URL, data=body, content_type="application/json", **extra)

    assert response.status_code == 400
    assert response["Content-Type"].startswith("text/plain")
    assert not WebhookEvent.objects.exists()
    onboarding_account.refresh_from_db()
    assert onboarding_account.status == ExpressAccount.Status.ONBOARDING
    assert EXPECTED_LOG[case] in caplog.text
    assert fake_stripe.webhook_secret not in caplog.text
    signatures = [part for part in (header or "").split(",") if part.startswith("v1=")]
    for part in signatures:
        assert part[3:] not in caplog.text


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ("{not json", "malformed JSON"),
        ("\xff\xfe", "malformed JSON"),
        ("[1, 2]", "not a Stripe event"),
        ('{"object": "customer", "id": "cus_1"}', "not a Stripe event"),
        ('{"object": "event", "id": "evt_1", "type": "account.updated"}', "not a Stripe event"),
        (
            '{"object": "event", "id": "evt_1", "type": "x", "created": "soon",'
            ' "data": {"object": {}}}',
            "not a Stripe event",
        ),
        ('{"object": "event", "id": 5, "type": "x", "created": 1, "data": {"object": {}}}',
         "not a Stripe event"),
    ],
)
def test_signed_garbage_is_400_and_stores_nothing(client, fake_stripe, db, caplog, body, reason):
    payload, header = fake_stripe.signed(body)
    with caplog.at_level(logging.WARNING, logger="django_stripe_express.webhooks"):
        response = client.post(
            URL, data=payload.encode(), content_type="application/json",
            HTTP_STRIPE_SIGNATURE=header,
        )
    assert response.status_code == 400
    assert response.content.decode() == reason
    assert reason in caplog.text
    assert not WebhookEvent.objects.exists()


def test_any_configured_secret_and_any_v1_is_accepted(
    client, fake_stripe, onboarding_account, settings
):
    # A Connect endpoint and the platform endpoint sign with different secrets.
    settings.STRIPE_EXPRESS = {
        **settings.STRIPE_EXPRESS,
        "WEBHOOK_SECRETS": ["whsec_platform", fake_stripe.webhook_secret],
    }
    event = fake_stripe.build_event("account.updated", account=onboarding_account.stripe_id)
    assert deliver(fake_stripe, client, event).status_code == 200

    # While Stripe rolls a secret it sends one v1 per secret.
    event = fake_stripe.build_event("account.updated", account=onboarding_account.stripe_id)
    body, header = fake_stripe.signed(event, secret="whsec_old_rolled")
    _, current = fake_stripe.signed(body)
    header = f"{header},{current.split(',')[1]}"
    response = client.post(URL, data=body, content_type="application/json",
                           HTTP_STRIPE_SIGNATURE=header)
    assert response.status_code == 200
    assert WebhookEvent.objects.count() == 2


# -- account.updated ------------------------------------------------------------------


def test_account_updated_is_applied_once_and_signalled_after_commit(
    client, fake_stripe, onboarding_account, received, django_capture_on_commit_callbacks
):
    fake_stripe.complete_onboarding(onboarding_account.stripe_id)
    event = fake_stripe.build_event(
        "account.updated", account=onboarding_account.stripe_id, created=T0
    )
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = deliver(fake_stripe, client, event)
        assert received == []  # nothing before the commit
    for callback in callbacks:
        callback()

    assert response.status_code == 200
    assert response.content == b"processed"
    account = ExpressAccount.objects.get(pk=onboarding_account.pk)
    assert account.status == ExpressAccount.Status.ENABLED
    assert account.charges_enabled
    assert account.payouts_enabled
    assert account.details_submitted
    assert account.capabilities == {"transfers": "active"}
    assert account.last_event_created == at(T0)
    stored = WebhookEvent.objects.get()
    assert (stored.stripe_id, stored.type, stored.account) == (
        event["id"], "account.updated", account.stripe_id
    )
    assert (stored.status, stored.attempts, stored.created) == ("processed", 1, at(T0))
    assert stored.payload == event
    assert [name for name, _ in received] == ["account_updated", "webhook_event"]
    updated = received[0][1]
    assert updated["account"].pk == account.pk
    assert updated["previous_status"] == ExpressAccount.Status.ONBOARDING
    assert updated["source"] == "webhook"
    assert updated["event"] == stored
    assert received[1][1]["applied"] is True
    assert received[1][1]["data"] == event

    # Stripe delivers it again: 200, nothing else.
    received.clear()
    with django_capture_on_commit_callbacks(execute=True):
        again = deliver(fake_stripe, client, event)
    assert (again.status_code, again.content) == (200, b"duplicate")
    assert received == []
    stored.refresh_from_db()
    assert stored.attempts == 1


def test_a_stale_event_is_recorded_and_not_applied(
    client, fake_stripe, onboarding_account, received, django_capture_on_commit_callbacks
):
    acct = onboarding_account.stripe_id
    old = fake_stripe.build_event("account.updated", account=acct, created=T0)  # onboarding
    fake_stripe.complete_onboarding(acct)
    new = fake_stripe.build_event("account.updated", account=acct, created=T0 + 5)
    with django_capture_on_commit_callbacks(execute=True):
        assert deliver(fake_stripe, client, new).status_code == 200
        response = deliver(fake_stripe, client, old)

    assert (response.status_code, response.content) == (200, b"ignored: stale")
    account = ExpressAccount.objects.get(pk=onboarding_account.pk)
    assert account.status == ExpressAccount.Status.ENABLED
    assert account.last_event_created == at(T0 + 5)
    stale = WebhookEvent.objects.get(stripe_id=old["id"])
    assert (stale.status, stale.detail) == ("ignored", "stale")
    assert received[-1][0] == "webhook_event"
    assert received[-1][1]["applied"] is False


def test_an_event_from_the_same_second_is_applied(client, fake_stripe, onboarding_account):
    acct = onboarding_account.stripe_id
    assert deliver(fake_stripe, client, fake_stripe.build_event(
        "account.updated", account=acct, created=T0)).status_code == 200
    fake_stripe.complete_onboarding(acct)
    response = deliver(fake_stripe, client, fake_stripe.build_event(
        "account.updated", account=acct, created=T0))
    assert response.content == b"processed"
    assert ExpressAccount.objects.get(pk=onboarding_account.pk).status == "enabled"


def test_a_failure_answers_500_and_the_retry_processes_it(
    client, fake_stripe, onboarding_account, settings, received,
    django_capture_on_commit_callbacks,
):
    settings.STRIPE_EXPRESS = {**settings.STRIPE_EXPRESS, "WEBHOOK_REFETCH_ACCOUNT": True}
    acct = onboarding_account.stripe_id
    fake_stripe.complete_onboarding(acct)
    event = fake_stripe.build_event("account.updated", account=acct, created=T0)
    fake_stripe.fail_next(f"GET /v1/accounts/{acct}", status=500, message="Stripe had a bad day")

    with django_capture_on_commit_callbacks(execute=True):
        response = deliver(fake_stripe, client, event)
    assert response.status_code == 500
    failed = WebhookEvent.objects.get()
    assert failed.status == "failed"
    assert failed.attempts == 1
    assert "Stripe had a bad day" in failed.detail
    assert fake_stripe.secret_key not in failed.detail
    assert ExpressAccount.objects.get(pk=onboarding_account.pk).status == "onboarding"
    assert received == []

    with django_capture_on_commit_callbacks(execute=True):
        retried = deliver(fake_stripe, client, event)
    assert (retried.status_code, retried.content) == (200, b"processed")
    failed.refresh_from_db()
    assert (failed.status, failed.attempts) == ("processed", 2)
    assert ExpressAccount.objects.get(pk=onboarding_account.pk).status == "enabled"
    assert [name for name, _ in received] == ["account_updated", "webhook_event"]


def test_refetch_reads_the_account_from_stripe(
    client, fake_stripe, onboarding_account, settings
):
    settings.STRIPE_EXPRESS = {**settings.STRIPE_EXPRESS, "WEBHOOK_REFETCH_ACCOUNT": True}
    acct = onboarding_account.stripe_id
    event = fake_stripe.build_event("account.updated", account=acct, created=T0)  # onboarding
    fake_stripe.complete_onboarding(acct)  # ... but Stripe has moved on since
    assert deliver(fake_stripe, client, event).status_code == 200
    assert ExpressAccount.objects.get(pk=onboarding_account.pk).status == "enabled"
    assert len(fake_stripe.requests_to(f"/v1/accounts/{acct}", "GET")) == 1


def test_refetch_is_skipped_for_a_stale_event(
    client, fake_stripe, onboarding_account, settings
):
    settings.STRIPE_EXPRESS = {**settings.STRIPE_EXPRESS, "WEBHOOK_REFETCH_ACCOUNT": True}
    ExpressAccount.objects.filter(pk=onboarding_account.pk).update(last_event_created=at(T0))
    event = fake_stripe.build_event(
        "account.updated", account=onboarding_account.stripe_id, created=T0 - 1
    )
    assert deliver(fake_stripe, client, event).content == b"ignored: stale"
    assert fake_stripe.requests_to("/v1/accounts") == []


def test_the_admin_can_process_a_failed_event_again(fake_stripe, onboarding_account):
    acct = onboarding_account.stripe_id
    fake_stripe.complete_onboarding(acct)
    event = fake_stripe.build_event("account.updated", account=acct, created=T0)
    stored = WebhookEventFactory(
        stripe_id=event["id"], account=acct, status="failed", payload=event, created=at(T0)
    )
    outcome = process_event(stored)
    assert outcome.status_code == 200
    stored.refresh_from_db()
    assert stored.status == "processed"
    assert ExpressAccount.objects.get(pk=onboarding_account.pk).status == "enabled"


# -- ignored events: recorded, 200 ---------------------------------------------------


def test_unknown_account_is_recorded_and_ignored(
    client, fake_stripe, received, django_capture_on_commit_callbacks
):
    stripe_account = fake_stripe.create_account()
    event = fake_stripe.build_event("account.updated", account=stripe_account["id"])
    with django_capture_on_commit_callbacks(execute=True):
        response = deliver(fake_stripe, client, event)
    assert (response.status_code, response.content) == (200, b"ignored: unknown account")
    stored = WebhookEvent.objects.get()
    assert (stored.status, stored.detail) == ("ignored", "unknown account")
    assert [(name, kw["applied"]) for name, kw in received] == [("webhook_event", False)]
    assert not ExpressAccount.objects.exists()
    # ... and a redelivery is a duplicate.
    assert deliver(fake_stripe, client, event).content == b"duplicate"


def test_other_types_are_recorded_signalled_and_ignored(
    client, fake_stripe, onboarding_account, received, django_capture_on_commit_callbacks
):
    event = fake_stripe.build_event(
        "payout.reconciliation_completed", account=onboarding_account.stripe_id,
        data_object={"id": "po_1", "object": "payout", "amount": 1000},
    )
    with django_capture_on_commit_callbacks(execute=True):
        response = deliver(fake_stripe, client, event)
    assert response.status_code == 200
    stored = WebhookEvent.objects.get()
    assert (stored.type, stored.status) == ("payout.reconciliation_completed", "ignored")
    assert "unhandled" in stored.detail
    assert received == [
        ("webhook_event", {"event": stored, "data": event, "fetched": None, "applied": False})
    ]


def test_an_event_of_the_other_mode_is_not_applied(client, fake_stripe, onboarding_account):
    fake_stripe.complete_onboarding(onboarding_account.stripe_id)
    event = fake_stripe.build_event(
        "account.updated", account=onboarding_account.stripe_id, livemode=True
    )
    response = deliver(fake_stripe, client, event)
    assert response.status_code == 200
    stored = WebhookEvent.objects.get()
    assert stored.status == "ignored"
    assert stored.livemode is True
    assert "mode" in stored.detail
    assert ExpressAccount.objects.get(pk=onboarding_account.pk).status == "onboarding"


def test_a_receiver_error_is_logged_and_does_not_undo_the_event(
    client, fake_stripe, onboarding_account, caplog, django_capture_on_commit_callbacks
):
    def broken(**kwargs: Any) -> None:
        raise RuntimeError("host bug")

    signals.account_updated.connect(broken, weak=False)
    try:
        with caplog.at_level(logging.ERROR), django_capture_on_commit_callbacks(execute=True):
            response = deliver(fake_stripe, client, fake_stripe.build_event(
                "account.updated", account=onboarding_account.stripe_id))
    finally:
        signals.account_updated.disconnect(broken)
    assert response.status_code == 200
    assert WebhookEvent.objects.get().status == "processed"
    assert "host bug" in caplog.text


# -- account.application.deauthorized ----------------------------------------------------


def test_deauthorized_disconnects_without_calling_stripe(
    client, fake_stripe, onboarding_account, received, django_capture_on_commit_callbacks
):
    event = fake_stripe.build_event(
        "account.application.deauthorized", account=onboarding_account.stripe_id, created=T0
    )
    before = len(fake_stripe.requests)
    with django_capture_on_commit_callbacks(execute=True):
        response = deliver(fake_stripe, client, event)
    assert response.status_code == 200
    account = ExpressAccount.objects.get(pk=onboarding_account.pk)
    assert account.deauthorized_at == at(T0)
    assert account.status == ExpressAccount.Status.DISCONNECTED
    assert len(fake_stripe.requests) == before
    assert [name for name, _ in received] == ["account_deauthorized", "webhook_event"]
    assert received[0][1]["account"].pk == account.pk
    assert received[0][1]["request"] is None
    assert received[0][1]["event"].stripe_id == event["id"]

    # A later account.updated keeps it disconnected.
    update = fake_stripe.build_event(
        "account.updated", account=account.stripe_id, created=T0 + 1
    )
    assert deliver(fake_stripe, client, update).status_code == 200
    assert ExpressAccount.objects.get(pk=account.pk).status == "disconnected"


def test_a_deauthorization_from_before_a_reconnection_is_stale(client, fake_stripe, db):
    account = ExpressAccountFactory(connected_at=timezone.now())
    event = fake_stripe.build_event(
        "account.application.deauthorized", account=account.stripe_id,
        created=int(time.time()) - 3600,
    )
    assert deliver(fake_stripe, client, event).content == b"ignored: stale"
    assert ExpressAccount.objects.get(pk=account.pk).is_connected


def test_an_already_disconnected_account_is_left_alone(client, fake_stripe, db, received):
    account = ExpressAccountFactory(disconnected=True)
    event = fake_stripe.build_event("account.application.deauthorized", account=account.stripe_id)
    response = deliver(fake_stripe, client, event)
    assert response.content == b"ignored: already disconnected"
    assert not [name for name, _ in received if name == "account_deauthorized"]


# -- capability.updated -------------------------------------------------------------


def capability_event(fake, acct: str, name: str, status: str, created: int) -> dict[str, Any]:
    fake.update_account(acct, capabilities={name: status})
    return fake.build_event("capability.updated", account=acct, capability=name, created=created)


def test_capability_updates_follow_the_ordering_rule(client, fake_stripe, db):
    account = ExpressAccountFactory(
        capabilities={"transfers": "inactive", "card_payments": "inactive"},
        connected_at=at(T0 - 3600),
    )
    acct = account.stripe_id
    fake_stripe.create_account(id=acct, capabilities={"transfers": "inactive"})
    newer = capability_event(fake_stripe, acct, "transfers", "active", T0 + 10)
    older = capability_event(fake_stripe, acct, "transfers", "pending", T0 + 5)
    other = capability_event(fake_stripe, acct, "card_payments", "active", T0 + 1)

    assert deliver(fake_stripe, client, newer).content == b"processed"
    assert deliver(fake_stripe, client, older).content == b"ignored: stale"
    assert deliver(fake_stripe, client, other).content == b"processed"  # its own mark
    account.refresh_from_db()
    assert account.capabilities == {"transfers": "active", "card_payments": "active"}
    assert account.capability_event_created == {"transfers": T0 + 10, "card_payments": T0 + 1}

    # An account.updated older than the transfers capability event keeps that
    # newer capability, and takes the rest.
    fake_stripe.update_account(
        acct, capabilities={"transfers": "inactive"}, email="new@example.com"
    )
    update = fake_stripe.build_event("account.updated", account=acct, created=T0 + 7)
    assert deliver(fake_stripe, client, update).content == b"processed"
    account.refresh_from_db()
    assert account.capabilities["transfers"] == "active"
    assert account.email == "new@example.com"
    # ... and a capability event older than that account.updated is stale.
    late = capability_event(fake_stripe, acct, "card_payments", "inactive", T0 + 6)
    assert deliver(fake_stripe, client, late).content == b"ignored: stale"


# -- queries ----------------------------------------------------------------------------

DATA = ("SELECT", "INSERT", "UPDATE", "DELETE")


@contextmanager
def data_queries(expected: list[str]) -> Iterator[None]:
    """The data queries run inside, by kind, must be `expected`; nothing else but
    transaction control (BEGIN, or a SAVEPOINT and its RELEASE inside a test)."""
    with CaptureQueriesContext(connection) as captured:
        yield
    sqls = [q["sql"] for q in captured.captured_queries]
    kinds = [sql.split(None, 1)[0].upper() for sql in sqls]
    assert [kind for kind in kinds if kind in DATA] == expected, sqls
    assert {kind for kind in kinds if kind not in DATA} <= {"BEGIN", "SAVEPOINT", "RELEASE"}, sqls
    assert len(kinds) - len(expected) <= 2, sqls


def test_query_counts(client, fake_stripe, onboarding_account):
    acct = onboarding_account.stripe_id
    fake_stripe.complete_onboarding(acct)
    new = fake_stripe.build_event("account.updated", account=acct, created=T0 + 10)
    stale = fake_stripe.build_event("account.updated", account=acct, created=T0)
    # Signed outside the measured blocks (the fake's own work is not the view's).
    new_body, new_header = fake_stripe.signed(new)
    stale_body, stale_header = fake_stripe.signed(stale)
    stripe_calls = len(fake_stripe.requests)

    def post(body: str, header: str):
        return client.post(URL, data=body, content_type="application/json",
                           HTTP_STRIPE_SIGNATURE=header)

    # The account, locked, with the event's stored status; its UPDATE; the
    # event's INSERT.
    with data_queries(["SELECT", "UPDATE", "INSERT"]):
        assert post(new_body, new_header).content == b"processed"
    with data_queries(["SELECT"]):  # already processed: the same first query says so
        assert post(new_body, new_header).content == b"duplicate"
    with data_queries(["SELECT", "INSERT"]):  # the event recorded as ignored
        assert post(stale_body, stale_header).content == b"ignored: stale"
    with data_queries(["SELECT"]):
        assert post(stale_body, stale_header).content == b"duplicate"
    assert len(fake_stripe.requests) == stripe_calls  # Stripe is never called


def test_the_account_is_read_locked(client, fake_stripe, onboarding_account):
    event = fake_stripe.build_event("account.updated", account=onboarding_account.stripe_id)
    with CaptureQueriesContext(connection) as captured:
        assert deliver(fake_stripe, client, event).content == b"processed"
    select = next(q["sql"] for q in captured.captured_queries if q["sql"].startswith("SELECT"))
    assert ("FOR UPDATE" in select) is connection.features.has_select_for_update


def test_account_updated_stores_future_requirements_and_deadlines(
    client, fake_stripe, onboarding_account
):
    acct = onboarding_account.stripe_id
    fake_stripe.complete_onboarding(acct)
    fake_stripe.require_by(acct, ["individual.verification.document"], T0 + 86400)
    fake_stripe.require_by(acct, ["company.tax_id"], T0 + 7 * 86400, future=True)
    event = fake_stripe.build_event("account.updated", account=acct, created=T0)

    assert fake_stripe.post_event(client, event).status_code == 200

    account = ExpressAccount.objects.get(pk=onboarding_account.pk)
    assert account.status == ExpressAccount.Status.ENABLED  # still, until the deadline
    assert account.currently_due == ["individual.verification.document"]
    assert account.current_deadline == T0 + 86400
    assert account.future_currently_due == ["company.tax_id"]
    assert account.future_deadline == T0 + 7 * 86400
