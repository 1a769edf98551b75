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

from django_stripe_express.testing import FakeStripe, objects_v2

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


# -- every route the fake serves, against stripe 16's types (issue 23, point 8) ----

#: Routes of the fake that are not Stripe's API: hosted pages, Connect.js's
#: stand-in and the fake's own controls (HTML, script, the fake's JSON).
NOT_STRIPE_API = {
    ("GET", "/express/oauth/authorize"),
    ("POST", "/express/oauth/authorize"),
    ("GET", r"/setup/e/(?P<acct>acct_\w+)/(?P<token>\w+)"),
    ("POST", r"/setup/e/(?P<acct>acct_\w+)/(?P<token>\w+)"),
    ("GET", r"/express/(?P<acct>acct_\w+)/(?P<token>\w+)"),
    ("GET", r"/connect\-js/v1\.0/connect\.js"),
    ("POST", r"/connect-js/v1\.0/frame/account_onboarding/submit"),
    ("GET", r"/connect-js/v1\.0/frame/(?P<component>[a-z_]+)"),
    ("POST", r"/connect-js/v1\.0/frame/(?P<component>[a-z_]+)"),
    ("GET", "/fake"),
    ("POST", r"/fake/accounts/(?P<acct>acct_\w+)/(?P<action>\w+)"),
    ("POST", "/fake/trigger"),
    ("GET", "/fake/deliveries"),
}

V2_ERROR_KEYS = {"type", "code", "message"}


def v2_account_states(fake: FakeStripe) -> list[str]:
    """A v2 account in each state the fake can put one in (ids)."""
    ids = []

    def new(**kwargs: Any) -> str:
        acct: str = fake.create_v2_account(contact_email="a@example.com", **kwargs)["id"]
        ids.append(acct)
        return acct

    new()
    new(merchant=True, dashboard="full")
    for change in (fake.complete_onboarding, fake.submit_for_verification, fake.start_review,
                   fake.require_verification):
        change(new(merchant=True))
    acct = new()
    fake.complete_onboarding(acct)
    fake.require_by(acct, ["configuration.recipient.default_outbound_destination"], 1_900_000_000)
    fake.require_by(acct, ["identity.business_details.id_numbers"], 1_950_000_000, future=True)
    for code, resolution in (("restricted_other", "contact_stripe"),
                             ("rejected_fraud", "no_resolution"),
                             ("determining_status", "provide_info")):
        acct = new()
        fake.complete_onboarding(acct)
        fake.set_capability(acct, "stripe_balance.stripe_transfers", "restricted", code=code,
                            resolution=resolution)
    fake.close_account(new())
    return ids


def _route_of(method: str, path: str) -> tuple[str, str] | None:
    from django_stripe_express.testing.fake import ROUTES

    for route_method, pattern, _handler in ROUTES:
        if route_method == method and pattern.fullmatch(path):
            return route_method, pattern.pattern
    return None


def test_every_route_answers_in_stripe_s_types(
    fake_stripe: FakeStripe, fake_stripe_client: stripe.StripeClient
) -> None:
    """Every object and error each Stripe route of the fake serves (v1 and v2),
    walked against stripe 16's classes: no key the type lacks, none it requires
    missing, enum values within its Literals. Routes are found from the fake's
    request log, so a route added to ROUTES without a walk here fails."""
    from django_stripe_express.testing.fake import ROUTES

    fake, client = fake_stripe, fake_stripe_client
    checked: list[tuple[Any, type]] = []

    def typed(obj: Any, cls: type) -> Any:
        checked.append((obj, cls))
        return obj

    # v1: accounts in every state, as created, read, listed; links, sessions, events.
    typed(client.v1.accounts.create({"type": "express"}), stripe.Account)
    typed(client.v1.accounts.create({"controller": {
        "fees": {"payer": "application_express"}, "losses": {"payments": "application"},
        "stripe_dashboard": {"type": "express"}, "requirement_collection": "stripe"}}),
        stripe.Account)
    states = account_states(fake)
    v1_ids = list(states.values())
    v2_ids = v2_account_states(fake)
    for acct in v1_ids + v2_ids:
        account = typed(client.v1.accounts.retrieve(acct), stripe.Account)
        for kind in ("account.updated", "capability.updated", "account.application.deauthorized"):
            event = client.v1.events.retrieve(fake.build_event(kind, account=acct)["id"])
            typed(event, stripe.Event)
            cls = {"account": stripe.Account, "capability": stripe.Capability,
                   "application": stripe.Application}[event.data.object.object]
            typed(event.data.object, cls)
        if account.details_submitted and not fake.account(acct).get("closed"):
            typed(client.v1.accounts.login_links.create(acct), stripe.LoginLink)
    for account in client.v1.accounts.list({"limit": 100}).data:
        typed(account, stripe.Account)
    typed(client.v1.account_links.create({
        "account": v1_ids[0], "type": "account_onboarding",
        "refresh_url": "http://t/a", "return_url": "http://t/b"}), stripe.AccountLink)
    typed(client.v1.account_sessions.create({
        "account": v1_ids[0],
        "components": {"account_onboarding": {"enabled": True}, "payouts": {"enabled": True}}}),
        stripe.AccountSession)

    # v2: accounts as created, read, updated, listed, closed; links; thin events.
    everything: Any = {"include": list(objects_v2.INCLUDABLE)}
    created = client.v2.core.accounts.create({
        "contact_email": "b@example.com", "dashboard": "express",
        "defaults": {"responsibilities": {"fees_collector": "application",
                                          "losses_collector": "application"}},
        "configuration": {
            "recipient": {"capabilities": {"stripe_balance": {"stripe_transfers": {
                "requested": True}}}},
            "merchant": {"capabilities": {"card_payments": {"requested": True}}}},
        **everything})
    typed(created, stripe.v2.core.Account)
    for acct in [created.id, *v2_ids]:
        typed(client.v2.core.accounts.retrieve(acct, everything), stripe.v2.core.Account)
        typed(client.v2.core.accounts.retrieve(acct), stripe.v2.core.Account)
        for type_ in ("v2.core.account.updated", "v2.core.account[requirements].updated",
                      "v2.core.account[future_requirements].updated",
                      "v2.core.account[configuration.recipient].capability_status_updated",
                      "v2.core.account_link.returned"):
            notification = fake.build_thin_event(type_, account=acct)
            full = client.v2.core.events.retrieve(notification["id"])
            typed(full, type(full))
            assert type(full) is not stripe.v2.core.Event, type_  # a class of its own
    typed(client.v2.core.accounts.update(created.id, {"display_name": "B", **everything}),
          stripe.v2.core.Account)
    for account in client.v2.core.accounts.list({"limit": 100}).data:
        typed(account, stripe.v2.core.Account)
    typed(client.v2.core.account_links.create({
        "account": created.id,
        "use_case": {"type": "account_onboarding", "account_onboarding": {
            "refresh_url": "http://t/a", "return_url": "http://t/b"}}}),
        stripe.v2.core.AccountLink)
    closed: Any = {"applied_configurations": ["recipient", "merchant"]}
    typed(client.v2.core.accounts.close(created.id, closed), stripe.v2.core.Account)

    # OAuth.
    token = client.oauth.token({"grant_type": "authorization_code", "code": fake.issue_code()})
    typed(token, stripe.OAuth.OAuthToken)
    typed(client.oauth.deauthorize({"stripe_user_id": token["stripe_user_id"]}),
          stripe.OAuth.OAuthDeauthorization)

    # Money: the platform's balance, transfers (created, read, listed), reversals,
    # and the error a short balance answers.
    fake.add_funds(5000, "usd")
    fake.add_funds(700, "usd", pending=True)
    typed(client.v1.balance.retrieve(), stripe.Balance)
    transfer = typed(client.v1.transfers.create(
        {"amount": 1200, "currency": "usd", "destination": states["enabled"],
         "transfer_group": "order:1", "metadata": {"django_stripe_express_reference": "order:1"}},
        {"idempotency_key": "walk-transfer-1"}), stripe.Transfer)
    typed(client.v1.transfers.retrieve(transfer.id), stripe.Transfer)
    for listed in client.v1.transfers.list({"transfer_group": "order:1"}).data:
        typed(listed, stripe.Transfer)
    typed(client.v1.transfers.reversals.create(transfer.id, {"amount": 200}),
          stripe.TransferReversal)
    # Destination charges: a PaymentIntent with transfer_data, paid, then refunded
    # with the transfer reversed; the events in their types.
    intent = typed(client.v1.payment_intents.create(
        {"amount": 2000, "currency": "usd", "application_fee_amount": 200,
         "transfer_data": {"destination": states["enabled"]}, "transfer_group": "order:2",
         "on_behalf_of": states["enabled"]}), stripe.PaymentIntent)
    paid = fake.succeed_payment_intent(intent.id)
    for event in paid:
        kind = {"transfer": stripe.Transfer, "charge": stripe.Charge,
                "payment_intent": stripe.PaymentIntent}[event["data"]["object"]["object"]]
        typed(client.v1.events.retrieve(event["id"]).data.object, kind)
    typed(client.v1.payment_intents.retrieve(intent.id), stripe.PaymentIntent)
    expanded = typed(client.v1.payment_intents.retrieve(intent.id, {"expand": ["latest_charge"]}),
                     stripe.PaymentIntent)
    assert isinstance(expanded.latest_charge, stripe.Charge)
    waiting = client.v1.payment_intents.create({"amount": 700, "currency": "usd"})
    confirmed = typed(client.v1.payment_intents.confirm(
        waiting.id, {"payment_method": "pm_card_visa"}), stripe.PaymentIntent)
    assert confirmed.status == "succeeded"
    typed(client.v1.refunds.create({"payment_intent": intent.id, "amount": 500,
                                    "reverse_transfer": True, "refund_application_fee": True}),
          stripe.Refund)
    for refund in client.v1.refunds.list({"payment_intent": intent.id}).data:
        typed(refund, stripe.Refund)
    for reversal in client.v1.transfers.reversals.list(fake.transfers_made()[-1]["id"]).data:
        typed(reversal, stripe.TransferReversal)
    with pytest.raises(stripe.StripeError) as short:
        client.v1.transfers.create(
            {"amount": 10**9, "currency": "usd", "destination": states["enabled"]},
            {"idempotency_key": "walk-transfer-2"})
    assert short.value.error is not None
    typed(short.value.error, stripe.ErrorObject)

    # A connected account's money: its balance, its payouts and their events, a
    # bank account changed.
    payee = states["enabled"]
    on_payee: Any = {"stripe_account": payee}
    fake.set_balance(payee, available=900, pending=-50, instant_available=400)
    typed(client.v1.balance.retrieve(options=on_payee), stripe.Balance)
    made = fake.create_payout(payee, 300)["data"]["object"]["id"]
    fake.create_payout(payee, 200, method="instant", automatic=False)
    events = [fake.settle_payout(made, "account_closed"),
              fake.update_external_account(payee)]
    typed(client.v1.payouts.retrieve(made, options=on_payee), stripe.Payout)
    for listed_payout in client.v1.payouts.list({"limit": 5}, on_payee).data:
        typed(listed_payout, stripe.Payout)
    for kept in events:
        event = typed(client.v1.events.retrieve(kept["id"]), stripe.Event)
        cls = {"payout": stripe.Payout, "bank_account": stripe.BankAccount}
        typed(event.data.object, cls[event.data.object.object])
    # Payout schedules: a v1 account's settings, Balance Settings (v2).
    typed(client.v1.accounts.update(payee, {"settings": {"payouts": {"schedule": {
        "interval": "monthly", "monthly_anchor": 15, "delay_days": 7}}}}), stripe.Account)
    typed(client.v1.balance_settings.retrieve(options=on_payee), stripe.BalanceSettings)
    typed(client.v1.balance_settings.update({"payments": {
        "payouts": {"schedule": {"interval": "weekly", "weekly_payout_days": ["friday"]}},
        "settlement_timing": {"delay_days_override": 10}}}, on_payee), stripe.BalanceSettings)
    # A manual payout (manual schedule first), and one beyond instant_available.
    client.v1.balance_settings.update(
        {"payments": {"payouts": {"schedule": {"interval": "manual"}}}}, on_payee)
    typed(client.v1.payouts.create({"amount": 100, "currency": "usd", "method": "instant"},
                                   {"stripe_account": payee, "idempotency_key": "walk-po-1"}),
          stripe.Payout)
    with pytest.raises(stripe.StripeError) as beyond:
        client.v1.payouts.create({"amount": 10**6, "currency": "usd", "method": "instant"},
                                 {"stripe_account": payee, "idempotency_key": "walk-po-2"})
    assert beyond.value.error is not None
    typed(beyond.value.error, stripe.ErrorObject)

    # Where events go: webhook endpoints (v1) and event destinations (v2).
    typed(client.v1.webhook_endpoints.create({"url": "http://t/hook", "connect": True,
                                              "enabled_events": ["payout.failed"]}),
          stripe.WebhookEndpoint)
    for endpoint in client.v1.webhook_endpoints.list().data:
        typed(endpoint, stripe.WebhookEndpoint)
    typed(client.v2.core.event_destinations.create({
        "name": "thin", "type": "webhook_endpoint", "event_payload": "thin",
        "enabled_events": ["v2.core.account.updated"], "events_from": ["@self"],
        "webhook_endpoint": {"url": "http://t/hook/thin"}}), stripe.v2.core.EventDestination)
    for destination in client.v2.core.event_destinations.list(
            {"include": ["webhook_endpoint.url"]}).data:
        typed(destination, stripe.v2.core.EventDestination)

    # Errors: v1 (typed ErrorObject), v2 (the v2 error body), on each route.
    for name, call in error_calls(fake, client).items():
        with pytest.raises(stripe.StripeError) as caught:
            call()
        assert caught.value.error is not None, name
        typed(caught.value.error, stripe.ErrorObject)
    acct = v2_ids[0]
    v2_errors = [
        lambda: client.v2.core.accounts.create({"dashboard": "express"}),
        lambda: client.v2.core.accounts.retrieve("acct_nope"),
        lambda: client.v2.core.accounts.update("acct_nope", {"display_name": "x"}),
        lambda: client.v2.core.accounts.close("acct_nope"),
        lambda: client.v2.core.accounts.list({"limit": 1000}),
        lambda: client.v2.core.account_links.create(
            {"account": acct, "use_case": {"type": "account_update", "account_update": {
                "refresh_url": "http://t/a"}}}),
        lambda: client.v2.core.events.retrieve("evt_nope"),
    ]

    def planned(status: int) -> Any:
        def call() -> Any:
            fake.fail_next("GET /v2/core/accounts", status=status)
            return client.v2.core.accounts.retrieve(acct)

        return call

    v2_errors += [planned(429), planned(500)]
    for call in v2_errors:
        with pytest.raises(stripe.StripeError) as caught_v2:
            call()
        body = caught_v2.value.json_body
        assert isinstance(body, dict), body
        assert set(body) == {"error"}, body
        assert set(body["error"]) <= V2_ERROR_KEYS, body
        assert isinstance(body["error"]["type"], str), body
        assert body["error"]["message"], body

    found = sorted({p for obj, cls in checked for p in problems(obj, cls)})
    assert found == [], "\n".join(found)
    served = {_route_of(r.method, r.path) for r in fake.requests}
    api_routes = {(method, pattern.pattern) for method, pattern, _ in ROUTES} - NOT_STRIPE_API
    assert api_routes - served == set(), "routes the walk does not reach"
    assert {(m, p.pattern) for m, p, _ in ROUTES} >= NOT_STRIPE_API


def test_the_key_walk_can_fail(
    fake_stripe: FakeStripe, fake_stripe_client: stripe.StripeClient
) -> None:
    # A key Stripe's class does not declare, top-level and nested, is named.
    acct = fake_stripe.create_account(colour="red", requirements={"mood": "calm"})["id"]
    account = fake_stripe_client.v1.accounts.retrieve(acct)
    assert sorted(extras(account, stripe.Account)) == ["colour", "requirements.mood"]
