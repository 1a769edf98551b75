"""The example platform's settings, all from the environment (django-environ).

Offline by default: Stripe is the project's fake, which `scripts/example.sh`
starts on FAKE_STRIPE_URL. Put real test keys in the environment (or a `.env`
file beside manage.py) to use Stripe's test mode instead:

    STRIPE_SECRET_KEY=sk_test_...  STRIPE_CLIENT_ID=ca_...  STRIPE_WEBHOOK_SECRETS=whsec_...
"""

from pathlib import Path

import environ

BASE_DIR = Path(__file__).resolve().parent.parent
env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env")

SECRET_KEY = env.str("DJANGO_SECRET_KEY", default="example-project-not-secret")
DEBUG = env.bool("DEBUG", default=True)
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
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
USE_TZ = True
TIME_ZONE = env.str("TIME_ZONE", default="UTC")
USE_I18N = True
LANGUAGE_CODE = "en"
STATIC_URL = "/static/"
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "dashboard"
LOGOUT_REDIRECT_URL = "login"

# Stripe: real test mode when a key is in the environment, else the fake
# (whose default credentials are the ones below). An empty STRIPE_SECRET_KEY
# means offline too, so a test can force it whatever `.env` says.
FAKE_STRIPE_URL = env.str("FAKE_STRIPE_URL", default="http://127.0.0.1:12111")
_secret_key = env.str("STRIPE_SECRET_KEY", default="")
STRIPE_OFFLINE = not _secret_key
STRIPE_EXPRESS = {
    "SECRET_KEY": _secret_key or "sk_test_fake",
    "CLIENT_ID": env.str("STRIPE_CLIENT_ID", default="") or "ca_fake",
    "WEBHOOK_SECRETS": env.list("STRIPE_WEBHOOK_SECRETS", default=[]) or ["whsec_fake"],
    # A new platform's path: Account Links creating Accounts v2 accounts.
    # STRIPE_ACCOUNTS_API=v1 creates v1 accounts; STRIPE_ONBOARDING=oauth shows OAuth.
    "ONBOARDING": env.str("STRIPE_ONBOARDING", default="account_links"),
    "ACCOUNTS_API": env.str("STRIPE_ACCOUNTS_API", default="v2"),
    "BUSINESS_TYPE": env.str("STRIPE_BUSINESS_TYPE", default="individual"),
    "SUGGESTED_CAPABILITIES": env.list("STRIPE_CAPABILITIES", default=["transfers"]),
    "COUNTRY": env.str("STRIPE_COUNTRY", default="US"),
    "SUCCESS_URL": "/",
    "FAILURE_URL": "/",
}
if STRIPE_OFFLINE:
    STRIPE_EXPRESS.update(
        {"API_BASE": FAKE_STRIPE_URL, "CONNECT_BASE": FAKE_STRIPE_URL, "MAX_NETWORK_RETRIES": 0}
    )

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "loggers": {"django_stripe_express": {"handlers": ["console"], "level": "INFO"}},
}
