"""Every system check id, through `manage.py check` as a user runs it."""

import re
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import SystemCheckError

# Django 6.1's model checks open a cursor on every database (JSONField
# support), the test settings' "replica" included.
pytestmark = pytest.mark.django_db(databases=["default", "replica"])

VALID = {
    "SECRET_KEY": "sk_test_abc",
    "CLIENT_ID": "ca_abc",
    "WEBHOOK_SECRETS": ["whsec_abc"],
}


def run_check() -> str:
    """The output of `manage.py check`, errors included."""
    out = StringIO()
    try:
        call_command("check", stdout=out, stderr=out)
    except SystemCheckError as exc:
        return str(exc)
    return out.getvalue()


def ids(output: str) -> set[str]:
    return set(re.findall(r"django_stripe_express\.[EW]\d{3}", output))


def test_valid_configuration_reports_nothing(settings):
    settings.STRIPE_EXPRESS = dict(VALID)
    output = run_check()
    assert "django_stripe_express" not in output
    assert "no issues" in output


@pytest.mark.parametrize(
    ("changes", "expected_id", "hint_words"),
    [
        ({"SECRET_KEY": ""}, "E001", "sk_test_"),
        ({"SECRET_KEY": "hello"}, "E002", "restricted key"),
        ({"SECRET_KEY": "pk_test_abc"}, "E002", "publishable key"),
        ({"ONBOARDING": "magic"}, "E003", "'oauth', 'account_links'"),
        ({"CLIENT_ID": ""}, "E004", "Connect > Settings"),
        ({"CLIENT_ID": "abc"}, "E004", "account_links"),
        ({"WEBHOOK_SECRETS": ["sk_test_oops"]}, "E005", "signing secret"),
        ({"SUGGESTED_CAPABILITIES": "transfers"}, "E006", '["transfers"]'),
        ({"BUSINESS_TYPE": "llc"}, "E007", "individual"),
        ({"STATE_MAX_AGE": 0}, "E008", "default"),
        ({"MAX_NETWORK_RETRIES": -1}, "E008", "default"),
        ({"PREFILL": "no.such.module.prefill"}, "E009", "dotted path"),
        ({"PREFILL": "django_stripe_express.conf.SETTING_NAME"}, "E009", "function"),
        ({"CONNECT_BASE": "connect.stripe.com"}, "E011", "full URL"),
        ({"ACCOUNTS_API": "v3"}, "E024", '"v2"'),
        ({"RESPONSIBILITIES": {"fees_collector": "application"}}, "E025", "classic Express"),
        ({"RESPONSIBILITIES": "platform"}, "E025", "classic Express"),
        (
            {"RESPONSIBILITIES": {"fees_collector": "platform", "losses_collector": "stripe"}},
            "E025",
            "application_express",
        ),
        (
            {"RESPONSIBILITIES": {"fees_collector": "stripe", "losses_collector": "application"}},
            "E025",
            'losses_collector "stripe"',
        ),
        ({"SECRET_KEY": "rk_test_abc", "ONBOARDING": "account_links"}, "E026", "sk_"),
        ({"WEBHOOK_SECRETS": []}, "W001", "whsec_"),
        ({"ASSERT_CAPABILITIES": True, "SUGGESTED_CAPABILITIES": []}, "W003", "SUGGESTED"),
        ({"SECRET_KEYS": "typo"}, "W004", "spelling"),
    ],
)
def test_each_misconfiguration_has_its_id_and_hint(settings, changes, expected_id, hint_words):
    settings.STRIPE_EXPRESS = {**VALID, **changes}
    output = run_check()
    assert f"django_stripe_express.{expected_id}" in output
    assert hint_words in output
    assert ids(output) == {f"django_stripe_express.{expected_id}"}


def test_secret_key_is_never_echoed(settings):
    settings.STRIPE_EXPRESS = {**VALID, "SECRET_KEY": "pk_live_do_not_print_me"}
    assert "do_not_print_me" not in run_check()


def test_live_key_with_debug_warns(settings):
    settings.DEBUG = True
    settings.STRIPE_EXPRESS = {**VALID, "SECRET_KEY": "sk_live_abc"}
    assert ids(run_check()) == {"django_stripe_express.W002"}
    settings.DEBUG = False
    assert ids(run_check()) == set()


def test_http_redirect_uri_with_live_key_warns(settings):
    settings.STRIPE_EXPRESS = {
        **VALID,
        "SECRET_KEY": "sk_live_abc",
        "REDIRECT_URI": "http://example.com/stripe/oauth/callback/",
    }
    assert ids(run_check()) == {"django_stripe_express.W005"}


def test_account_links_needs_no_client_id(settings):
    settings.STRIPE_EXPRESS = {**VALID, "ONBOARDING": "account_links", "CLIENT_ID": ""}
    assert ids(run_check()) == set()


@pytest.mark.parametrize(
    "changes",
    [
        {"ACCOUNTS_API": "v1"},
        {"RESPONSIBILITIES": {"fees_collector": "stripe", "losses_collector": "stripe"}},
        {"RESPONSIBILITIES": {"fees_collector": "application", "losses_collector": "stripe"}},
        # A restricted key is fine for v1, and for OAuth (Stripe creates those accounts).
        {"SECRET_KEY": "rk_test_abc", "ONBOARDING": "account_links", "ACCOUNTS_API": "v1"},
        {"SECRET_KEY": "rk_test_abc"},
    ],
)
def test_valid_accounts_settings(settings, changes):
    settings.STRIPE_EXPRESS = {**VALID, **changes}
    assert ids(run_check()) == set()


def test_settings_not_a_dict(settings):
    settings.STRIPE_EXPRESS = ["sk_test_abc"]
    assert ids(run_check()) == {"django_stripe_express.E010"}


def test_missing_contrib_apps(settings):
    settings.STRIPE_EXPRESS = dict(VALID)
    settings.INSTALLED_APPS = [a for a in settings.INSTALLED_APPS if a != "django.contrib.messages"]
    output = run_check()
    assert "django_stripe_express.E012" in output
    assert "django.contrib.messages" in output


class EventsElsewhere:
    def db_for_write(self, model, **hints):
        return "replica" if model._meta.model_name == "webhookevent" else None


def test_models_routed_to_different_databases(settings):
    settings.STRIPE_EXPRESS = dict(VALID)
    settings.DATABASE_ROUTERS = [f"{__name__}.EventsElsewhere"]
    output = run_check()
    assert "django_stripe_express.E013" in output
    assert "WebhookEvent to 'replica'" in output
    assert "ExpressAccount to 'default'" in output


class AttemptsElsewhere:
    def db_for_write(self, model, **hints):
        return "replica" if model._meta.model_name == "connectattempt" else None


def test_attempts_routed_elsewhere(settings):
    settings.STRIPE_EXPRESS = dict(VALID)
    settings.DATABASE_ROUTERS = [f"{__name__}.AttemptsElsewhere"]
    assert "ConnectAttempt to 'replica'" in run_check()
