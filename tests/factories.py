"""factory-boy factories for users, accounts, attempts and events."""

from __future__ import annotations

import datetime
import secrets

import factory
from django.contrib.auth import get_user_model
from django.utils import timezone

from django_stripe_express.models import (
    ConnectAttempt,
    ExpressAccount,
    Payout,
    WebhookEvent,
    hash_state,
)


def stripe_id(prefix: str) -> str:
    return f"{prefix}_{secrets.token_hex(8)}"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.com")
    first_name = "Ada"
    last_name = "Lovelace"
    password = factory.django.Password("password")


class ExpressAccountFactory(factory.django.DjangoModelFactory):
    """An account in the `enabled` state unless told otherwise (see the traits)."""

    class Meta:
        model = ExpressAccount

    user = factory.SubFactory(UserFactory)
    stripe_id = factory.LazyFunction(lambda: stripe_id("acct"))
    livemode = False
    charges_enabled = True
    payouts_enabled = True
    details_submitted = True
    requirements = factory.LazyFunction(
        lambda: {
            "currently_due": [],
            "eventually_due": [],
            "past_due": [],
            "pending_verification": [],
            "errors": [],
            "disabled_reason": None,
            "current_deadline": None,
        }
    )
    capabilities = factory.LazyFunction(lambda: {"transfers": "active"})
    country = "US"
    email = factory.LazyAttribute(lambda a: a.user.email)
    business_type = "individual"
    default_currency = "usd"

    class Params:
        onboarding = factory.Trait(
            details_submitted=False,
            charges_enabled=False,
            payouts_enabled=False,
            requirements={
                "currently_due": ["external_account", "tos_acceptance.date"],
                "eventually_due": ["external_account", "tos_acceptance.date"],
                "past_due": ["external_account", "tos_acceptance.date"],
                "pending_verification": [],
                "errors": [],
                "disabled_reason": "requirements.past_due",
                "current_deadline": None,
            },
            disabled_reason="requirements.past_due",
            capabilities={"transfers": "inactive"},
        )
        restricted = factory.Trait(
            payouts_enabled=False,
            requirements={
                "currently_due": ["individual.verification.document"],
                "eventually_due": ["individual.verification.document"],
                "past_due": ["individual.verification.document"],
                "pending_verification": [],
                "errors": [],
                "disabled_reason": "requirements.past_due",
                "current_deadline": None,
            },
            disabled_reason="requirements.past_due",
        )
        pending = factory.Trait(
            charges_enabled=False,
            payouts_enabled=False,
            requirements={
                "currently_due": [],
                "eventually_due": [],
                "past_due": [],
                "pending_verification": ["individual.id_number"],
                "errors": [],
                "disabled_reason": "requirements.pending_verification",
                "current_deadline": None,
            },
            disabled_reason="requirements.pending_verification",
        )
        rejected = factory.Trait(
            charges_enabled=False,
            payouts_enabled=False,
            disabled_reason="rejected.fraud",
        )
        disconnected = factory.Trait(
            deauthorized_at=factory.LazyFunction(timezone.now),
        )


class ConnectAttemptFactory(factory.django.DjangoModelFactory):
    """An attempt whose ``.state`` is the raw state (only its hash is stored)."""

    class Meta:
        model = ConnectAttempt

    user = factory.SubFactory(UserFactory)
    state = factory.LazyFunction(lambda: secrets.token_urlsafe(32))
    state_hash = factory.LazyAttribute(lambda a: hash_state(a.state))
    expires_at = factory.LazyFunction(lambda: timezone.now() + datetime.timedelta(hours=1))

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        state = kwargs.pop("state")
        attempt = super()._create(model_class, *args, **kwargs)
        attempt.state = state  # what Stripe would send back; the database never sees it
        return attempt


class WebhookEventFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = WebhookEvent

    stripe_id = factory.LazyFunction(lambda: stripe_id("evt"))
    type = "account.updated"
    account = factory.LazyFunction(lambda: stripe_id("acct"))
    livemode = False
    created = factory.LazyFunction(timezone.now)
    status = WebhookEvent.Status.PROCESSED
    payload = factory.LazyAttribute(
        lambda e: {"id": e.stripe_id, "object": "event", "type": e.type, "account": e.account}
    )


class PayoutFactory(factory.django.DjangoModelFactory):
    """A payout of an account to its bank, as Stripe's ``payout.*`` events record it."""

    class Meta:
        model = Payout

    stripe_id = factory.LazyFunction(lambda: stripe_id("po"))
    account = factory.SubFactory(ExpressAccountFactory)
    amount = 1000
    currency = "usd"
    status = Payout.Status.PAID
    created = factory.LazyFunction(timezone.now)
    arrival_date = factory.LazyAttribute(lambda p: p.created + datetime.timedelta(days=2))
    method = "standard"

    class Params:
        failed = factory.Trait(
            status=Payout.Status.FAILED, failure_code="account_closed",
            failure_message="The bank account has been closed.",
        )
