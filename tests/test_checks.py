"""Every system check id, through `manage.py check` as a user runs it."""

import os
import re
import subprocess
import sys
from importlib.util import find_spec
from io import StringIO
from pathlib import Path

import django
import pytest
from django.contrib.messages.middleware import MessageMiddleware
from django.core.management import call_command
from django.core.management.base import SystemCheckError

# Django 6.1's model checks open a cursor on every database (JSONField
# support), the test settings' "replica" included.
pytestmark = pytest.mark.django_db(databases=["default", "replica"])

#: A signing secret shaped like Stripe's (whsec_ and 32 letters and digits).
REAL_SECRET = "whsec_" + "a1B2" * 8

VALID = {
    "SECRET_KEY": "sk_test_abc",
    # OAuth: the flow that reads the most settings (the default is Account Links).
    "ONBOARDING": "oauth",
    "CLIENT_ID": "ca_abc",
    "WEBHOOK_SECRETS": [REAL_SECRET],
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
        ({"SECRET_KEY": "pk_test_abc"}, "E002", "(pk_...): use a secret key (sk_...)"),
        ({"ONBOARDING": "magic"}, "E003", "'oauth', 'account_links'"),
        ({"ONBOARDING": "acount_links"}, "E003", "Did you mean 'account_links'?"),
        ({"ONBOARDING": "Embeded"}, "E003", "Did you mean 'embedded'?"),
        ({"ONBOARDING": "oauth", "CLIENT_ID": ""}, "E004", "Connect > Settings"),
        ({"ONBOARDING": "oauth", "CLIENT_ID": "abc"}, "E004", "account_links"),
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
        (
            {"SECRET_KEY": "rk_test_abc", "ONBOARDING": "embedded", "PUBLISHABLE_KEY": "pk_test_a"},
            "E026",
            "sk_",
        ),
        ({"WEBHOOK_SECRETS": []}, "W001", "whsec_"),
        ({"WEBHOOK_SECRETS": []}, "W001", "event destination for thin events"),
        ({"ASSERT_CAPABILITIES": True, "SUGGESTED_CAPABILITIES": []}, "W003", "SUGGESTED"),
        ({"SECRET_KEYS": "typo"}, "W004", "spelling"),
        ({"SECRET_KEYS": "typo"}, "W004", "Did you mean 'SECRET_KEY' instead of 'SECRET_KEYS'?"),
        ({"webhook_secret": ["whsec_a"]}, "W004", "'WEBHOOK_SECRETS' instead of"),
        # deployment_checks: configurations that work, dangerously.
        ({"SECRET_KEY": "sk_live_abc", "API_BASE": "http://api.stripe.com"}, "E014", "production"),
        ({"SECRET_KEY": "sk_live_abc", "API_BASE": "https://api.stripe.com.evil.example"},
         "E014", "fake Stripe"),
        ({"SECRET_KEY": "sk_live_abc", "CONNECT_BASE": "https://stripe.com@evil.example"},
         "E014", "production"),
        ({"SECRET_KEY": "sk_live_abc", "WEBHOOK_SECRETS": [REAL_SECRET, "whsec_fake"]},
         "E015", "public"),
        ({"SECRET_KEY": "sk_live_abc", "CLIENT_ID": "ca_fake"}, "E015", "client id"),
        ({"SECRET_KEY": "sk_test_abc\n"}, "E016", "strip"),
        ({"SECRET_KEY": " sk_test_abc"}, "E016", "strip"),
        ({"CLIENT_ID": "ca_abc "}, "E016", ".env"),
        ({"WEBHOOK_SECRETS": [REAL_SECRET + "\r\n"]}, "E016", "strip"),
        ({"SECRET_KEY": "sk_tset_abc"}, "E017", "sk_test_, sk_live_"),
        ({"SECRET_KEY": "rk_prod_abc"}, "E017", "rk_live_"),
        ({"WEBHOOK_SECRETS": "whsec_abc,whsec_def"}, "E018", "split"),
        ({"WEBHOOK_SECRETS": ["whsec_abc, whsec_def"]}, "E018", "one whsec_"),
        ({"WEBHOOK_SECRETS": ["whsec_abc whsec_def"]}, "E018", "one whsec_"),
        ({"WEBHOOK_TOLERANCE": 86400}, "W006", "300 seconds"),
        ({"WEBHOOK_SECRETS": ["whsec_fake"]}, "W009", "signing secret"),
        ({"CLIENT_ID": "ca_fake"}, "W009", "client id"),
        ({"SUGGESTED_CAPABILITIES": ["transfer"]}, "E020", "Did you mean 'transfers'?"),
        ({"SUGGESTED_CAPABILITIES": ["transfers", "payouts"]}, "E020", "'payouts'"),
        ({"SUGGESTED_CAPABILITIES": ["card_payments"]}, "W010", "Add 'transfers'"),
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


def test_the_default_flow_needs_no_client_id(settings):
    # A new platform cannot get Express OAuth: the default is Account Links.
    settings.STRIPE_EXPRESS = {"SECRET_KEY": "sk_test_abc", "WEBHOOK_SECRETS": [REAL_SECRET]}
    assert ids(run_check()) == set()
    # ... and the restricted key that Account Links' v2 accounts cannot use is named.
    settings.STRIPE_EXPRESS = {"SECRET_KEY": "rk_test_abc", "WEBHOOK_SECRETS": [REAL_SECRET]}
    assert ids(run_check()) == {"django_stripe_express.E026"}


@pytest.mark.parametrize(
    "changes",
    [
        {"ACCOUNTS_API": "v1"},
        {"RESPONSIBILITIES": {"fees_collector": "application_express",
                              "losses_collector": "application"}},
        # A restricted key is fine for v1, and for OAuth (Stripe creates those accounts).
        {"SECRET_KEY": "rk_test_abc", "ONBOARDING": "account_links", "ACCOUNTS_API": "v1"},
        {"SECRET_KEY": "rk_test_abc", "ONBOARDING": "oauth"},
    ],
)
def test_valid_accounts_settings(settings, changes):
    settings.STRIPE_EXPRESS = {**VALID, **changes}
    assert ids(run_check()) == set()


@pytest.mark.parametrize("fees", ["stripe", "application"])
def test_stripe_covering_losses_is_managed_risk(settings, fees):
    """Issue 23, point 7: Stripe covering an Express account's losses is Managed
    Risk (changelog 2026-11-18.endive), which Stripe enables per platform: said."""
    settings.STRIPE_EXPRESS = {
        **VALID, "RESPONSIBILITIES": {"fees_collector": fees, "losses_collector": "stripe"}
    }
    output = run_check()
    assert ids(output) == {"django_stripe_express.W017"}
    assert "Managed Risk" in output
    assert "HINT:" in output


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


# -- deployment_checks: the cases that must stay quiet, and the project-wide ones --------


@pytest.mark.parametrize(
    "changes",
    [
        {"SECRET_KEY": "sk_live_abc", "API_BASE": "https://api.stripe.com",
         "CONNECT_BASE": "https://connect.stripe.com/"},
        {"SECRET_KEY": "rk_live_abc"},
        {"SECRET_KEY": "sk_test_abc", "API_BASE": "http://127.0.0.1:12111"},
        {"WEBHOOK_SECRETS": [REAL_SECRET, "whsec_" + "Z9y8" * 16]},
        {"WEBHOOK_TOLERANCE": 3600},
    ],
)
def test_safe_configurations_stay_quiet(settings, changes):
    settings.STRIPE_EXPRESS = {**VALID, **changes}
    assert ids(run_check()) == set()


#: The offline demo: the fake's credentials with the fake itself.
OFFLINE = {
    "SECRET_KEY": "sk_test_fake", "CLIENT_ID": "ca_fake", "WEBHOOK_SECRETS": ["whsec_fake"],
    "API_BASE": "http://127.0.0.1:12111", "CONNECT_BASE": "http://127.0.0.1:12111",
}


def test_the_offline_demo_is_quiet_with_debug_on_and_warned_with_it_off(settings):
    settings.STRIPE_EXPRESS = {**VALID, **OFFLINE}
    settings.DEBUG = True
    assert ids(run_check()) == set()
    settings.DEBUG = False
    output = run_check()
    assert ids(output) == {"django_stripe_express.W018"}
    assert "DEBUG is off" in output


@pytest.mark.parametrize("secret", ["whsec_...", "whsec_", "whsec_xxx", "whsec_XXXXXXXX",
                                    "whsec_your_signing_secret"])
@pytest.mark.parametrize("key", ["sk_test_abc", "sk_live_abc"])
def test_placeholder_webhook_secrets_are_errors_whatever_the_key(settings, secret, key):
    settings.STRIPE_EXPRESS = {**VALID, "SECRET_KEY": key, "WEBHOOK_SECRETS": [secret]}
    output = run_check()
    assert "django_stripe_express.E033" in ids(output)
    assert "HINT:" in output


def test_a_secret_not_shaped_like_stripe_s_warns_and_with_a_live_key_is_an_error(settings):
    settings.STRIPE_EXPRESS = {**VALID, "WEBHOOK_SECRETS": ["whsec_abc"]}
    assert ids(run_check()) == {"django_stripe_express.W021"}
    settings.STRIPE_EXPRESS = {
        **VALID, "SECRET_KEY": "sk_live_abc", "WEBHOOK_SECRETS": ["whsec_abc"],
    }
    assert ids(run_check()) == {"django_stripe_express.E033"}


def test_plain_http_to_another_machine_with_debug_off_warns(settings):
    settings.STRIPE_EXPRESS = {**VALID, "API_BASE": "http://stripe-mock.internal:12111"}
    settings.DEBUG = False
    assert ids(run_check()) == {"django_stripe_express.W019"}
    settings.DEBUG = True
    assert ids(run_check()) == set()


@pytest.mark.parametrize(("changes", "expected"), [
    ({"USER_RATE_LIMIT": -1}, "E008"), ({"USER_RATE_WINDOW": 0}, "E008"),
    ({"USER_RATE_CACHE": "nowhere"}, "E032"),
])
def test_bad_rate_limit_settings(settings, changes, expected):
    settings.STRIPE_EXPRESS = {**VALID, **changes}
    assert f"django_stripe_express.{expected}" in ids(run_check())


def test_a_dummy_cache_cannot_hold_the_rate_limit(settings):
    settings.STRIPE_EXPRESS = dict(VALID)
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.dummy.DummyCache"}}
    assert ids(run_check()) == {"django_stripe_express.W020"}


@pytest.mark.parametrize(
    "changes",
    [
        {"SECRET_KEY": "sk_live_do_not_print_me", "API_BASE": "http://evil.example"},
        {"SECRET_KEY": "sk_live_do_not_print_me", "WEBHOOK_SECRETS": ["whsec_fake"]},
        {"SECRET_KEY": "sk_test_do_not_print_me\n"},
        {"SECRET_KEY": "sk_tset_do_not_print_me"},
        {"WEBHOOK_SECRETS": ["whsec_do_not_print_me,whsec_x"]},
        {"WEBHOOK_SECRETS": [" whsec_do_not_print_me"]},
    ],
)
def test_no_deployment_check_echoes_a_secret(settings, changes):
    settings.STRIPE_EXPRESS = {**VALID, **changes}
    output = run_check()
    assert ids(output)
    assert "do_not_print_me" not in output


def test_whitespace_is_reported_once_not_as_a_wrong_key(settings):
    settings.STRIPE_EXPRESS = {
        **VALID, "SECRET_KEY": "sk_test_abc\n", "WEBHOOK_SECRETS": [" " + REAL_SECRET],
        "CLIENT_ID": "\tca_abc",
    }
    output = run_check()
    assert ids(output) == {"django_stripe_express.E016"}
    for key in ("SECRET_KEY", "WEBHOOK_SECRETS", "CLIENT_ID"):
        assert f"['{key}'] has spaces" in output


def test_message_middleware_missing(settings):
    settings.STRIPE_EXPRESS = dict(VALID)
    settings.MIDDLEWARE = [m for m in settings.MIDDLEWARE if "MessageMiddleware" not in m]
    output = run_check()
    assert ids(output) == {"django_stripe_express.W007"}
    assert "django.contrib.messages.middleware.MessageMiddleware" in output


def test_a_subclass_of_the_message_middleware_is_enough(settings):
    settings.STRIPE_EXPRESS = dict(VALID)
    settings.MIDDLEWARE = [
        m if "MessageMiddleware" not in m else "tests.test_checks.OwnMessageMiddleware"
        for m in settings.MIDDLEWARE
    ]
    assert ids(run_check()) == set()


class OwnMessageMiddleware(MessageMiddleware):
    pass


urlpatterns: list = []  # a URLconf without the app's URLs (test_urls_not_included)


def test_urls_not_included(settings):
    settings.STRIPE_EXPRESS = dict(VALID)
    settings.ROOT_URLCONF = __name__
    output = run_check()
    assert ids(output) == {"django_stripe_express.W008"}
    assert 'include("django_stripe_express.urls")' in output
    # A warning: a project's own `check` in its tests still passes.
    call_command("check", stdout=StringIO(), stderr=StringIO())


def test_urls_included_under_any_prefix(settings):
    settings.STRIPE_EXPRESS = dict(VALID)
    settings.ROOT_URLCONF = "tests.urls"
    assert ids(run_check()) == set()


# -- WEBHOOK_PROCESSING = "task" -------------------------------------------------------

TASKS_PACKAGE = "django.tasks" if find_spec("django.tasks") else "django_tasks"


def task_backend(name: str, **extra) -> dict:
    return {"default": {"BACKEND": name, **extra}}


@pytest.mark.parametrize(
    ("tasks", "expected_id", "words"),
    [
        (task_backend("django_tasks_db.DatabaseBackend"), None, ""),
        (None, "W012", "ImmediateBackend"),  # TASKS unset: Django's default
        (task_backend(f"{TASKS_PACKAGE}.backends.immediate.ImmediateBackend"), "W012", "request"),
        (task_backend(f"{TASKS_PACKAGE}.backends.dummy.DummyBackend"), "W013", "never runs"),
        ({"other": {"BACKEND": "django_tasks_db.DatabaseBackend"}}, "E023", "TASKS['default']"),
        (task_backend("django_tasks_db.DatabaseBackend", QUEUES=["slow"]), "E023", "queue"),
    ],
)
def test_task_processing_needs_a_backend_with_a_worker(settings, tasks, expected_id, words):
    settings.STRIPE_EXPRESS = {**VALID, "WEBHOOK_PROCESSING": "task"}
    if tasks is None:
        del settings.TASKS
    else:
        settings.TASKS = tasks
    output = run_check()
    assert ids(output) == ({f"django_stripe_express.{expected_id}"} if expected_id else set())
    assert words in output


@pytest.mark.skipif(django.VERSION >= (6, 0), reason="Django 6.0+ always has django.tasks")
def test_task_processing_without_a_tasks_framework(settings, monkeypatch):
    settings.STRIPE_EXPRESS = {**VALID, "WEBHOOK_PROCESSING": "task"}
    # As on Django < 6.0 without the backport: neither module can be imported.
    monkeypatch.setitem(sys.modules, "django.tasks", None)
    monkeypatch.setitem(sys.modules, "django_tasks", None)
    output = run_check()
    assert ids(output) == {"django_stripe_express.E023"}
    assert "django-stripe-express[tasks]" in output


def test_an_unknown_processing_mode(settings):
    settings.STRIPE_EXPRESS = {**VALID, "WEBHOOK_PROCESSING": "celery"}
    output = run_check()
    assert ids(output) == {"django_stripe_express.E022"}
    assert "'inline', 'task'" in output


def test_every_capability_stripe_lists_is_accepted(settings):
    from stripe.params import AccountCreateParamsCapabilities

    names = sorted(AccountCreateParamsCapabilities.__annotations__)
    assert {"transfers", "card_payments", "us_bank_account_ach_payments"} <= set(names)
    settings.STRIPE_EXPRESS = {**VALID, "SUGGESTED_CAPABILITIES": names}
    assert ids(run_check()) == set()


def test_the_app_registers_its_checks_when_django_starts():
    """In a fresh process, nothing but ``INSTALLED_APPS`` loads the checks (a test
    that imports ``checks`` itself would hide a project where they never run)."""
    code = (
        "import django; django.setup()\n"
        "from django.core.checks.registry import registry\n"
        "print(sorted({c.__module__ for c in registry.get_checks()"
        " if c.__module__.startswith('django_stripe_express')}))\n"
    )
    root = Path(__file__).resolve().parent.parent
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=root, check=True,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "tests.settings", "PYTHONPATH": str(root)},
    )
    assert done.stdout.strip() == "['django_stripe_express.checks']"


@pytest.mark.parametrize(
    ("tasks", "expected_id", "words"),
    [
        (task_backend("django_tasks_db.DatabaseBackend"), None, ""),
        (task_backend(f"{TASKS_PACKAGE}.backends.immediate.ImmediateBackend"), "W022",
         "request that pays"),
        (task_backend(f"{TASKS_PACKAGE}.backends.dummy.DummyBackend"), "W023",
         "stripe_express_transfers"),
        ({"other": {"BACKEND": "django_tasks_db.DatabaseBackend"}}, "E035", "transfers' task"),
    ],
)
def test_task_payments_need_a_backend_with_a_worker(settings, tasks, expected_id, words):
    settings.STRIPE_EXPRESS = {**VALID, "PAYMENTS_PROCESSING": "task"}
    settings.TASKS = tasks
    # Workers pace their Stripe calls in a shared cache (W046 otherwise).
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.db.DatabaseCache",
                                   "LOCATION": "stripe_express_cache"}}
    output = run_check()
    assert ids(output) == ({f"django_stripe_express.{expected_id}"} if expected_id else set())
    assert words in output


def test_an_unknown_payments_processing_mode(settings):
    settings.STRIPE_EXPRESS = {**VALID, "PAYMENTS_PROCESSING": "celery"}
    output = run_check()
    assert ids(output) == {"django_stripe_express.E034"}
    assert "PAYMENTS_PROCESSING" in output


# -- silent failures ------------------------------------------------------------------


def test_the_request_context_processor_missing_is_named(settings):
    settings.STRIPE_EXPRESS = dict(VALID)
    engine = {**settings.TEMPLATES[0], "OPTIONS": {"context_processors": [
        "django.contrib.auth.context_processors.auth",
        "django.contrib.messages.context_processors.messages",
    ]}}
    settings.TEMPLATES = [engine]
    output = run_check()
    assert ids(output) == {"django_stripe_express.W035"}
    assert "CSRF token" in output
    assert "'django.template.context_processors.request'" in output


def test_connect_js_left_at_stripes_with_a_local_fake(settings):
    fake = {**VALID, "API_BASE": "http://127.0.0.1:12111", "PUBLISHABLE_KEY": "pk_test_abc"}
    settings.STRIPE_EXPRESS = fake
    output = run_check()
    assert ids(output) == {"django_stripe_express.W036"}
    assert "http://127.0.0.1:12111/connect-js/v1.0/connect.js" in output
    # With the stand-in, or with Stripe itself, nothing to say.
    settings.STRIPE_EXPRESS = {
        **fake, "CONNECT_JS_URL": "http://127.0.0.1:12111/connect-js/v1.0/connect.js"
    }
    assert ids(run_check()) == set()
    settings.STRIPE_EXPRESS = {**VALID, "PUBLISHABLE_KEY": "pk_test_abc"}
    assert ids(run_check()) == set()
    # No publishable key and no embedded onboarding: no component loads Connect.js.
    settings.STRIPE_EXPRESS = {**VALID, "API_BASE": "http://127.0.0.1:12111"}
    assert ids(run_check()) == set()


def test_task_mode_with_a_backend_whose_app_is_not_installed(settings):
    # django_tasks_db's backend without its app: no table, every webhook a 500.
    # Its own check says so only when the backport's app is installed.
    settings.STRIPE_EXPRESS = {**VALID, "WEBHOOK_PROCESSING": "task"}
    settings.TASKS = task_backend("django_tasks_db.DatabaseBackend")
    settings.INSTALLED_APPS = [a for a in settings.INSTALLED_APPS if a != "django_tasks_db"]
    output = run_check()
    assert "django_stripe_express.E036" in ids(output)
    assert "django_tasks_db" in output
