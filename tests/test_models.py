import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from django_stripe_express.models import ConnectAttempt, ExpressAccount, WebhookEvent

from .factories import (
    ConnectAttemptFactory,
    ExpressAccountFactory,
    UserFactory,
    WebhookEventFactory,
)

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("traits", "status"),
    [
        ({}, "enabled"),
        ({"onboarding": True}, "onboarding"),
        ({"restricted": True}, "restricted"),
        ({"pending": True}, "pending_verification"),
        ({"rejected": True}, "disabled"),
        ({"disconnected": True}, "disconnected"),
        ({"charges_enabled": False}, "restricted"),
        ({"disconnected": True, "rejected": True}, "disconnected"),
    ],
)
def test_status_is_derived_and_stored(traits, status):
    account = ExpressAccountFactory(**traits)
    assert account.status == status
    assert ExpressAccount.objects.filter(status=status).get() == account


def test_status_follows_changes_saved_with_update_fields():
    account = ExpressAccountFactory(onboarding=True)
    account.details_submitted = True
    account.charges_enabled = account.payouts_enabled = True
    account.requirements = {}
    account.disabled_reason = ""
    account.save(update_fields=["details_submitted", "charges_enabled", "payouts_enabled",
                                "requirements", "disabled_reason"])
    account.refresh_from_db()
    assert account.status == ExpressAccount.Status.ENABLED


def test_enabled_account_with_items_due_later_stays_enabled():
    account = ExpressAccountFactory(
        requirements={"currently_due": ["individual.id_number"], "past_due": []}
    )
    assert account.status == "enabled"
    assert account.currently_due == ["individual.id_number"]


def test_one_account_per_stripe_id():
    account = ExpressAccountFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        ExpressAccountFactory(stripe_id=account.stripe_id)


def test_one_account_per_user_and_mode():
    account = ExpressAccountFactory(livemode=False)
    ExpressAccountFactory(user=account.user, livemode=True)
    with pytest.raises(IntegrityError), transaction.atomic():
        ExpressAccountFactory(user=account.user, livemode=False)


def test_one_event_per_stripe_event_id():
    event = WebhookEventFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        WebhookEventFactory(stripe_id=event.stripe_id)


def test_state_is_unique():
    attempt = ConnectAttemptFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        ConnectAttemptFactory(state=attempt.state)


def test_readable_strings():
    user = UserFactory(username="marie")
    account = ExpressAccountFactory(user=user, stripe_id="acct_123", restricted=True)
    assert str(account) == "acct_123 (test, Restricted) for marie"
    attempt = ConnectAttemptFactory(user=user, outcome=ConnectAttempt.Outcome.DECLINED)
    assert str(attempt).startswith("OAuth attempt by marie on ")
    assert str(attempt).endswith(": Declined by the user")
    event = WebhookEventFactory(stripe_id="evt_1", status=WebhookEvent.Status.FAILED)
    assert str(event) == "account.updated evt_1 (Failed)"


def test_requirement_helpers_and_dashboard_link():
    account = ExpressAccountFactory(restricted=True, stripe_id="acct_9")
    assert account.past_due == ["individual.verification.document"]
    assert account.pending_verification == []
    assert account.dashboard_url == "https://dashboard.stripe.com/test/connect/accounts/acct_9"
    account.livemode = True
    assert account.dashboard_url == "https://dashboard.stripe.com/connect/accounts/acct_9"


def test_querysets():
    live = ExpressAccountFactory(livemode=True)
    gone = ExpressAccountFactory(disconnected=True)
    assert list(ExpressAccount.objects.for_mode(True)) == [live]
    assert gone not in ExpressAccount.objects.connected()
    assert live in ExpressAccount.objects.connected()


def test_attempt_expiry():
    attempt = ConnectAttemptFactory(expires_at=timezone.now() - timezone.timedelta(seconds=1))
    assert attempt.is_expired
    assert attempt.is_pending
