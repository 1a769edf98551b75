"""A bad value in Stripe's data never breaks a page: the tag, the admin and the
status show what they can and log a warning (never the value itself)."""

from __future__ import annotations

import logging

import pytest
from django.urls import reverse

from django_stripe_express.models import ExpressAccount

from .admin_support import staff_client
from .factories import ExpressAccountFactory
from .templatetag_support import button

pytestmark = pytest.mark.django_db

GOOD = {
    "currently_due": ["external_account"],
    "past_due": ["external_account"],
    "eventually_due": [],
    "pending_verification": [],
    "errors": [],
    "current_deadline": None,
}
MALFORMED = {
    "deadline is a word": {**GOOD, "current_deadline": "tomorrow-PRIVATE"},
    "deadline is an object": {**GOOD, "current_deadline": {"at": "PRIVATE"}},
    "deadline out of range": {**GOOD, "current_deadline": 10**30},
    "deadline is a boolean": {**GOOD, "current_deadline": True},
    "non-strings among the due": {
        **GOOD, "currently_due": [42, None, {"PRIVATE": 1}, "external_account"],
        "past_due": [["nested"], "external_account"],
    },
    "due is a string": {**GOOD, "currently_due": "external_account-PRIVATE"},
    "due is a number": {**GOOD, "past_due": 7, "eventually_due": 3.5},
    "errors are not objects": {**GOOD, "errors": ["PRIVATE", 1, {"requirement": 5, "code": None}]},
    "errors is a string": {**GOOD, "errors": "PRIVATE"},
    "requirements is a list": ["PRIVATE"],
    "requirements is a string": "PRIVATE",
}


def render_button(user) -> str:
    return button(user).html


@pytest.fixture(params=sorted(MALFORMED))
def malformed(request):
    account = ExpressAccountFactory(
        payouts_enabled=False, disabled_reason="requirements.past_due",
        requirements=MALFORMED[request.param],
    )
    account.refresh_from_db()  # as a page would load it
    account.case = request.param
    return account


def test_the_button_renders_what_it_can(malformed, caplog):
    with caplog.at_level(logging.WARNING, logger="django_stripe_express"):
        html = render_button(malformed.user)

    assert 'data-stripe-express-status="' in html
    assert "PRIVATE" not in html
    assert_logged_without_the_value(
        malformed, caplog, expected=not malformed.case.startswith("errors")
    )


def assert_logged_without_the_value(account, caplog, expected=True):
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    if expected:  # the button does not read `errors`; the admin does
        assert warnings, "a malformed value must be logged"
    for record in warnings:
        assert account.stripe_id in record.getMessage()
        assert "PRIVATE" not in record.getMessage()


def test_the_usable_items_are_still_shown(caplog):
    account = ExpressAccountFactory(
        payouts_enabled=False, disabled_reason="requirements.past_due",
        requirements=MALFORMED["non-strings among the due"] | {"current_deadline": "soon"},
    )
    html = render_button(account.user)
    assert "Your payouts are paused" in html
    assert "Bank account" in html
    assert "Please update your details by" not in html  # no usable deadline


def test_the_status_is_derived_from_what_is_usable(malformed):
    malformed.save()  # derives the status again
    malformed.refresh_from_db()
    assert malformed.status in ExpressAccount.Status.values
    assert isinstance(malformed.currently_due, list)
    assert all(isinstance(name, str) for name in malformed.past_due)
    assert malformed.current_deadline is None


def test_the_admin_pages_render(malformed, caplog):
    client = staff_client("view_expressaccount")
    with caplog.at_level(logging.WARNING, logger="django_stripe_express"):
        listing = client.get(reverse("admin:django_stripe_express_expressaccount_changelist"))
        page = client.get(
            reverse("admin:django_stripe_express_expressaccount_change", args=[malformed.pk])
        )
    assert listing.status_code == 200
    assert page.status_code == 200
    assert malformed.stripe_id in page.content.decode()
    assert_logged_without_the_value(malformed, caplog)


def test_capabilities_of_the_wrong_shape_render_too(caplog):
    account = ExpressAccountFactory(capabilities=["transfers-PRIVATE"])
    client = staff_client("view_expressaccount")
    page = client.get(
        reverse("admin:django_stripe_express_expressaccount_change", args=[account.pk])
    )
    assert page.status_code == 200
    assert "capabilities is a list" in caplog.text


def test_a_signed_event_with_bad_values_leaves_the_pages_working(client, fake_stripe, user):
    """The issue's report: a signed account.updated with a non-number deadline
    and a non-string requirement made every page with the button a 500."""
    acct = fake_stripe.create_account(email=user.email)
    fake_stripe.complete_onboarding(acct["id"])
    ExpressAccountFactory(user=user, stripe_id=acct["id"])
    event = fake_stripe.build_event("account.updated", account=acct["id"])
    requirements = event["data"]["object"]["requirements"]
    requirements["current_deadline"] = "not-a-number"
    requirements["currently_due"] = [{"not": "a string"}, "external_account"]
    requirements["past_due"] = [12]
    event["data"]["object"]["payouts_enabled"] = False
    assert fake_stripe.post_event(client, event).status_code == 200

    html = render_button(user)

    assert 'data-stripe-express-status="restricted"' in html
    account = ExpressAccount.objects.get()
    page = staff_client("view_expressaccount").get(
        reverse("admin:django_stripe_express_expressaccount_change", args=[account.pk])
    )
    assert page.status_code == 200


@pytest.mark.parametrize(
    "future",
    [
        "PRIVATE",
        ["PRIVATE"],
        {"currently_due": [7, "company.tax_id"], "current_deadline": "soon-PRIVATE"},
        {"currently_due": "company.tax_id-PRIVATE", "past_due": 3, "errors": "PRIVATE"},
    ],
    ids=["a string", "a list", "bad items and deadline", "bad groups"],
)
def test_malformed_future_requirements_never_break_a_page(future, caplog):
    account = ExpressAccountFactory(future_requirements=future)  # enabled: the future is read
    account.refresh_from_db()
    with caplog.at_level(logging.WARNING, logger="django_stripe_express"):
        html = render_button(account.user)
        page = staff_client("view_expressaccount").get(
            reverse("admin:django_stripe_express_expressaccount_change", args=[account.pk])
        )
        listing = staff_client("view_expressaccount").get(
            reverse("admin:django_stripe_express_expressaccount_changelist")
        )

    assert 'data-stripe-express-status="enabled"' in html
    assert "PRIVATE" not in html
    assert (page.status_code, listing.status_code) == (200, 200)
    assert "PRIVATE" not in page.content.decode()
    assert_logged_without_the_value(account, caplog)
    if isinstance(future, dict) and isinstance(future.get("currently_due"), list):
        assert "Company tax ID" in html  # the usable item is still shown
