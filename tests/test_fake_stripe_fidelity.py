"""The fake's objects have the shapes of Stripe's: stripe 16's typed classes.

Every key the fake answers is one the library's class declares (`extras`),
and every attribute fits its annotation (`stripe_types.problems`): the
library every install has is the reference, not files outside the repository.
"""

from __future__ import annotations

import typing
from typing import Any

import pytest
import stripe
from stripe import StripeObject

from django_stripe_express.testing import FakeStripe

from .stripe_types import hints, problems


def _stripe_class(tp: Any) -> Any:
    """The StripeObject class in annotation ``tp`` (through Optional and List), or None."""
    for arm in (tp, *typing.get_args(tp)):
        target = typing.get_origin(arm) or arm
        if isinstance(target, type) and issubclass(target, StripeObject):
            return arm
        if target is list:
            return _stripe_class(typing.get_args(arm)[0])
    return None


def _keys(obj: StripeObject) -> list[str]:
    """The keys Stripe's answer carried (stripe 16's objects are not dicts)."""
    return list(obj.to_dict(recursive=False))


def extras(obj: StripeObject, cls: type, path: str = "") -> list[str]:
    """Keys of ``obj`` (and of its nested objects) that ``cls`` does not declare."""
    declared = hints(cls)
    found: list[str] = []
    for name in _keys(obj):
        where = f"{path}.{name}" if path else name
        if name not in declared:
            found.append(where)
            continue
        inner = _stripe_class(declared[name])
        target = typing.get_origin(inner) or inner
        if inner is None or target.__name__ in ("ListObject", "UntypedStripeObject"):
            continue
        value = getattr(obj, name)
        items = value if isinstance(value, list) else [value]
        for item in items:
            if isinstance(item, StripeObject):
                found += extras(item, target, where)
    return found


def shaped(obj: StripeObject, cls: type) -> None:
    """``obj`` is a ``cls``: no key it does not declare, every attribute fitting."""
    assert isinstance(obj, cls), type(obj)
    assert extras(obj, cls) == []
    assert problems(obj, cls) == []


def test_account_has_stripes_keys_and_nothing_else(
    fake_stripe: FakeStripe, fake_stripe_client: stripe.StripeClient
) -> None:
    client = fake_stripe_client
    created = client.v1.accounts.create({"type": "express"})
    shaped(created, stripe.Account)
    assert created.type == "express"
    fake_stripe.complete_onboarding(created.id)
    completed = client.v1.accounts.retrieve(created.id)
    shaped(completed, stripe.Account)
    for nested in ("requirements", "future_requirements", "tos_acceptance", "settings"):
        assert nested in completed, nested
    # An Express account as Stripe captures show one: the keys an integration reads.
    for key in ("charges_enabled", "payouts_enabled", "details_submitted", "capabilities",
                "country", "default_currency", "email", "business_type"):
        assert key in completed, key


def test_links_and_capability_shapes(
    fake_stripe: FakeStripe, fake_stripe_client: stripe.StripeClient
) -> None:
    client = fake_stripe_client
    acct = fake_stripe.create_account()["id"]
    link = client.v1.account_links.create(
        {
            "account": acct,
            "type": "account_onboarding",
            "refresh_url": "http://t/refresh",
            "return_url": "http://t/return",
        }
    )
    shaped(link, stripe.AccountLink)
    fake_stripe.complete_onboarding(acct)
    shaped(client.v1.accounts.login_links.create(acct), stripe.LoginLink)
    event_id = fake_stripe.build_event("capability.updated", account=acct, capability="transfers")
    capability = client.v1.events.retrieve(event_id["id"]).data.object
    shaped(capability, stripe.Capability)
    assert "requirements" in capability


def test_event_shapes(fake_stripe: FakeStripe, fake_stripe_client: stripe.StripeClient) -> None:
    client = fake_stripe_client
    acct = fake_stripe.create_account()["id"]
    built = fake_stripe.build_event(
        "account.updated", account=acct, previous_attributes={"metadata": {}}
    )
    event = client.v1.events.retrieve(built["id"])
    shaped(event, stripe.Event)
    shaped(event.data.object, stripe.Account)
    # A Connect event names the connected account on its envelope.
    assert event.account == acct
    assert {"object", "previous_attributes"} <= set(_keys(event.data))
    assert {"id", "idempotency_key"} <= set(_keys(event.request))

    deauth = client.v1.events.retrieve(
        fake_stripe.build_event("account.application.deauthorized", account=acct)["id"]
    )
    shaped(deauth, stripe.Event)
    shaped(deauth.data.object, stripe.Application)
    assert deauth.data.object.id == fake_stripe.client_id
    assert deauth.account == acct

    capability = client.v1.events.retrieve(
        fake_stripe.build_event("capability.updated", account=acct)["id"]
    )
    shaped(capability.data.object, stripe.Capability)


def test_token_response_has_the_documented_keys(
    fake_stripe: FakeStripe, fake_stripe_client: stripe.StripeClient
) -> None:
    token = fake_stripe_client.oauth.token(
        {"grant_type": "authorization_code", "code": fake_stripe.issue_code()}
    )
    assert set(_keys(token)) == {
        "access_token",
        "livemode",
        "refresh_token",
        "token_type",
        "stripe_publishable_key",
        "stripe_user_id",
        "scope",
    }


# -- typed: every answer deserializes into stripe 16's classes ------------------


def fits(obj: Any, cls: type) -> None:
    """``obj`` is a ``cls`` and every attribute fits its annotation."""
    assert isinstance(obj, cls), type(obj)
    assert problems(obj, cls) == []


def account_states(fake: FakeStripe) -> dict[str, str]:
    """An account in each state the fake can put one in: name -> id."""
    new = fake.create_account(capabilities={"transfers": "inactive", "card_payments": "inactive"})
    states = {"new": new["id"]}
    for name, change in {
        "enabled": fake.complete_onboarding,
        "pending_verification": fake.submit_for_verification,
        "review": fake.start_review,
        "restricted": fake.require_verification,
    }.items():
        acct = fake.create_account(capabilities={"transfers": "inactive"})["id"]
        change(acct)
        states[name] = acct
    acct = fake.create_account()["id"]
    fake.complete_onboarding(acct)
    fake.require_by(acct, ["external_account"], 1_900_000_000)
    fake.require_by(acct, ["company.tax_id"], 1_950_000_000, future=True)
    states["enabled_with_deadlines"] = acct
    for reason in ("rejected.fraud", "rejected.platform_other", "platform_paused", "listed"):
        acct = fake.create_account(capabilities={"transfers": "inactive"})["id"]
        fake.require_verification(acct, [], disabled_reason=reason)
        states[reason] = acct
    return states


def test_every_account_answer_is_a_typed_account(
    fake_stripe: FakeStripe, fake_stripe_client: stripe.StripeClient
) -> None:
    client = fake_stripe_client
    created = client.v1.accounts.create(
        {"type": "express", "capabilities": {"transfers": {"requested": True}}}
    )
    fits(created, stripe.Account)
    for state, acct in account_states(fake_stripe).items():
        account = client.v1.accounts.retrieve(acct)
        fits(account, stripe.Account)
        assert account.requirements is not None, state
    listed = client.v1.accounts.list({"limit": 100})
    assert isinstance(listed, stripe.ListObject)
    for account in listed.data:
        fits(account, stripe.Account)


def test_capabilities_links_and_events_are_typed(
    fake_stripe: FakeStripe, fake_stripe_client: stripe.StripeClient
) -> None:
    client = fake_stripe_client
    for acct in account_states(fake_stripe).values():
        for kind in ("account.updated", "capability.updated", "account.application.deauthorized"):
            event = client.v1.events.retrieve(fake_stripe.build_event(kind, account=acct)["id"])
            fits(event, stripe.Event)
            cls = {"account": stripe.Account, "capability": stripe.Capability,
                   "application": stripe.Application}[event.data.object.object]
            assert problems(event.data.object, cls) == []
    enabled = account_states(fake_stripe)["enabled"]
    link = client.v1.account_links.create(
        {"account": enabled, "type": "account_onboarding",
         "refresh_url": "http://t/a", "return_url": "http://t/b"}
    )
    fits(link, stripe.AccountLink)
    fits(client.v1.accounts.login_links.create(enabled), stripe.LoginLink)


def test_oauth_answers_are_typed(
    fake_stripe: FakeStripe, fake_stripe_client: stripe.StripeClient
) -> None:
    token = fake_stripe_client.oauth.token(
        {"grant_type": "authorization_code", "code": fake_stripe.issue_code()}
    )
    assert problems(token, stripe.OAuth.OAuthToken) == []
    done = fake_stripe_client.oauth.deauthorize({"stripe_user_id": token["stripe_user_id"]})
    assert problems(done, stripe.OAuth.OAuthDeauthorization) == []


ERROR_TYPES = {"api_error", "card_error", "idempotency_error", "invalid_request_error"}


def error_calls(fake: FakeStripe, client: stripe.StripeClient) -> dict[str, Any]:
    """One call per kind of error the fake answers: name -> zero-argument call."""
    acct = fake.create_account()["id"]
    gone = fake.create_account()["id"]
    fake.deauthorize(gone)

    def planned(status: int, **kwargs: Any) -> Any:
        def call() -> Any:
            fake.fail_next("GET /v1/accounts", status=status, **kwargs)
            return client.v1.accounts.retrieve(acct)

        return call

    def reused_key() -> Any:
        client.v1.accounts.create({"type": "express"}, {"idempotency_key": "fidelity"})
        return client.v1.accounts.create(
            {"type": "express", "country": "FR"}, {"idempotency_key": "fidelity"}
        )

    def key_in_use() -> Any:
        fake.in_flight.add(("", "busy"))
        try:
            return client.v1.accounts.create({"type": "express"}, {"idempotency_key": "busy"})
        finally:
            fake.in_flight.clear()

    return {
        "account_invalid": lambda: client.v1.accounts.retrieve(gone),
        "parameter_unknown": lambda: client.v1.accounts.create({"colour": "red"}),  # type: ignore[typeddict-unknown-key]
        "parameter_missing": lambda: client.v1.account_links.create({"type": "account_onboarding"}),  # type: ignore[typeddict-item]
        "parameter_invalid_empty": lambda: client.v1.accounts.create({"email": ""}),
        "parameter_invalid_integer": lambda: client.v1.accounts.list({"limit": "x"}),  # type: ignore[typeddict-item]
        "invalid_enum": lambda: client.v1.accounts.create({"business_type": "llc"}),  # type: ignore[typeddict-item]
        "login_link_refused": lambda: client.v1.accounts.login_links.create(acct),
        "idempotency_error": reused_key,
        "idempotency_key_in_use": key_in_use,
        "unauthenticated": lambda: stripe.StripeClient(
            "sk_test_wrong", base_addresses={"api": fake.url}, max_network_retries=0
        ).v1.accounts.list(),
        "rate_limit": planned(429),
        "lock_timeout": planned(409),
        "server_error": planned(500),
        "permission": planned(403),
    }


def test_every_error_body_is_a_typed_error(
    fake_stripe: FakeStripe, fake_stripe_client: stripe.StripeClient
) -> None:
    for name, call in error_calls(fake_stripe, fake_stripe_client).items():
        with pytest.raises(stripe.StripeError) as caught:
            call()
        error = caught.value.error
        assert isinstance(error, stripe.ErrorObject), name
        assert problems(error, stripe.ErrorObject) == [], name
        assert error.type in ERROR_TYPES, name
        assert error.message, name
        if error.code:
            assert error.doc_url == (
                f"https://stripe.com/docs/error-codes/{error.code.replace('_', '-')}"
            ), name
        assert str(caught.value.request_id).startswith("req_"), name


def test_oauth_error_bodies_are_typed(
    fake_stripe: FakeStripe, fake_stripe_client: stripe.StripeClient
) -> None:
    with pytest.raises(stripe.oauth_error.InvalidGrantError) as caught:
        fake_stripe_client.oauth.token({"grant_type": "authorization_code", "code": "ac_nope"})
    assert caught.value.code == "invalid_grant"
    assert caught.value.error is not None
    assert caught.value.error.error == "invalid_grant"
    assert "ac_nope" in caught.value.error.error_description


def test_the_key_walk_can_fail(
    fake_stripe: FakeStripe, fake_stripe_client: stripe.StripeClient
) -> None:
    # A key Stripe's class does not declare, top-level and nested, is named.
    acct = fake_stripe.create_account(colour="red", requirements={"mood": "calm"})["id"]
    account = fake_stripe_client.v1.accounts.retrieve(acct)
    assert sorted(extras(account, stripe.Account)) == ["colour", "requirements.mood"]
