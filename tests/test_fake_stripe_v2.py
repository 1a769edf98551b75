"""The fake's ``/v2`` endpoints, through the real stripe library and its typed v2 objects.

Fidelity: every answer deserializes into stripe 16's typed classes and has
every field those classes declare (Stripe sends ``null`` rather than leaving
a field out), so code tested against the fake reads what it reads from Stripe.
"""

from __future__ import annotations

import json
import time
import typing
from typing import Any

import pytest
import requests
import stripe
from stripe.v2.core import Account, AccountLink, Event

from django_stripe_express.testing import FakeStripe, objects_v2

EXPRESS = {
    "dashboard": "express",
    "defaults": {
        "responsibilities": {"fees_collector": "application", "losses_collector": "application"}
    },
    "configuration": {
        "recipient": {
            "capabilities": {"stripe_balance": {"stripe_transfers": {"requested": True}}}
        },
        "merchant": {"capabilities": {"card_payments": {"requested": True}}},
    },
    "contact_email": "ann@example.com",
    "display_name": "Ann",
    "identity": {"country": "gb", "entity_type": "individual"},
    "metadata": {"platform_user_id": "7"},
}
ALL = list(objects_v2.INCLUDABLE)


def declared(cls: type) -> set[str]:
    """The public fields a stripe typed class declares."""
    return {
        name
        for name in typing.get_type_hints(cls)
        if not name.startswith("_") and name != "OBJECT_NAME"
    }


def assert_complete(obj: Any, cls: type) -> None:
    """``obj`` has each field ``cls`` declares (values may be null)."""
    present = set(obj.to_dict()) if isinstance(obj, stripe.StripeObject) else set(obj)
    assert declared(cls) <= present, f"{cls.__qualname__} lacks {declared(cls) - present}"


@pytest.fixture
def client(fake_stripe_client: stripe.StripeClient) -> stripe.StripeClient:
    return fake_stripe_client


def create(client: stripe.StripeClient, **changes: Any) -> Account:
    """Create with `EXPRESS`, changed by ``changes`` (None leaves a parameter out)."""
    params: Any = {**EXPRESS, "include": ALL, **changes}
    return client.v2.core.accounts.create({k: v for k, v in params.items() if v is not None})


def test_created_account_is_a_typed_v2_account(client: stripe.StripeClient) -> None:
    account = create(client)

    assert isinstance(account, Account)
    assert_complete(account, Account)
    assert account.object == "v2.core.account"
    assert account.id.startswith("acct_")
    assert account.dashboard == "express"
    assert account.applied_configurations == ["recipient", "merchant"]
    assert account.contact_email == "ann@example.com"
    assert account.identity is not None
    assert_complete(account.identity, Account.Identity)
    assert (account.identity.country, account.identity.entity_type) == ("GB", "individual")
    assert account.defaults is not None
    assert_complete(account.defaults, Account.Defaults)
    assert_complete(account.defaults.responsibilities, Account.Defaults.Responsibilities)
    assert account.defaults.responsibilities.requirements_collector == "stripe"
    assert account.configuration is not None
    recipient = account.configuration.recipient
    assert recipient is not None
    assert_complete(recipient, Account.Configuration.Recipient)
    transfers = recipient.capabilities.stripe_balance.stripe_transfers  # type: ignore[union-attr]
    assert_complete(
        transfers, Account.Configuration.Recipient.Capabilities.StripeBalance.StripeTransfers
    )
    assert transfers.status == "restricted"
    (detail,) = transfers.status_details
    assert (detail.code, detail.resolution) == ("requirements_past_due", "provide_info")
    merchant = account.configuration.merchant
    assert merchant is not None
    assert_complete(merchant, Account.Configuration.Merchant)
    assert merchant.capabilities.card_payments.status == "restricted"  # type: ignore[union-attr]
    assert account.requirements is not None
    assert_complete(account.requirements, Account.Requirements)
    first = account.requirements.entries[0]  # type: ignore[index]
    assert_complete(first, Account.Requirements.Entry)
    assert first.awaiting_action_from == "user"
    # A new account owes its onboarding now, not late (issue 23, point 8).
    assert first.minimum_deadline.status == "currently_due"
    assert [r.code for r in first.requested_reasons] == ["routine_onboarding"]
    restricted = first.impact.restricts_capabilities  # type: ignore[union-attr]
    assert {(r.configuration, r.capability) for r in restricted} == {
        ("recipient", "stripe_balance.stripe_transfers"),
        ("merchant", "card_payments"),
    }
    assert account.requirements.summary.minimum_deadline.status == "currently_due"  # type: ignore[union-attr]
    assert account.created.endswith("Z")


def test_include_decides_what_is_sent(client: stripe.StripeClient) -> None:
    acct = create(client, include=None).id

    bare = client.v2.core.accounts.retrieve(acct)
    assert bare.configuration is None
    assert bare.requirements is None
    assert bare.identity is None
    assert bare.defaults is None
    some: Any = {"include": ["requirements", "configuration.recipient"]}
    partial = client.v2.core.accounts.retrieve(acct, some)
    assert partial.requirements is not None
    assert partial.configuration is not None
    assert partial.configuration.merchant is None
    assert partial.configuration.recipient is not None
    assert partial.identity is None


def test_completing_onboarding_activates_every_capability(
    fake_stripe: FakeStripe, client: stripe.StripeClient
) -> None:
    acct = create(client).id

    fake_stripe.complete_onboarding(acct)

    account = client.v2.core.accounts.retrieve(acct, {"include": ALL})  # type: ignore[typeddict-item]
    assert account.requirements.entries == []  # type: ignore[union-attr]
    capabilities = account.configuration.recipient.capabilities  # type: ignore[union-attr]
    assert capabilities.stripe_balance.stripe_transfers.status == "active"  # type: ignore[union-attr]
    assert capabilities.stripe_balance.stripe_transfers.status_details == []  # type: ignore[union-attr]


def test_update_and_close(fake_stripe: FakeStripe, client: stripe.StripeClient) -> None:
    acct = create(client).id

    updated = client.v2.core.accounts.update(
        acct, {"display_name": "Ann's", "metadata": {"platform_user_id": None, "plan": "pro"}}
    )
    assert updated.display_name == "Ann's"
    assert updated.metadata.to_dict() == {"plan": "pro"}  # type: ignore[union-attr]  # null removes
    closed = client.v2.core.accounts.close(
        acct, {"applied_configurations": ["merchant", "recipient"]}
    )
    assert closed.closed is True
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.accounts.login_links.create(acct)


def test_list_pages_with_page_urls(fake_stripe: FakeStripe, client: stripe.StripeClient) -> None:
    for i in range(5):
        fake_stripe.create_v2_account(contact_email=f"u{i}@example.com", created=1_700_000_000 + i)
    fake_stripe.create_account()  # a v1 account: not in the v2 list
    closed = fake_stripe.create_v2_account(contact_email="gone@example.com")["id"]
    fake_stripe.close_account(closed)

    page = client.v2.core.accounts.list({"limit": 2})

    assert isinstance(page, stripe.v2.ListObject)
    assert len(page.data) == 2
    assert page.next_page_url is not None
    assert [a.contact_email for a in page.auto_paging_iter()] == [
        f"u{i}@example.com" for i in (4, 3, 2, 1, 0)
    ]
    assert [a.id for a in client.v2.core.accounts.list({"closed": True})] == [closed]


def test_v2_account_links(fake_stripe: FakeStripe, client: stripe.StripeClient) -> None:
    acct = create(client).id

    link = client.v2.core.account_links.create(
        {
            "account": acct,
            "use_case": {
                "type": "account_onboarding",
                "account_onboarding": {
                    "refresh_url": "https://example.com/refresh",
                    "return_url": "https://example.com/return",
                },
            },
        }
    )

    assert isinstance(link, AccountLink)
    assert_complete(link, AccountLink)
    assert_complete(link.use_case, AccountLink.UseCase)
    assert link.account == acct
    assert link.use_case.type == "account_onboarding"
    assert link.use_case.account_onboarding.return_url == "https://example.com/return"  # type: ignore[union-attr]
    assert link.url.startswith(f"{fake_stripe.url}/setup/e/{acct}/")


@pytest.mark.parametrize(
    ("use_case", "code"),
    [
        # `configurations` left the API on 2026-09-30.endive.
        (
            {
                "type": "account_onboarding",
                "account_onboarding": {
                    "refresh_url": "https://e.com/r",
                    "configurations": ["recipient"],
                },
            },
            "parameter_unknown",
        ),
        (
            {"type": "account_onboarding", "account_onboarding": {"refresh_url": "nope"}},
            "invalid_fields",
        ),
        ({"type": "account_onboarding"}, "invalid_fields"),
        ({"type": "sideways"}, "invalid_fields"),
    ],
)
def test_v2_account_link_errors(client: stripe.StripeClient, use_case: Any, code: str) -> None:
    acct = create(client).id
    with pytest.raises(stripe.InvalidRequestError) as caught:
        client.v2.core.account_links.create({"account": acct, "use_case": use_case})
    assert caught.value.code == code
    assert caught.value.http_status == 400


@pytest.mark.parametrize(
    ("changes", "code"),
    [
        ({"identity": {"country": "KP"}}, "country_unsupported"),
        ({"identity": {"country": "Narnia"}}, "invalid_fields"),
        ({"identity": {"entity_type": "sole_trader"}}, "invalid_fields"),
        ({"contact_email": None}, "invalid_fields"),
        ({"dashboard": "fancy"}, "invalid_fields"),
        ({"colour": "blue"}, "parameter_unknown"),
        ({"include": ["everything"]}, "invalid_fields"),
        (
            {
                "defaults": {
                    "responsibilities": {
                        "fees_collector": "stripe",
                        "losses_collector": "application",
                    }
                }
            },
            "invalid_fields",
        ),
    ],
)
def test_create_errors_are_v2_error_bodies(
    fake_stripe: FakeStripe, client: stripe.StripeClient, changes: dict[str, Any], code: str
) -> None:
    with pytest.raises(stripe.InvalidRequestError) as caught:
        create(client, **changes)
    assert caught.value.code == code
    assert set(caught.value.json_body["error"]) >= {"type", "code", "message"}
    assert fake_stripe.accounts == {}


def test_capability_not_available_and_unknown_accounts(client: stripe.StripeClient) -> None:
    with pytest.raises(stripe.InvalidRequestError) as unknown:
        create(
            client,
            configuration={"recipient": {"capabilities": {"card_payments": {"requested": True}}}},
        )
    # Checked against stripe's v2 types: a recipient has no card_payments.
    assert unknown.value.code == "parameter_unknown"
    assert "configuration.recipient.capabilities.card_payments" in str(unknown.value)
    with pytest.raises(stripe.CapabilityNotEnabledError):
        # One the types have, that the fake (like Stripe in some countries) does not offer.
        create(
            client,
            configuration={
                "merchant": {"capabilities": {"ach_debit_payments": {"requested": True}}}
            },
        )
    with pytest.raises(stripe.InvalidRequestError) as caught:
        client.v2.core.accounts.retrieve("acct_nothere")
    assert (caught.value.code, caught.value.http_status) == ("resource_missing", 404)


def test_idempotent_creation(fake_stripe: FakeStripe, client: stripe.StripeClient) -> None:
    params: Any = {**EXPRESS}
    first = client.v2.core.accounts.create(params, {"idempotency_key": "k-1"})
    again = client.v2.core.accounts.create(params, {"idempotency_key": "k-1"})
    assert again.id == first.id
    assert len(fake_stripe.accounts) == 1
    other: Any = {**EXPRESS, "display_name": "Someone else"}
    with pytest.raises(stripe.IdempotencyError):
        client.v2.core.accounts.create(other, {"idempotency_key": "k-1"})


def test_json_bodies_only(fake_stripe: FakeStripe) -> None:
    import urllib.error
    import urllib.request

    request = urllib.request.Request(
        f"{fake_stripe.url}/v2/core/accounts",
        data=b"{not json",
        method="POST",
        headers={
            "Authorization": f"Bearer {fake_stripe.secret_key}",
            "Content-Type": "application/json",
        },
    )
    with pytest.raises(urllib.error.HTTPError) as caught:
        urllib.request.urlopen(request, timeout=5)
    assert caught.value.code == 400
    assert json.loads(caught.value.read())["error"]["code"] == "invalid_json"


def test_v1_endpoints_take_v2_ids(fake_stripe: FakeStripe, client: stripe.StripeClient) -> None:
    acct = create(client).id

    v1 = client.v1.accounts.retrieve(acct)

    assert isinstance(v1, stripe.Account)
    assert (v1.type, v1.email, v1.country) == ("express", "ann@example.com", "GB")
    assert v1.details_submitted is False
    assert "external_account" in v1.requirements.currently_due  # type: ignore[union-attr]
    assert v1.capabilities.transfers == "inactive"  # type: ignore[union-attr]
    assert acct in [a.id for a in client.v1.accounts.list()]
    fake_stripe.complete_onboarding(acct)
    v1 = client.v1.accounts.retrieve(acct)
    assert (v1.details_submitted, v1.payouts_enabled) == (True, True)
    assert v1.capabilities.card_payments == "active"  # type: ignore[union-attr]
    login = client.v1.accounts.login_links.create(acct)
    assert login.url.startswith(f"{fake_stripe.url}/express/{acct}/")


def test_dashboard_none_has_no_login_links(
    fake_stripe: FakeStripe, client: stripe.StripeClient
) -> None:
    acct = fake_stripe.create_v2_account(contact_email="a@example.com", dashboard="none")["id"]
    fake_stripe.complete_onboarding(acct)
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.accounts.login_links.create(acct)


# -- thin events ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("event_type", "notification_class"),
    [
        ("v2.core.account.updated", "V2CoreAccountUpdatedEventNotification"),
        (
            "v2.core.account[requirements].updated",
            "V2CoreAccountIncludingRequirementsUpdatedEventNotification",
        ),
        (
            "v2.core.account[configuration.recipient].capability_status_updated",
            "V2CoreAccountIncludingConfigurationRecipientCapabilityStatusUpdatedEventNotification",
        ),
        (
            "v2.core.account[configuration.merchant].capability_status_updated",
            "V2CoreAccountIncludingConfigurationMerchantCapabilityStatusUpdatedEventNotification",
        ),
        ("v2.core.account.closed", "V2CoreAccountClosedEventNotification"),
    ],
)
def test_thin_events_parse_verify_and_fetch(
    fake_stripe: FakeStripe, client: stripe.StripeClient, event_type: str, notification_class: str
) -> None:
    acct = create(client).id
    notification = fake_stripe.build_thin_event(event_type, account=acct)
    payload, header = fake_stripe.signed(notification)

    parsed = client.parse_event_notification(payload, header, fake_stripe.webhook_secret)

    assert type(parsed).__name__ == notification_class
    assert (parsed.id, parsed.type, parsed.livemode) == (notification["id"], event_type, False)
    assert parsed.related_object.id == acct  # type: ignore[attr-defined]
    assert parsed.related_object.url == f"/v2/core/accounts/{acct}"  # type: ignore[attr-defined]
    related = parsed.fetch_related_object()  # type: ignore[attr-defined]
    assert isinstance(related, Account)
    assert related.id == acct
    event = parsed.fetch_event()
    assert isinstance(event, Event)
    assert_complete(event, Event)
    assert (event.id, event.type) == (parsed.id, event_type)
    assert set(json.loads(payload)) == {
        "id",
        "object",
        "type",
        "livemode",
        "created",
        "context",
        "related_object",
    }


def test_account_link_returned_carries_the_account_in_its_data(
    fake_stripe: FakeStripe, client: stripe.StripeClient
) -> None:
    acct = create(client).id
    notification = fake_stripe.build_thin_event("v2.core.account_link.returned", account=acct)
    payload, header = fake_stripe.signed(notification)

    parsed = client.parse_event_notification(payload, header, fake_stripe.webhook_secret)

    assert "related_object" not in notification
    event = parsed.fetch_event()
    assert event.data.account_id == acct  # type: ignore[attr-defined]
    assert event.data.use_case == "account_onboarding"  # type: ignore[attr-defined]
    assert event.data.configurations == ["recipient", "merchant"]  # type: ignore[attr-defined]


def test_thin_events_are_signed_as_stripe_signs(
    fake_stripe: FakeStripe, client: stripe.StripeClient
) -> None:
    notification = fake_stripe.build_thin_event("v2.core.account.updated", account="acct_x")
    payload, header = fake_stripe.signed(notification)
    with pytest.raises(stripe.SignatureVerificationError):
        client.parse_event_notification(payload, header, "whsec_other")
    stale = fake_stripe.signed(notification, timestamp=int(time.time()) - 3600)[1]
    with pytest.raises(stripe.SignatureVerificationError):
        client.parse_event_notification(payload, stale, fake_stripe.webhook_secret)
    with pytest.raises(stripe.InvalidRequestError):
        client.v2.core.events.retrieve("evt_test_unknown")


@pytest.mark.parametrize(
    ("changes", "code", "named"),
    [
        ({"dashboard": "lite"}, "invalid_fields", "dashboard"),
        ({"identity": {"country": "us", "colour": "red"}}, "parameter_unknown", "identity.colour"),
        ({"contact_email": 7}, "invalid_fields", "contact_email"),
        (
            {"configuration": {"recipient": {"capabilities": {"stripe_balance": {
                "stripe_transfers": {"requested": "yes"}}}}}},
            "invalid_fields",
            "configuration.recipient.capabilities.stripe_balance.stripe_transfers.requested",
        ),
        ({"metadata": {"n": 1}}, "invalid_fields", "metadata.n"),
    ],
)
def test_bodies_are_checked_against_stripe_s_v2_types(
    client: stripe.StripeClient, changes: dict[str, Any], code: str, named: str
) -> None:
    with pytest.raises(stripe.InvalidRequestError) as caught:
        create(client, **changes)
    assert caught.value.code == code
    assert named in str(caught.value)
    assert caught.value.http_status == 400


def test_a_link_with_the_removed_configurations_parameter_is_refused(
    client: stripe.StripeClient,
) -> None:
    acct = create(client).id
    params: Any = {
        "account": acct,
        "use_case": {
            "type": "account_onboarding",
            "account_onboarding": {
                "configurations": ["recipient"],
                "refresh_url": "https://example.com/r",
            },
        },
    }
    with pytest.raises(stripe.InvalidRequestError) as caught:
        client.v2.core.account_links.create(params)
    assert caught.value.code == "parameter_unknown"
    assert "use_case.account_onboarding.configurations" in str(caught.value)


def test_the_onboarding_page_of_a_v2_account_shows_v2_field_names(
    client: stripe.StripeClient,
) -> None:
    acct = create(client).id
    link = client.v2.core.account_links.create({
        "account": acct,
        "use_case": {
            "type": "account_onboarding",
            "account_onboarding": {
                "refresh_url": "https://example.com/refresh",
                "return_url": "https://example.com/return",
            },
        },
    })

    page = requests.get(link.url, timeout=5, allow_redirects=False).text

    for name in ("Accounts v2", "contact_email", "identity.country", "configuration",
                 "requirements.entries", "currently_due, user"):
        assert name in page, name
    # v1's names for the same things are not what a v2 developer reads.
    assert "<dt>email</dt>" not in page
    assert "<dt>requirements.currently_due</dt>" not in page
