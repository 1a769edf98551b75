"""The app's table of embedded components, and how the settings enable them."""

from __future__ import annotations

import typing

import pytest
import stripe

from django_stripe_express import conf as components
from django_stripe_express.conf import app_settings


def _value_type(hint: object) -> object:
    """``bool`` for ``NotRequired[bool]`` too (Python 3.10's `get_type_hints` keeps it)."""
    args = typing.get_args(hint)
    return args[0] if typing.get_origin(hint) is not None and args else hint


def test_each_component_has_the_features_stripe_16_accepts():
    for name, features in components.COMPONENTS.items():
        camel = "".join(part.capitalize() for part in name.split("_"))
        params = getattr(stripe.params, f"AccountSessionCreateParamsComponents{camel}Features")
        accepted = typing.get_type_hints(params)
        assert set(features) == set(accepted), name
        assert all(_value_type(t) is bool for t in accepted.values()), name


#: Stripe's money components (issue 26): each in the table, with its features.
MONEY_COMPONENTS = (
    "payments", "payment_details", "payouts", "payouts_list", "payout_details", "balances",
    "instant_payouts_promotion", "disputes_list", "payment_disputes", "documents",
    "tax_settings", "tax_registrations", "reporting_chart", "balance_report",
    "payout_reconciliation_report",
)


def test_stripe_s_money_components_are_in_the_table():
    assert set(MONEY_COMPONENTS) <= set(components.COMPONENTS)
    # Every component stripe 16 can make an Account Session for has its features
    # here exactly (test above); these are some of stripe's own fields.
    session = typing.get_type_hints(stripe.params.AccountSessionCreateParamsComponents)
    assert set(MONEY_COMPONENTS) <= set(session)


def test_a_money_component_s_features_reach_the_account_session(settings):
    settings.STRIPE_EXPRESS = {
        "SECRET_KEY": "sk_test_x",
        "EMBEDDED_COMPONENTS": {
            "payments": {"refund_management": True, "capture_payments": False},
            "payment_disputes": {"dispute_management": True, "capture_payments": True},
            "tax_settings": {},
        },
    }
    assert components.session_params(["payments", "payment_disputes", "tax_settings"]) == {
        "payments": {"enabled": True,
                     "features": {"refund_management": True, "capture_payments": False}},
        # payment_disputes has no capture_payments at Stripe: left out.
        "payment_disputes": {"enabled": True, "features": {"dispute_management": True}},
        "tax_settings": {"enabled": True},
    }


def test_by_default_the_issue_s_components_with_stripe_s_default_features(settings):
    settings.STRIPE_EXPRESS = {"SECRET_KEY": "sk_test_x"}
    assert app_settings.EMBEDDED_COMPONENTS == [
        "account_management", "notification_banner", "balances", "payouts", "payouts_list",
        "documents",
    ]
    assert components.enabled() == {
        "account_onboarding": {},
        "account_management": {},
        "notification_banner": {},
        "balances": {},
        "payouts": {},
        "payouts_list": {},
        "documents": {},
    }


def test_a_dict_gives_features_and_unknown_names_never_reach_stripe(settings):
    settings.STRIPE_EXPRESS = {
        "SECRET_KEY": "sk_test_x",
        "EMBEDDED_COMPONENTS": {
            "payouts": {"instant_payouts": True, "typo": True, "standard_payouts": "yes"},
            "account_onboarding": {"external_account_collection": False},
            "issuing_card": {},
        },
    }
    assert components.enabled() == {
        "account_onboarding": {"external_account_collection": False},
        "payouts": {"instant_payouts": True},
    }
    assert components.session_params(["payouts", "account_onboarding", "balances"]) == {
        "payouts": {"enabled": True, "features": {"instant_payouts": True}},
        "account_onboarding": {
            "enabled": True, "features": {"external_account_collection": False},
        },
    }


@pytest.mark.parametrize("value", ["payouts", 3, None])
def test_a_shape_the_app_cannot_read_enables_only_onboarding(settings, value):
    # (Check E030 says what is wrong with it.)
    settings.STRIPE_EXPRESS = {"SECRET_KEY": "sk_test_x", "EMBEDDED_COMPONENTS": value}
    assert app_settings.EMBEDDED_COMPONENTS == []
    assert components.enabled() == {"account_onboarding": {}}


def test_connect_js_names():
    assert components.element_name("account_management") == "account-management"
    assert components.element_name("payouts") == "payouts"
