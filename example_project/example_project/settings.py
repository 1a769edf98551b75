"""The example platform's settings, all from the environment (django-environ).

Offline by default: Stripe is the project's fake, which `scripts/example.sh`
starts on FAKE_STRIPE_URL. Put real test keys in the environment (or a `.env`
file beside manage.py) to use Stripe's test mode instead:

    STRIPE_SECRET_KEY=sk_test_...  STRIPE_CLIENT_ID=ca_...  STRIPE_WEBHOOK_SECRETS=whsec_...

STRIPE_ONBOARDING chooses the flow: account_links (the default), oauth, or
embedded (Stripe's onboarding component on this site's pages; with real keys
it needs STRIPE_PUBLISHABLE_KEY=pk_test_... too).

Safe to leave running: with a real key it never falls back to the fake's
public credentials (it refuses to start and names the missing variable), and
without DEBUG it needs a DJANGO_SECRET_KEY of its own (the default one is in
this file, so sessions signed with it could be forged).
"""

from pathlib import Path

import django
import environ
from django.core.exceptions import ImproperlyConfigured

from django_stripe_express import testing

BASE_DIR = Path(__file__).resolve().parent.parent
env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env")


def required(name: str, why: str) -> str:
    """The variable's value, or a refusal to start that names it."""
    value = env.str(name, default="").strip()
    if not value.strip(", "):
        raise ImproperlyConfigured(f"The example platform needs {name}: {why}")
    return value


DEBUG = env.bool("DEBUG", default=True)
SECRET_KEY = (
    env.str("DJANGO_SECRET_KEY", default="example-project-not-secret")
    if DEBUG
    else required("DJANGO_SECRET_KEY", "DEBUG is off, and the default key is public.")
)
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost"])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_stripe_express",
    "example",
]
MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "example.csp.ContentSecurityPolicyMiddleware",
]
ROOT_URLCONF = "example_project.urls"
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "example.context_processors.platform",
            ]
        },
    }
]
WSGI_APPLICATION = "example_project.wsgi.application"
DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}")}
if DATABASES["default"]["ENGINE"].endswith("sqlite3") and django.VERSION >= (5, 1):
    # The fake forwards events while a request is still writing (a disconnect:
    # Stripe answers, the event arrives, the view saves). SQLite's default
    # deferred transactions then fail with "database is locked" (a 500, that
    # the fake retries); IMMEDIATE ones wait their turn, as row locks would.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {"transaction_mode": "IMMEDIATE", "timeout": 20}
    )
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
USE_TZ = True
TIME_ZONE = env.str("TIME_ZONE", default="UTC")
USE_I18N = True
LANGUAGE_CODE = "en"
STATIC_URL = "/static/"
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "dashboard"
LOGOUT_REDIRECT_URL = "login"

# Stripe: real test mode when a key is in the environment, else the fake with
# its own (public) credentials. An empty STRIPE_SECRET_KEY means offline too,
# so a test can force it whatever `.env` says.
FAKE_STRIPE_URL = env.str("FAKE_STRIPE_URL", default="http://127.0.0.1:12111")
_secret_key = env.str("STRIPE_SECRET_KEY", default="").strip()
STRIPE_OFFLINE = not _secret_key
_onboarding = env.str("STRIPE_ONBOARDING", default="account_links")


def required_for(flow: str, name: str, why: str) -> str:
    """The variable: required in the `flow` onboarding flow, optional in the others."""
    return required(name, why) if _onboarding == flow else env.str(name, default="").strip()


if STRIPE_OFFLINE:
    _client_id, _webhook_secrets = testing.CLIENT_ID, [testing.WEBHOOK_SECRET]
    _publishable_key = testing.PUBLISHABLE_KEY
else:
    # Never the fake's whsec_fake / ca_fake with a real key: anyone could sign
    # webhooks with them.
    _webhook_secrets = [
        secret.strip()
        for secret in required(
            "STRIPE_WEBHOOK_SECRETS",
            "the signing secret (whsec_...) of your webhook endpoint, since "
            "STRIPE_SECRET_KEY is set.",
        ).split(",")
        if secret.strip()
    ]
    _client_id = required_for(
        "oauth",
        "STRIPE_CLIENT_ID",
        "your platform's client id (ca_...) for OAuth onboarding, since "
        "STRIPE_SECRET_KEY is set (or set STRIPE_ONBOARDING=account_links).",
    )
    _publishable_key = required_for(
        "embedded",
        "STRIPE_PUBLISHABLE_KEY",
        "your platform's publishable key (pk_test_...) for embedded onboarding, "
        "since STRIPE_SECRET_KEY is set.",
    )
STRIPE_EXPRESS = {
    "SECRET_KEY": _secret_key or testing.SECRET_KEY,
    "CLIENT_ID": _client_id,
    "WEBHOOK_SECRETS": _webhook_secrets,
    # A new platform's path: Account Links creating Accounts v2 accounts.
    # STRIPE_ACCOUNTS_API=v1 creates v1 accounts; STRIPE_ONBOARDING=oauth shows OAuth.
    "ONBOARDING": _onboarding,
    "ACCOUNTS_API": env.str("STRIPE_ACCOUNTS_API", default="v2"),
    "BUSINESS_TYPE": env.str("STRIPE_BUSINESS_TYPE", default="individual"),
    "SUGGESTED_CAPABILITIES": env.list("STRIPE_CAPABILITIES", default=["transfers"]),
    "COUNTRY": env.str("STRIPE_COUNTRY", default="US"),
    "SUCCESS_URL": "/",
    "FAILURE_URL": "/",
    # The balance on the dashboard and in the admin is read from Stripe at most
    # once per account in this many seconds.
    "BALANCE_CACHE_SECONDS": env.int("STRIPE_BALANCE_CACHE_SECONDS", default=10),
    # Embedded components (the dashboard and the Stripe account page show them
    # when STRIPE_ONBOARDING=embedded): payouts with instant payouts and schedule
    # editing, in this site's colours.
    "PUBLISHABLE_KEY": _publishable_key,
    "EMBEDDED_COMPONENTS": {
        "account_management": {},
        "notification_banner": {},
        "balances": {},
        "payouts": {"instant_payouts": True, "standard_payouts": True,
                    "edit_payout_schedule": True},
        "documents": {},
    },
    "EMBEDDED_APPEARANCE": {
        "variables": {"colorPrimary": "#0f766e", "borderRadius": "10px",
                      "fontFamily": "-apple-system, 'Segoe UI', Roboto, sans-serif"},
    },
}
if STRIPE_OFFLINE:
    STRIPE_EXPRESS.update(
        {
            "API_BASE": FAKE_STRIPE_URL,
            "CONNECT_BASE": FAKE_STRIPE_URL,
            # The fake's stand-in for Stripe's Connect.js.
            "CONNECT_JS_URL": f"{FAKE_STRIPE_URL}/connect-js/v1.0/connect.js",
            "MAX_NETWORK_RETRIES": 0,
        }
    )

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "loggers": {"django_stripe_express": {"handlers": ["console"], "level": "INFO"}},
}
