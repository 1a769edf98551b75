import pytest
import stripe
from django.core.exceptions import ImproperlyConfigured

from django_stripe_express.conf import MissingSetting, app_settings
from django_stripe_express.stripe_api import get_client


def test_settings_are_read_at_access_time(settings):
    settings.STRIPE_EXPRESS = {"SECRET_KEY": "sk_test_one", "STATE_MAX_AGE": 10}
    assert app_settings.SECRET_KEY == "sk_test_one"
    assert app_settings.STATE_MAX_AGE == 10

    settings.STRIPE_EXPRESS = {"SECRET_KEY": "sk_test_two"}
    assert app_settings.SECRET_KEY == "sk_test_two"
    assert app_settings.STATE_MAX_AGE == 3600


def test_defaults(settings):
    settings.STRIPE_EXPRESS = {"SECRET_KEY": "sk_test_x"}
    assert app_settings.ONBOARDING == "account_links"
    assert app_settings.WEBHOOK_SECRETS == []
    assert app_settings.WEBHOOK_TOLERANCE == 300
    assert app_settings.SUGGESTED_CAPABILITIES == ["transfers"]
    assert app_settings.ASSERT_CAPABILITIES is False
    assert app_settings.API_BASE == "https://api.stripe.com"
    assert app_settings.CONNECT_BASE == "https://connect.stripe.com"
    # A hung Stripe: 3 tries of 8 s (about 25 s), not 3 of 30 s (91 s).
    assert app_settings.MAX_NETWORK_RETRIES == 2
    assert app_settings.TIMEOUT == 8
    assert app_settings.REDIRECT_URI is None
    assert app_settings.PREFILL == "django_stripe_express.onboarding.common.default_prefill"
    assert app_settings.livemode is False


def test_the_default_hosts_are_out_of_reach_in_tests(settings):
    # With the defaults, the app would call the real Stripe; the suite's
    # network guard (conftest) refuses anything but loopback.
    settings.STRIPE_EXPRESS = {"SECRET_KEY": "sk_test_x", "MAX_NETWORK_RETRIES": 0}
    with pytest.raises(stripe.APIConnectionError, match="tests may not reach"):
        get_client().v1.accounts.retrieve("acct_123")


@pytest.mark.parametrize("key", ["SECRET_KEY", "CLIENT_ID"])
def test_missing_required_key_names_it(settings, key):
    settings.STRIPE_EXPRESS = {"SECRET_KEY": "sk_test_x", "CLIENT_ID": "ca_x", key: ""}
    with pytest.raises(MissingSetting) as excinfo:
        _ = getattr(app_settings, key)
    assert isinstance(excinfo.value, ImproperlyConfigured)
    assert excinfo.value.key == key
    assert f"STRIPE_EXPRESS[{key!r}]" in str(excinfo.value)


def test_absent_dict_behaves_as_empty(settings):
    del settings.STRIPE_EXPRESS
    with pytest.raises(MissingSetting):
        _ = app_settings.SECRET_KEY
    assert app_settings.ONBOARDING == "account_links"


def test_single_webhook_secret_string_is_accepted(settings):
    settings.STRIPE_EXPRESS = {"SECRET_KEY": "sk_test_x", "WEBHOOK_SECRETS": "whsec_a"}
    assert app_settings.WEBHOOK_SECRETS == ["whsec_a"]


def test_livemode_follows_the_key(settings):
    settings.STRIPE_EXPRESS = {"SECRET_KEY": "sk_live_x"}
    assert app_settings.livemode is True
    settings.STRIPE_EXPRESS = {"SECRET_KEY": "rk_test_x"}
    assert app_settings.livemode is False


def test_bases_lose_trailing_slash(settings):
    settings.STRIPE_EXPRESS = {"SECRET_KEY": "sk_test_x", "API_BASE": "http://127.0.0.1:1/"}
    assert app_settings.API_BASE == "http://127.0.0.1:1"


def test_error_pages_hide_the_secrets(settings):
    """Django's debug page and error e-mails show settings: ours come out masked."""
    from django.views.debug import SafeExceptionReporterFilter

    settings.STRIPE_EXPRESS = {
        "SECRET_KEY": "sk_live_do_not_show",
        "WEBHOOK_SECRETS": ["whsec_do_not_show"],
        "CLIENT_ID": "ca_public",
    }
    shown = SafeExceptionReporterFilter().get_safe_settings()["STRIPE_EXPRESS"]
    assert "do_not_show" not in repr(shown)
    assert shown["CLIENT_ID"] == "ca_public"
