"""The fake Stripe's Account Sessions and stand-in Connect.js, through the real
`stripe` library and plain HTTP, as a browser's iframe would talk to it."""

from __future__ import annotations

import time
import typing

import pytest
import requests
import stripe

from django_stripe_express.testing import api

from .embedded_support import draw


@pytest.fixture
def acct(fake_stripe) -> str:
    return str(fake_stripe.create_account(email="maker@example.com")["id"])


def create(client, acct: str, **components):
    return client.v1.account_sessions.create(
        {"account": acct, "components": components or {"payouts": {"enabled": True}}}
    )


def test_the_answer_is_stripe_16_s_typed_account_session(fake_stripe_client, acct):
    session = create(
        fake_stripe_client, acct,
        payouts={"enabled": True, "features": {"instant_payouts": True}},
        account_onboarding={"enabled": True},
    )

    assert isinstance(session, stripe.AccountSession)
    assert isinstance(session.components, stripe.AccountSession.Components)
    payouts = session.components.payouts
    assert isinstance(payouts, stripe.AccountSession.Components.Payouts)
    assert isinstance(payouts.features, stripe.AccountSession.Components.Payouts.Features)
    assert payouts.enabled is True
    assert payouts.features.instant_payouts is True
    # Express: the platform covers losses, so Stripe's default keeps these off.
    assert payouts.features.edit_payout_schedule is False
    assert payouts.features.external_account_collection is True
    assert session.components.balances.enabled is False
    assert session.account == acct
    assert session.client_secret.startswith("accs_secret__")
    assert session.livemode is False
    assert time.time() < session.expires_at <= time.time() + 30 * 60 + 1


def _fields(cls: type) -> dict[str, object]:
    """The documented fields of one of stripe's typed objects (not its internals)."""
    return {n: t for n, t in typing.get_type_hints(cls).items() if not n.startswith("_")}


def test_the_fake_knows_every_component_and_feature_of_stripe_16(fake_stripe_client, acct):
    components = _fields(stripe.AccountSession.Components)
    assert set(api.components()) == set(components)
    for name, component_type in components.items():
        features = _fields(component_type.Features)  # type: ignore[attr-defined]
        assert set(api.components()[name]) == set(features), name
        assert all(t is bool for t in features.values()), name
    # And every one of them is in the answer, typed.
    session = create(fake_stripe_client, acct)
    for name, component_type in components.items():
        component = getattr(session.components, name)
        assert isinstance(component, component_type)  # type: ignore[arg-type]
        assert set(component.features.to_dict()) == set(api.components()[name])


@pytest.mark.parametrize(
    ("components", "param", "message"),
    [
        ({"payoutz": {"enabled": True}}, "components[payoutz]", "Received unknown parameter"),
        ({"payouts": {"features": {"instant_payouts": True}}}, "components[payouts][enabled]",
         "Missing required param"),
        ({"payouts": {"enabled": True, "features": {"instant": True}}},
         "components[payouts][features][instant]", "Received unknown parameter"),
        ({"payouts": {"enabled": True, "open": True}}, "components[payouts][open]",
         "Received unknown parameter"),
        ({"payouts": {"enabled": "yes"}}, "components[payouts][enabled]", "Invalid boolean"),
        ({"payouts": {"enabled": True,
                      "features": {"disable_stripe_user_authentication": True}}},
         "components[payouts][features][disable_stripe_user_authentication]",
         "requirement_collection"),
    ],
)
def test_parameters_are_checked_as_stripe_checks_them(
    fake_stripe_client, acct, components, param, message
):
    with pytest.raises(stripe.InvalidRequestError) as raised:
        fake_stripe_client.v1.account_sessions.create({"account": acct, "components": components})
    assert raised.value.param == param
    assert message in str(raised.value.user_message)
    assert raised.value.http_status == 400


def test_account_and_components_are_required_and_the_account_must_exist(
    fake_stripe_client, acct
):
    with pytest.raises(stripe.InvalidRequestError, match="Missing required param: components"):
        fake_stripe_client.v1.account_sessions.create({"account": acct})  # type: ignore[typeddict-item]
    with pytest.raises(stripe.InvalidRequestError) as raised:
        create(fake_stripe_client, "acct_nobody")
    assert raised.value.code == "resource_missing"


def test_the_stand_in_connect_js_is_served(fake_stripe):
    response = requests.get(fake_stripe.connect_js_url, timeout=5)
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/javascript")
    assert "window.StripeConnect.init" in response.text
    assert fake_stripe.connect_js_url.endswith("/connect-js/v1.0/connect.js")


def test_a_frame_draws_the_account_the_secret_is_bound_to(
    fake_stripe, fake_stripe_client, acct
):
    fake_stripe.set_balance(acct, available=123456, pending=7800)
    fake_stripe.add_payout(acct, 5000, arrival_date=1767225600)
    secret = create(
        fake_stripe_client, acct,
        payouts={"enabled": True, "features": {"instant_payouts": True}},
        balances={"enabled": True},
    ).client_secret

    payouts = draw(fake_stripe, "payouts", secret)
    assert payouts.status_code == 200
    assert acct in payouts.text  # reported to the host page as the shown account
    assert "$1,234.56" in payouts.text
    assert "$78.00" in payouts.text
    assert "$50.00" in payouts.text
    assert "2026-01-01" in payouts.text
    assert '<button type="button" data-feature="instant_payouts">' in payouts.text
    assert 'data-feature="edit_payout_schedule" disabled' in payouts.text
    # Another component of the same Connect.js instance: the same claimed secret.
    assert "$1,234.56" in draw(fake_stripe, "balances", secret).text


@pytest.mark.parametrize(
    ("change", "error_type", "words"),
    [
        ({"publishable_key": "pk_test_wrong"}, "authentication_error", "Invalid API Key"),
        ({"client_secret": "accs_secret__forged"}, "invalid_request_error", "Invalid client"),
        ({"instance": "another-tab"}, "invalid_request_error", "already used"),
        ({"account": "acct_someone_else"}, "invalid_request_error", "another account"),
    ],
)
def test_a_frame_refuses_what_stripe_would(
    fake_stripe, fake_stripe_client, acct, change, error_type, words
):
    secret = create(fake_stripe_client, acct).client_secret
    assert "loaded" in draw(fake_stripe, "payouts", secret).text  # claimed by instance-1

    refused = draw(fake_stripe, "payouts", secret, **change)

    assert '"type": "loaderror"' in refused.text
    assert f'"type": "{error_type}"' in refused.text
    assert words in refused.text
    assert acct not in refused.text


def test_stripe_s_money_components_draw_for_the_session_s_account(
    fake_stripe, fake_stripe_client, acct
):
    from django_stripe_express.conf import COMPONENTS

    from .test_components import MONEY_COMPONENTS

    fake_stripe.set_balance(acct, available=9000, instant_available=2500)
    fake_stripe.add_payout(acct, 5000, arrival_date=1767225600)
    secret = create(fake_stripe_client, acct, **{
        name: {"enabled": True} for name in MONEY_COMPONENTS if name in COMPONENTS}
    ).client_secret

    for name in MONEY_COMPONENTS:
        drawn = draw(fake_stripe, name, secret)
        assert drawn.status_code == 200, name
        assert acct in drawn.text, name
        assert "loaderror" not in drawn.text, name
    assert "$25.00 can be paid out now" in draw(
        fake_stripe, "instant_payouts_promotion", secret).text
    assert "2026-01-01" in draw(fake_stripe, "payout_details", secret).text
    assert "<h2>Payment disputes</h2>" in draw(fake_stripe, "payment_disputes", secret).text


def test_a_component_not_in_the_session_is_refused(fake_stripe, fake_stripe_client, acct):
    secret = create(fake_stripe_client, acct).client_secret  # payouts only
    refused = draw(fake_stripe, "account_management", secret)
    assert "not enabled in this account session" in refused.text


def test_an_unclaimed_secret_expires(fake_stripe, fake_stripe_client, acct, monkeypatch):
    monkeypatch.setattr(fake_stripe, "session_ttl", -1)
    secret = create(fake_stripe_client, acct).client_secret
    page = draw(fake_stripe, "payouts", secret)
    assert '"type": "expired"' in page.text  # the stand-in fetches a new one
    assert acct not in page.text


def test_the_onboarding_frame_finishes_or_leaves_onboarding(
    fake_stripe, fake_stripe_client, acct
):
    secret = create(fake_stripe_client, acct, account_onboarding={"enabled": True}).client_secret
    form = draw(fake_stripe, "account_onboarding", secret)
    assert "Agree and submit" in form.text
    assert "tos_acceptance.date" in form.text

    later = draw(fake_stripe, "account_onboarding/submit", secret, action="later")
    assert '"type": "exit"' in later.text
    assert fake_stripe.accounts[acct]["details_submitted"] is False

    done = draw(fake_stripe, "account_onboarding/submit", secret, action="agree", finish="on")
    assert '"type": "exit"' in done.text
    assert fake_stripe.accounts[acct]["details_submitted"] is True
    assert fake_stripe.accounts[acct]["payouts_enabled"] is True


def test_the_notification_banner_shows_what_is_due_and_nothing_otherwise(
    fake_stripe, fake_stripe_client, acct
):
    secret = create(fake_stripe_client, acct, notification_banner={"enabled": True}).client_secret
    due = draw(fake_stripe, "notification_banner", secret)
    assert "Action required" in due.text
    assert "external_account" in due.text

    fake_stripe.complete_onboarding(acct)
    quiet = draw(fake_stripe, "notification_banner", secret)
    assert "Action required" not in quiet.text
    assert '"total": 0' in quiet.text


def test_the_appearance_colours_the_frames_and_unsafe_values_are_dropped(
    fake_stripe, fake_stripe_client, acct
):
    secret = create(fake_stripe_client, acct).client_secret
    page = draw(
        fake_stripe, "payouts", secret,
        appearance='{"variables": {"colorPrimary": "#0f766e", '
                   '"colorText": "red;}</style><script>alert(1)</script>"}}',
    )
    assert "--primary:#0f766e" in page.text
    assert "alert(1)" not in page.text


def test_reset_forgets_sessions_balances_and_payouts(fake_stripe, fake_stripe_client, acct):
    create(fake_stripe_client, acct)
    fake_stripe.set_balance(acct, available=1)
    fake_stripe.add_payout(acct, 1)
    fake_stripe.reset()
    assert fake_stripe.account_sessions() == []
    assert fake_stripe.balances == {}
    assert fake_stripe.payouts == {}


def test_reset_restores_the_publishable_key_and_the_session_lifetime(fake_stripe):
    key, ttl = fake_stripe.publishable_key, fake_stripe.session_ttl
    fake_stripe.publishable_key = "pk_test_other"
    fake_stripe.session_ttl = 0.1
    fake_stripe.reset()
    assert (fake_stripe.publishable_key, fake_stripe.session_ttl) == (key, ttl)
