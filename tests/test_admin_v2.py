"""The admin and the button for Accounts v2 accounts: entries and capabilities in words."""

from __future__ import annotations

import pytest
from django.urls import reverse

from django_stripe_express.models import ExpressAccount, stripe_values
from django_stripe_express.testing import objects_v2

from .admin_support import staff_client
from .factories import ExpressAccountFactory, UserFactory
from .templatetag_support import button

pytestmark = pytest.mark.django_db

CHANGELIST = "admin:django_stripe_express_expressaccount_changelist"


def v2_row(data: dict, **fields) -> ExpressAccount:
    """A stored v2 account holding Stripe's answer `data`."""
    fields.setdefault("user", UserFactory())
    account = ExpressAccountFactory.build(accounts_api="v2", stripe_id=data["id"], **fields)
    for name, value in stripe_values(data).items():
        setattr(account, name, value)
    account.save()
    return account


def restricted_v2(**fields) -> ExpressAccount:
    data = objects_v2.build_account(contact_email="ann@example.com", merchant=True)
    objects_v2.complete_onboarding(data)
    document = objects_v2.entry(
        "identity.individual.documents.primary_verification",
        reason="routine_verification",
        restricts=[objects_v2.TRANSFERS],
        errors=[
            {"code": "verification_document_expired", "description": "The document is <expired>."}
        ],
    )
    later = objects_v2.entry(
        "identity.individual.id_numbers", who="stripe", deadline="eventually_due"
    )
    data["requirements"] = objects_v2.requirements([later, document], "2030-05-17T12:00:00.000Z")
    objects_v2.set_capability(
        data,
        *objects_v2.TRANSFERS,
        objects_v2.capability("restricted", [objects_v2.PAST_DUE]),
    )
    objects_v2.set_capability(
        data,
        *objects_v2.CARD_PAYMENTS,
        objects_v2.capability(
            "pending", [{"code": "requirements_pending_verification", "resolution": "provide_info"}]
        ),
    )
    return v2_row(data, **fields)


def test_change_page_shows_entries_and_capabilities_in_words():
    account = restricted_v2()
    assert account.status == ExpressAccount.Status.RESTRICTED

    response = staff_client("view_expressaccount").get(
        reverse("admin:django_stripe_express_expressaccount_change", args=[account.pk])
    )

    html = response.content.decode()
    for text in (
        "Accounts v2",
        # The entry, who must act, how urgent, why, and what it blocks.
        "Identity document <code>identity.individual.documents.primary_verification</code>",
        "<td>the user</td>",
        "<td>past due</td>",
        "<td>verification</td>",
        "<td>receiving transfers (getting paid)</td>",
        "The document is &lt;expired&gt;. (<code>verification_document_expired</code>)",
        "<td>Stripe</td>",
        "<td>eventually due</td>",
        "2030-05-17T12:00:00.000Z",
        # Each capability, its status, and what staff can do about it.
        "<strong>Receiving transfers (getting paid)</strong> "
        "(<code>stripe_balance.stripe_transfers</code>): restricted",
        "Information Stripe asked for is past due. (<code>requirements_past_due</code>) "
        "The user must provide information: send them to finish onboarding.",
        "<strong>Card payments</strong> (<code>card_payments</code>): pending",
        "Stripe is verifying the information it received.",
    ):
        assert text in html, text
    assert "<expired>" not in html
    # Past due first, whatever Stripe's order.
    assert html.index("primary_verification") < html.index("identity.individual.id_numbers")


def test_change_page_says_an_account_is_under_review():
    data = objects_v2.build_account(contact_email="ann@example.com")
    objects_v2.start_review(data, None)
    account = v2_row(data)

    response = staff_client("view_expressaccount").get(
        reverse("admin:django_stripe_express_expressaccount_change", args=[account.pk])
    )

    assert account.disabled_reason == "restricted_other"
    assert "Under review by Stripe, which asked for the items past due" in response.content.decode()


def test_changelist_filters_by_accounts_api_and_v2_capability():
    v2 = restricted_v2()
    v1 = ExpressAccountFactory()
    client = staff_client("view_expressaccount")

    by_api = client.get(reverse(CHANGELIST), {"accounts_api__exact": "v2"})
    by_capability = client.get(
        reverse(CHANGELIST), {"capability": "stripe_balance.stripe_transfers:restricted"}
    )

    assert [a.pk for a in by_api.context["cl"].result_list] == [v2.pk]
    assert [a.pk for a in by_capability.context["cl"].result_list] == [v2.pk]
    everyone = client.get(reverse(CHANGELIST)).context["cl"].result_list
    assert {a.pk for a in everyone} == {v1.pk, v2.pk}


def render_button(account: ExpressAccount) -> str:
    return button(account.user).html


def test_the_button_says_what_is_due_in_words():
    account = restricted_v2(user=UserFactory())

    html = render_button(account)

    assert 'data-stripe-express-status="restricted"' in html
    assert "<li>Identity document</li>" in html
    assert "identity.individual" not in html


def test_the_button_says_why_an_account_is_disabled():
    data = objects_v2.build_account(contact_email="ann@example.com")
    objects_v2.complete_onboarding(data)
    objects_v2.set_capability(
        data,
        *objects_v2.TRANSFERS,
        objects_v2.capability(
            "unsupported", [{"code": "unsupported_country", "resolution": "no_resolution"}]
        ),
    )
    account = v2_row(data, user=UserFactory())

    html = render_button(account)

    assert account.status == ExpressAccount.Status.DISABLED
    assert "Stripe cannot pay out to accounts in your country." in html
    assert "unsupported_country" not in html
