"""Settings for the test suite: SQLite by default, PostgreSQL via DATABASE_URL."""

import environ

env = environ.Env()

SECRET_KEY = "tests-only-not-secret"
DEBUG = False
USE_TZ = True
TIME_ZONE = "UTC"
ALLOWED_HOSTS = ["testserver", "localhost", "127.0.0.1"]

DATABASES = {"default": env.db("DATABASE_URL", default="sqlite://:memory:")}
DATABASES["default"]["TEST"] = {"NAME": env.str("TEST_DATABASE_NAME", default=None)}
if DATABASES["default"]["TEST"]["NAME"] is None:
    del DATABASES["default"]["TEST"]
# A second, separate database for the tests of a router that sends reads to a
# replica (tests/test_webhook_routing.py); other tests never touch it.
DATABASES["replica"] = {**DATABASES["default"]}
if DATABASES["default"]["ENGINE"].endswith("postgresql"):
    test_name = DATABASES["default"].get("TEST", {}).get("NAME") or (
        "test_" + DATABASES["default"]["NAME"]
    )
    DATABASES["replica"]["TEST"] = {"NAME": f"{test_name}_replica"}

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_stripe_express",
    # A real task backend for WEBHOOK_PROCESSING = "task" (tests/test_webhook_tasks.py).
    "django_tasks_db",
]
MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
]
ROOT_URLCONF = "tests.urls"
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ]
        },
    }
]
STATIC_URL = "/static/"
LOGIN_URL = "/accounts/login/"
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Tests point these at the fake Stripe (the `fake_stripe` fixture); nothing here
# can reach the real Stripe: the hosts below refuse connections.
STRIPE_EXPRESS = {
    "SECRET_KEY": "sk_test_unused",
    # Many tests drive the OAuth flow through `connect`; the app's default is
    # Account Links (tests of the default remove this key).
    "ONBOARDING": "oauth",
    "CLIENT_ID": "ca_unused",
    "WEBHOOK_SECRETS": ["whsec_unusedUnusedUnusedUnusedUnused00000"],
    "API_BASE": "http://127.0.0.1:9",
    "CONNECT_BASE": "http://127.0.0.1:9",
    "MAX_NETWORK_RETRIES": 0,
    "TIMEOUT": 2,
    "SUCCESS_URL": "/dashboard/",
    "FAILURE_URL": "/dashboard/",
}
