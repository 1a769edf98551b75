"""Every ``requirements.disabled_reason`` in stripe 16's ``Account`` type: status and words.

The values are read from the library's types, so a value Stripe adds (with a
new stripe release) fails here until it is given a meaning.
"""

from __future__ import annotations

import typing

import pytest
import stripe

from django_stripe_express.accounts.v1 import REASONS, reason_for
from django_stripe_express.models import ExpressAccount

from .factories import ExpressAccountFactory
from .templatetag_support import render


def user_text(reason: str, requirements: dict | None = None) -> str:
    """What the button says of ``reason`` (its row in the v1 table)."""
    meaning = reason_for(reason)
    return meaning.user_text(requirements or {}) if meaning else ""


def staff_text(reason: str, requirements: dict | None = None) -> str:
    """What the admin says of ``reason``."""
    meaning = reason_for(reason)
    return meaning.staff_text(requirements or {}) if meaning else ""


def stripe_disabled_reasons() -> list[str]:
    hint = typing.get_type_hints(stripe.Account.Requirements)["disabled_reason"]
    (literal,) = [arg for arg in typing.get_args(hint) if typing.get_origin(arg) is typing.Literal]
    return list(typing.get_args(literal))


# (status of a submitted account, who can lift it, what the user reads)
EXPECTED = {
    "action_required.requested_capabilities": ("restricted", "platform", "This site still needs"),
    "listed": ("disabled", "stripe", "sanctions lists"),
    "other": ("disabled", "stripe", "Stripe has paused this account while it reviews it."),
    "platform_paused": ("disabled", "platform", "paused by this site"),
    "rejected.fraud": ("disabled", "stripe", "suspected fraud"),
    "rejected.incomplete_verification": ("disabled", "stripe", "verification was not completed"),
    "rejected.listed": ("disabled", "stripe", "sanctions list"),
    "rejected.other": ("disabled", "stripe", "Stripe closed this account."),
    "rejected.platform_fraud": ("disabled", "platform", "This site has closed"),
    "rejected.platform_other": ("disabled", "platform", "This site has closed"),
    "rejected.platform_terms_of_service": ("disabled", "platform", "breach of its terms"),
    "rejected.terms_of_service": ("disabled", "stripe", "terms of service violation"),
    "requirements.past_due": ("restricted", "user", "Stripe needs more information"),
    "requirements.pending_verification": ("pending_verification", "stripe", "verifying"),
    "under_review": ("pending_verification", "stripe", "Stripe is reviewing this account."),
}


def account_with(reason: str, *, past_due: list[str] | None = None) -> ExpressAccount:
    if past_due is None:
        past_due = ["individual.id_number"] if reason == "requirements.past_due" else []
    requirements = {
        "currently_due": list(past_due),
        "eventually_due": list(past_due),
        "past_due": list(past_due),
        "pending_verification": [],
        "errors": [],
        "disabled_reason": reason,
        "current_deadline": None,
    }
    account = ExpressAccountFactory.build(
        charges_enabled=False, payouts_enabled=False, details_submitted=True,
        disabled_reason=reason, requirements=requirements,
    )
    account.status = account.derive_status()  # as save() does
    return account


def render_button(account: ExpressAccount) -> str:
    return render("{% stripe_express_button account=acct %}", account.user, acct=account).html


def test_every_value_in_stripes_types_has_a_meaning() -> None:
    values = stripe_disabled_reasons()
    assert len(values) == 15
    assert set(values) == set(EXPECTED), "a disabled_reason without a meaning here"
    assert set(REASONS) == set(values)


@pytest.mark.parametrize("reason", stripe_disabled_reasons())
def test_each_value_has_its_status_and_words(reason: str) -> None:
    status, lifted_by, words = EXPECTED[reason]
    account = account_with(reason)

    assert account.derive_status() == status
    assert REASONS[reason].lifted_by == lifted_by
    assert words in user_text(reason, account.requirements)
    assert user_text(reason) != user_text("something.new")
    assert staff_text(reason) != staff_text("something.new")
    assert staff_text(reason) != user_text(reason)


@pytest.mark.parametrize("reason", stripe_disabled_reasons())
@pytest.mark.django_db
def test_the_button_says_it_and_offers_only_what_the_user_can_do(reason: str) -> None:
    account = account_with(reason)
    account.user.save()
    html = render_button(account)

    status, lifted_by, _words = EXPECTED[reason]
    assert f'data-stripe-express-status="{status}"' in html
    if lifted_by == "user":  # what to send, and where
        assert "Stripe needs this from you before it can send payouts again" in html
        assert "ID number" in html
    elif status != "pending_verification":  # that template says Stripe is checking
        assert user_text(reason, account.requirements) in html
    assert ("Update your details" in html) is (lifted_by == "user")


def test_other_with_items_past_due_is_a_review_the_user_resolves() -> None:
    account = account_with("other", past_due=["business_profile.url"])

    assert account.derive_status() == "restricted"
    assert user_text("other", account.requirements) == (
        "Stripe is reviewing this account and needs more information from you."
    )
    assert "the user can resolve it" in staff_text("other", account.requirements)
    # Not yet onboarded: finishing onboarding comes first.
    account.details_submitted = False
    assert account.derive_status() == "onboarding"


@pytest.mark.django_db
def test_the_review_shows_what_is_past_due_and_how_to_send_it() -> None:
    account = account_with("other", past_due=["business_profile.url"])
    account.user.save()
    html = render_button(account)

    assert 'data-stripe-express-status="restricted"' in html
    assert "Stripe is reviewing this account and needs more information from you." in html
    assert "Business website" in html
    assert "Update your details" in html


def test_platform_decisions_apply_before_onboarding_is_finished() -> None:
    for reason in ("action_required.requested_capabilities", "rejected.platform_other"):
        account = account_with(reason)
        account.details_submitted = False
        assert account.derive_status() == EXPECTED[reason][0]


def test_unknown_values_still_get_a_status() -> None:
    assert account_with("rejected.something_new").derive_status() == "disabled"
    assert account_with("something_new").derive_status() == "restricted"
    assert user_text("something_new") == "Stripe has disabled this account."
