"""Issue 23: Accounts v2 as real Stripe answers it, in the app and in the fake.

Each test names the point of the issue it proves. The fake is held to what
Stripe's reference, changelog and stripe-python's types say; the app is driven
through its own views and webhooks against it.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
import stripe

from django_stripe_express.models import ExpressAccount
from django_stripe_express.testing import FakeStripe, objects_v2

from .account_links_support import INCLUDE, hosted_onboarding, local_path
from .factories import UserFactory
from .test_webhook_thin import deliver, stored, stored_v2_account, thin

CONNECT = "/stripe/connect/"
RETURN = "/stripe/onboarding/return/"
Status = ExpressAccount.Status
DAHLIA = "2026-08-26.dahlia"  # stripe 15.6's version: configurations required


def link_body(fake: FakeStripe) -> dict[str, Any]:
    (request,) = fake.requests_to("/v2/core/account_links", "POST")[-1:]
    body: dict[str, Any] = json.loads(request.body)
    return body


def v2_flow(settings: Any, **changes: Any) -> None:
    settings.STRIPE_EXPRESS = {
        **settings.STRIPE_EXPRESS, "ONBOARDING": "account_links", "ACCOUNTS_API": "v2", **changes
    }


def link_params(acct: str, kind: str = "account_onboarding", **options: Any) -> Any:
    return {
        "account": acct,
        "use_case": {"type": kind, kind: {"refresh_url": "https://e.com/r", **options}},
    }


# -- 1. a pinned STRIPE_VERSION before endive ------------------------------------


@pytest.mark.django_db
def test_a_version_before_endive_sends_configurations(client, fake_stripe, settings):
    """Point 1: with STRIPE_VERSION before 2026-09-30.endive, /v2/core/account_links
    requires use_case.*.configurations (stripe 15.6's params); the app sends them."""
    v2_flow(settings, STRIPE_VERSION=DAHLIA, SUGGESTED_CAPABILITIES=["transfers", "card_payments"])
    client.force_login(UserFactory())

    response = client.post(CONNECT)

    assert response["Location"].startswith(f"{fake_stripe.url}/setup/e/")
    request = fake_stripe.requests_to("/v2/core/account_links", "POST")[-1]
    assert request.header("Stripe-Version") == DAHLIA
    options = link_body(fake_stripe)["use_case"]["account_onboarding"]
    assert options["configurations"] == ["recipient", "merchant"]


@pytest.mark.django_db
def test_the_library_s_version_sends_no_configurations(client, fake_stripe, settings):
    v2_flow(settings)
    client.force_login(UserFactory())

    response = client.post(CONNECT)

    assert response["Location"].startswith(f"{fake_stripe.url}/setup/e/")
    request = fake_stripe.requests_to("/v2/core/account_links", "POST")[-1]
    assert request.header("Stripe-Version") == stripe.api_version
    assert "configurations" not in link_body(fake_stripe)["use_case"]["account_onboarding"]


def pinned(fake: FakeStripe, version: str) -> stripe.StripeClient:
    return stripe.StripeClient(
        fake.secret_key, base_addresses={"api": fake.url}, stripe_version=version,
        max_network_retries=0,
    )


def test_the_fake_checks_configurations_by_the_request_s_version(fake_stripe):
    """Point 1, the fake: required before endive, refused from it on."""
    acct = fake_stripe.create_v2_account(contact_email="a@example.com")["id"]
    old = pinned(fake_stripe, DAHLIA)
    with pytest.raises(stripe.InvalidRequestError) as caught:
        old.v2.core.account_links.create(link_params(acct))
    assert "use_case.account_onboarding.configurations" in str(caught.value)
    with pytest.raises(stripe.InvalidRequestError):
        old.v2.core.account_links.create(link_params(acct, configurations=["sideways"]))
    link = old.v2.core.account_links.create(link_params(acct, configurations=["recipient"]))
    assert link.use_case.type == "account_onboarding"
    new = pinned(fake_stripe, "2026-09-30.endive")
    with pytest.raises(stripe.InvalidRequestError) as caught:
        new.v2.core.account_links.create(link_params(acct, configurations=["recipient"]))
    assert caught.value.code == "parameter_unknown"


# -- 2. no account_update links for Express-dashboard accounts --------------------


@pytest.mark.parametrize("dashboard", ["express", "full"])
def test_the_fake_refuses_update_links_for_stripe_hosted_dashboards(
    fake_stripe, fake_stripe_client, dashboard
):
    """Point 2, the fake: "You can't create them for accounts that have access to a
    Stripe-hosted Dashboard"; account_onboarding works for them."""
    acct = fake_stripe.create_v2_account(contact_email="a@example.com", dashboard=dashboard)["id"]
    with pytest.raises(stripe.InvalidRequestError) as caught:
        fake_stripe_client.v2.core.account_links.create(link_params(acct, "account_update"))
    assert "Stripe-hosted Dashboard" in str(caught.value)
    fake_stripe_client.v2.core.account_links.create(link_params(acct))
    none = fake_stripe.create_v2_account(contact_email="a@example.com", dashboard="none")["id"]
    fake_stripe_client.v2.core.account_links.create(link_params(none, "account_update"))


# -- 3. future requirements ------------------------------------------------------


@pytest.mark.django_db
def test_future_requirements_arrive_by_their_own_thin_event(client, fake_stripe, settings):
    """Point 3: v2.core.account[future_requirements].updated re-reads the account;
    the new rules are stored apart, and the user and staff see them with their date."""
    account = stored_v2_account(fake_stripe)
    acct = account.stripe_id
    fake_stripe.complete_onboarding(acct)
    fake_stripe.require_by(acct, ["identity.business_details.id_numbers"], 1_950_000_000,
                           future=True)
    event = thin(fake_stripe, "v2.core.account[future_requirements].updated", acct, 1)

    response = deliver(fake_stripe, client, event)

    assert (response.status_code, response.content) == (200, b"processed")
    account = stored(account)
    assert account.status == Status.ENABLED
    assert account.requirements["entries"] == []
    assert account.future_currently_due == ["identity.business_details.id_numbers"]
    assert account.future_deadline == 1_950_000_000
    read = fake_stripe.requests_to(f"/v2/core/accounts/{acct}", "GET")[-1]
    assert read.query == {"include": INCLUDE}
    assert "future_requirements" in INCLUDE


def test_the_fake_files_future_rules_under_future_requirements(fake_stripe, fake_stripe_client):
    acct = fake_stripe.create_v2_account(contact_email="a@example.com")["id"]
    fake_stripe.complete_onboarding(acct)
    fake_stripe.require_by(acct, ["identity.business_details.id_numbers"], 1_950_000_000,
                           future=True)
    account = fake_stripe_client.v2.core.accounts.retrieve(
        acct, {"include": ["requirements", "future_requirements"]}
    )
    assert account.requirements is not None
    assert account.requirements.entries == []
    future = account.future_requirements
    assert future is not None
    assert future.entries is not None
    assert [e.description for e in future.entries] == ["identity.business_details.id_numbers"]
    assert future.minimum_transition_date == "2031-10-17T10:40:00.000Z"


# -- 4. a review is not a rejection ------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("code", "resolution", "status", "words"),
    [
        ("restricted_other", "contact_stripe", Status.RESTRICTED,
         "Stripe is reviewing your account."),
        ("requirements_pending_verification", "contact_stripe", Status.PENDING_VERIFICATION,
         "Stripe is verifying the information you sent."),
        ("determining_status", "no_resolution", Status.PENDING_VERIFICATION,
         "Stripe is still setting up your account."),
        ("rejected_fraud", "no_resolution", Status.DISABLED,
         "Stripe closed this account because of suspected fraud."),
        ("unsupported_country", "provide_info", Status.DISABLED,
         "Stripe cannot pay out to accounts in your country."),
    ],
)
def test_only_a_refusal_disables_a_v2_account(
    client, fake_stripe, code, resolution, status, words
):
    """Point 4: Stripe reviewing (restricted_other) or verifying is not the
    terminal state, whatever the resolution; only rejected_* / unsupported_* are."""
    account = stored_v2_account(fake_stripe)
    acct = account.stripe_id
    fake_stripe.complete_onboarding(acct)
    fake_stripe.set_capability(
        acct, "stripe_balance.stripe_transfers", "restricted", code=code, resolution=resolution
    )
    event = thin(fake_stripe, "v2.core.account[configuration.recipient].capability_status_updated",
                 acct, 1)

    deliver(fake_stripe, client, event)

    account = stored(account)
    assert account.status == status
    assert account.disabled_reason == code
    assert account.reason.user_text(account.requirements) == words


# -- 6. details submitted -----------------------------------------------------------


@pytest.mark.django_db
def test_an_onboarding_entry_after_onboarding_is_not_onboarding_again(
    logged_in_client, fake_stripe, settings
):
    """Point 6: once the user accepted the terms, a new routine_onboarding entry
    is something due (enabled while currently due, restricted when past due), and
    the user still reaches the dashboard's login link."""
    v2_flow(settings)
    link = logged_in_client.post(CONNECT)["Location"]
    logged_in_client.get(local_path(hosted_onboarding(link, finish=True)))
    account = ExpressAccount.objects.get()
    acct = account.stripe_id
    entry = fake_stripe.set_requirements  # the entries Stripe adds later
    entry(acct, [objects_v2.entry("defaults.profile.product_description",
                                  deadline="currently_due", reason="routine_onboarding")])
    logged_in_client.get(RETURN)
    account.refresh_from_db()
    assert account.details_submitted is True
    assert account.status == Status.ENABLED

    entry(acct, [objects_v2.entry("identity.individual.verification.document",
                                  deadline="past_due", reason="routine_verification")])
    logged_in_client.get(RETURN)
    account.refresh_from_db()
    assert account.details_submitted is True
    assert account.status == Status.RESTRICTED


# -- 7. smaller ones --------------------------------------------------------------------


@pytest.mark.django_db
def test_a_thin_event_with_a_context_is_read_in_that_context(client, fake_stripe):
    """Point 7: a thin event whose context is not empty is fetched with it
    (Stripe-Context), or Stripe would not find the account."""
    account = stored_v2_account(fake_stripe)
    event = thin(fake_stripe, "v2.core.account.updated", account.stripe_id, 1,
                 context="acct_1ParentOfTheAccount")

    deliver(fake_stripe, client, event)

    read = fake_stripe.requests_to(f"/v2/core/accounts/{account.stripe_id}", "GET")[-1]
    assert read.header("Stripe-Context") == "acct_1ParentOfTheAccount"
    plain = thin(fake_stripe, "v2.core.account.updated", account.stripe_id, 2)
    deliver(fake_stripe, client, plain)
    read = fake_stripe.requests_to(f"/v2/core/accounts/{account.stripe_id}", "GET")[-1]
    assert read.header("Stripe-Context") == ""


@pytest.mark.django_db
def test_application_express_fees_are_v1_application_express(client, fake_stripe, settings):
    """Point 7: fees_collector "application_express" is v1's fees.payer
    "application_express" (another billing model than "application"); the fake
    validates and reflects the controller."""
    settings.STRIPE_EXPRESS = {
        **settings.STRIPE_EXPRESS, "ONBOARDING": "account_links", "ACCOUNTS_API": "v1",
        "RESPONSIBILITIES": {"fees_collector": "application_express",
                             "losses_collector": "application"},
    }
    client.force_login(UserFactory())

    client.post(CONNECT)

    (create,) = fake_stripe.requests_to("/v1/accounts", "POST")
    assert create.form["controller"]["fees"] == {"payer": "application_express"}
    stored_account = fake_stripe.account(ExpressAccount.objects.get().stripe_id)
    assert stored_account["controller"]["fees"] == {"payer": "application_express"}
    assert stored_account["controller"]["stripe_dashboard"] == {"type": "express"}


@pytest.mark.parametrize(
    ("controller", "param"),
    [
        ({"fees": {"payer": "application_express"},
          "stripe_dashboard": {"type": "none"}}, "fees"),
        ({"requirement_collection": "application",
          "stripe_dashboard": {"type": "express"}}, "requirement_collection"),
        ({"fees": {"payer": "account"}, "losses": {"payments": "application"},
          "stripe_dashboard": {"type": "express"}}, "losses"),
        ({"stripe_dashboard": {"type": "sideways"}}, "stripe_dashboard"),
    ],
)
def test_the_fake_refuses_controllers_stripe_refuses(fake_stripe_client, controller, param):
    with pytest.raises(stripe.InvalidRequestError) as caught:
        fake_stripe_client.v1.accounts.create({"controller": controller})
    assert param in str(caught.value.param)


def test_the_fake_refuses_a_v2_recipient_without_contact_email(fake_stripe_client):
    """Point 5, the fake: Stripe requires contact_email for a merchant or recipient."""
    with pytest.raises(stripe.InvalidRequestError) as caught:
        fake_stripe_client.v2.core.accounts.create(
            {"dashboard": "express",
             "defaults": {"responsibilities": {"fees_collector": "application",
                                               "losses_collector": "application"}},
             "configuration": {"recipient": {"capabilities": {
                 "stripe_balance": {"stripe_transfers": {"requested": True}}}}}}
        )
    assert "contact_email" in str(caught.value)


def test_new_v2_accounts_owe_onboarding_now_not_late(fake_stripe):
    """Point 8: a new account's entries are currently due, for onboarding."""
    account = fake_stripe.create_v2_account(contact_email="a@example.com")
    entries = account["requirements"]["entries"]
    assert entries
    assert {e["minimum_deadline"]["status"] for e in entries} == {"currently_due"}
    assert {r["code"] for e in entries for r in e["requested_reasons"]} == {"routine_onboarding"}
