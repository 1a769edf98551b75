"""Checks E027-E031 and W015 (embedded onboarding and components), through
`manage.py check` as a user runs it."""

import pytest

from .test_checks import VALID, ids, run_check

pytestmark = pytest.mark.django_db(databases=["default", "replica"])

EMBEDDED = {**VALID, "ONBOARDING": "embedded", "PUBLISHABLE_KEY": "pk_test_abc"}


def test_a_valid_embedded_configuration_reports_nothing(settings):
    settings.STRIPE_EXPRESS = {
        **EMBEDDED,
        "CONNECT_JS_URL": "http://127.0.0.1:12111/connect-js/v1.0/connect.js",
        "EMBEDDED_COMPONENTS": {
            "payouts": {"instant_payouts": True, "edit_payout_schedule": True},
            "account_management": {},
            "documents": {},
        },
        "EMBEDDED_APPEARANCE": {"variables": {"colorPrimary": "#0f766e"}},
    }
    output = run_check()
    assert "django_stripe_express" not in output, output


def test_a_list_of_components_is_valid_too(settings):
    settings.STRIPE_EXPRESS = {**EMBEDDED, "EMBEDDED_COMPONENTS": ["payouts", "balances"]}
    assert "django_stripe_express" not in run_check()


def test_stripe_s_money_components_are_accepted(settings):
    from .test_components import MONEY_COMPONENTS

    settings.STRIPE_EXPRESS = {**EMBEDDED, "EMBEDDED_COMPONENTS": list(MONEY_COMPONENTS)}
    assert "django_stripe_express" not in run_check()
    settings.STRIPE_EXPRESS = {**EMBEDDED, "EMBEDDED_COMPONENTS": {
        "payments": {"refund_management": True, "capture_payments": True},
        "disputes_list": {"dispute_management": True},
        "instant_payouts_promotion": {"instant_payouts": True},
        "payout_reconciliation_report": {},
    }}
    assert "django_stripe_express" not in run_check()


def test_a_feature_of_another_money_component_is_refused(settings):
    # payment_disputes has no capture_payments at Stripe (payments has).
    settings.STRIPE_EXPRESS = {**EMBEDDED, "EMBEDDED_COMPONENTS": {
        "payment_disputes": {"capture_payments": True}}}
    output = run_check()
    assert ids(output) == {"django_stripe_express.E030"}, output
    assert "capture_payments" in output


@pytest.mark.parametrize(
    ("changes", "expected_id", "hint_words"),
    [
        ({"PUBLISHABLE_KEY": ""}, "E027", "pk_test_"),
        ({"PUBLISHABLE_KEY": "whatever"}, "E027", "publishable key"),
        ({"PUBLISHABLE_KEY": "pk_live_abc"}, "E028", "same mode"),
        ({"SECRET_KEY": "sk_live_abc"}, "E028", "same mode"),
        ({"CONNECT_JS_URL": "http://cdn.example.com/connect.js"}, "E029", "https"),
        ({"CONNECT_JS_URL": "connect-js.stripe.com/v1.0/connect.js"}, "E029", "https"),
        ({"EMBEDDED_COMPONENTS": ["payouts", "payout"]}, "E030", "account_management"),
        ({"EMBEDDED_COMPONENTS": {"payouts": {"instant": True}}}, "E030", "no feature 'instant'"),
        ({"EMBEDDED_COMPONENTS": {"payouts": {"instant_payouts": "yes"}}}, "E030", "default"),
        ({"EMBEDDED_COMPONENTS": {"payouts": True}}, "E030", "dict"),
        ({"EMBEDDED_COMPONENTS": "payouts"}, "E030", "list of names"),
        ({"EMBEDDED_APPEARANCE": "#0f766e"}, "E030", "colorPrimary"),
        # Issue 23, point 7: both make every Account Session fail for Express
        # accounts, so both are errors (disable_stripe_user_authentication was W014).
        (
            {"EMBEDDED_COMPONENTS": {"payouts": {"disable_stripe_user_authentication": True}}},
            "E031", "requirement_collection",
        ),
        (
            {"EMBEDDED_COMPONENTS": {"account_onboarding": {"external_account_collection": False}}},
            "E030", "Custom-like accounts",
        ),
    ],
)
def test_each_misconfiguration_has_its_id_and_a_hint(settings, changes, expected_id, hint_words):
    settings.STRIPE_EXPRESS = {**EMBEDDED, **changes}
    output = run_check()
    assert ids(output) == {f"django_stripe_express.{expected_id}"}, output
    assert "HINT:" in output
    assert hint_words in output


def test_the_publishable_key_is_required_only_for_embedded_onboarding(settings):
    settings.STRIPE_EXPRESS = {**VALID, "ONBOARDING": "account_links"}
    assert "django_stripe_express" not in run_check()
    settings.STRIPE_EXPRESS = {**VALID, "ONBOARDING": "account_links", "PUBLISHABLE_KEY": "x"}
    assert ids(run_check()) == {"django_stripe_express.E027"}


def test_a_secret_key_in_the_publishable_slot_is_named_never_shown(settings):
    secret = "sk_test_Y2hvY29sYXRlIGNha2UgaXMgYSBsaWU"
    settings.STRIPE_EXPRESS = {**EMBEDDED, "PUBLISHABLE_KEY": secret}
    output = run_check()
    assert ids(output) == {"django_stripe_express.E027"}
    assert "That is a secret key" in output
    assert "roll it" in output
    assert secret not in output
    assert "Y2hvY29s" not in output


@pytest.mark.parametrize("host", ["127.0.0.1:8000", "localhost:12111", "[::1]:9"])
def test_plain_http_is_allowed_for_a_stand_in_on_this_machine(settings, host):
    settings.STRIPE_EXPRESS = {**EMBEDDED, "CONNECT_JS_URL": f"http://{host}/connect.js"}
    assert "django_stripe_express" not in run_check()


def test_a_live_key_with_another_connect_js_warns(settings):
    live = {
        **EMBEDDED, "SECRET_KEY": "sk_live_abc", "PUBLISHABLE_KEY": "pk_live_abc",
        "WEBHOOK_SECRETS": ["whsec_" + "L1ve" * 8],
    }
    settings.STRIPE_EXPRESS = {**live, "CONNECT_JS_URL": "https://cdn.example.com/connect.js"}
    output = run_check()
    assert ids(output) == {"django_stripe_express.W015"}
    assert "receives your users' Account Sessions" in output
    settings.STRIPE_EXPRESS = live  # Stripe's own script: nothing to say
    assert "django_stripe_express" not in run_check()


def test_embedded_is_a_known_flow(settings):
    settings.STRIPE_EXPRESS = {**VALID, "ONBOARDING": "embeded", "PUBLISHABLE_KEY": "pk_test_a"}
    output = run_check()
    assert ids(output) == {"django_stripe_express.E003"}
    assert "'embedded'" in output
