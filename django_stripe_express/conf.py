"""The app's settings: one ``STRIPE_EXPRESS`` dict, read on every access.

Nothing is copied at import time, so ``override_settings`` and pytest-django's
``settings`` fixture just work. Each key has a typed property with its default.
Also the app's fixed vocabulary of setting values, and Stripe's embedded
components (`COMPONENTS`: each with the features its Account Session accepts)
with the ones ``EMBEDDED_COMPONENTS`` enables.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.conf import settings as django_settings
from django.core.exceptions import ImproperlyConfigured

SETTING_NAME = "STRIPE_EXPRESS"

ONBOARDING_OAUTH = "oauth"

ONBOARDING_ACCOUNT_LINKS = "account_links"

ONBOARDING_EMBEDDED = "embedded"

ONBOARDING_CHOICES = (ONBOARDING_OAUTH, ONBOARDING_ACCOUNT_LINKS, ONBOARDING_EMBEDDED)

#: What a new platform can use: Stripe closed Express OAuth to new platforms.
DEFAULT_ONBOARDING = ONBOARDING_ACCOUNT_LINKS

#: Stripe's Connect.js, the script behind the embedded components.
STRIPE_CONNECT_JS_URL = "https://connect-js.stripe.com/v1.0/connect.js"

#: Components the tag may show when the host lists none (features: Stripe's defaults).
DEFAULT_EMBEDDED_COMPONENTS = (
    "account_management", "notification_banner", "balances", "payouts", "payouts_list",
    "documents",
)

ACCOUNTS_V1 = "v1"

ACCOUNTS_V2 = "v2"

ACCOUNTS_API_CHOICES = (ACCOUNTS_V2, ACCOUNTS_V1)

#: The classic Express split: the platform collects Stripe's fees and covers losses.
_EXPRESS_RESPONSIBILITIES = {"fees_collector": "application", "losses_collector": "application"}

WEBHOOK_PROCESSING_INLINE = "inline"

WEBHOOK_PROCESSING_TASK = "task"

WEBHOOK_PROCESSING_CHOICES = (WEBHOOK_PROCESSING_INLINE, WEBHOOK_PROCESSING_TASK)

#: The credentials the fake Stripe (``django_stripe_express.testing``) publishes:
#: a deployment that carries them is talking to a test server, not to Stripe.
#: They live here so that the checks can name them without loading the fake.
_FAKE_CLIENT_ID = "ca_fake"

_FAKE_WEBHOOK_SECRET = "whsec_fake"

#: Stripe's publishable keys: the only keys a page may carry (Connect.js).
PUBLISHABLE_PREFIXES = ("pk_test_", "pk_live_")


def key_mode(key: Any) -> str | None:
    """``"live"`` or ``"test"``: the mode a Stripe key (``sk_``, ``rk_``, ``pk_``)
    says it is for; None when it says neither (or is not a string)."""
    if not isinstance(key, str):
        return None
    if "_live_" in key:
        return "live"
    return "test" if "_test_" in key else None


def secret_list(value: Any) -> list[Any]:
    """``WEBHOOK_SECRETS`` as a list, as the app reads it: one string is a list of
    one, empty items are no secret, any other shape none (check E005 says so)."""
    if isinstance(value, str):
        value = [value]
    return [s for s in value if s] if isinstance(value, (list, tuple)) else []


class MissingSetting(ImproperlyConfigured):
    """A required ``STRIPE_EXPRESS`` key is missing or empty."""

    def __init__(self, key: str) -> None:
        self.key = key
        super().__init__(
            f"settings.{SETTING_NAME}[{key!r}] is required by django_stripe_express."
        )


class Settings:
    """Typed, read-at-access-time view of ``settings.STRIPE_EXPRESS``."""

    @property
    def raw(self) -> dict[str, Any]:
        """The dict as the host project wrote it (empty when absent)."""
        value = getattr(django_settings, SETTING_NAME, None)
        return value if isinstance(value, dict) else {}

    def _get(self, key: str, default: Any) -> Any:
        return self.raw.get(key, default)

    def _optional_str(self, key: str) -> str | None:
        value = self.raw.get(key)
        return str(value) if value else None

    def _required(self, key: str) -> str:
        value = self.raw.get(key)
        if not value:
            raise MissingSetting(key)
        return str(value)

    # Stripe credentials ------------------------------------------------------

    @property
    def SECRET_KEY(self) -> str:
        return self._required("SECRET_KEY")

    @property
    def CLIENT_ID(self) -> str:
        """Required for OAuth onboarding; ``ca_...`` from Connect settings."""
        return self._required("CLIENT_ID")

    @property
    def WEBHOOK_SECRETS(self) -> list[str]:
        """Every signing secret accepted (Connect and platform endpoints, rotation)."""
        return [str(secret) for secret in secret_list(self._get("WEBHOOK_SECRETS", []))]

    @property
    def PUBLISHABLE_KEY(self) -> str | None:
        """``pk_test_...`` / ``pk_live_...``: Connect.js needs it (embedded components)."""
        return self._optional_str("PUBLISHABLE_KEY")

    @property
    def livemode(self) -> bool:
        """Whether the configured secret key is a live-mode key."""
        return key_mode(self.raw.get("SECRET_KEY")) == "live"

    # Onboarding ---------------------------------------------------------------

    @property
    def ONBOARDING(self) -> str:
        """The flow ``connect`` starts: Account Links by default, as Stripe closed
        Express OAuth to new platforms (``"oauth"`` for those that have it)."""
        return str(self._get("ONBOARDING", DEFAULT_ONBOARDING))

    @property
    def ACCOUNTS_API(self) -> str:
        """How Account Links creates accounts: ``"v2"`` (``/v2/core/accounts``) or ``"v1"``."""
        return str(self._get("ACCOUNTS_API", ACCOUNTS_V2))

    @property
    def RESPONSIBILITIES(self) -> dict[str, str]:
        """Who collects Stripe's fees and covers losses on the accounts the app creates."""
        value = self._get("RESPONSIBILITIES", _EXPRESS_RESPONSIBILITIES)
        return {str(k): str(v) for k, v in dict(value).items()}

    @property
    def REDIRECT_URI(self) -> str | None:
        return self._optional_str("REDIRECT_URI")

    @property
    def BUSINESS_TYPE(self) -> str | None:
        return self._optional_str("BUSINESS_TYPE")

    @property
    def SUGGESTED_CAPABILITIES(self) -> list[str]:
        return list(self._get("SUGGESTED_CAPABILITIES", ["transfers"]))

    @property
    def ASSERT_CAPABILITIES(self) -> bool:
        return bool(self._get("ASSERT_CAPABILITIES", False))

    @property
    def PREFILL(self) -> str | None:
        """Dotted path to ``callable(request) -> dict`` of ``stripe_user`` fields."""
        value = self._get("PREFILL", "django_stripe_express.onboarding.common.default_prefill")
        return str(value) if value else None

    @property
    def ACCOUNT_CREATE_PARAMS(self) -> str | None:
        """Dotted path to ``callable(request, params) -> params`` (Account Links)."""
        return self._optional_str("ACCOUNT_CREATE_PARAMS")

    @property
    def COUNTRY(self) -> str | None:
        return self._optional_str("COUNTRY")

    @property
    def SUCCESS_URL(self) -> str:
        """A path, URL or URL name (``landing.success_url`` resolves it)."""
        return str(self._get("SUCCESS_URL", "stripe_express:connect"))

    @property
    def FAILURE_URL(self) -> str:
        """A path, URL or URL name (``landing.failure_url`` resolves it)."""
        return str(self._get("FAILURE_URL", "stripe_express:connect"))

    @property
    def SUPPORT_URL(self) -> str | None:
        """Where users whose account Stripe disabled can ask the platform for help."""
        return self._optional_str("SUPPORT_URL")

    @property
    def STATE_MAX_AGE(self) -> int:
        """Seconds an OAuth ``state`` stays valid: long enough for a real onboarding."""
        return int(self._get("STATE_MAX_AGE", 60 * 60))

    # What one user may spend of the platform's Stripe quota --------------------

    @property
    def USER_RATE_LIMIT(self) -> int:
        """Requests that may call Stripe (onboarding, links, sessions, the dashboard),
        per user and ``USER_RATE_WINDOW``; 0 turns the limit off."""
        return int(self._get("USER_RATE_LIMIT", 20))

    @property
    def USER_RATE_WINDOW(self) -> int:
        """Seconds in which a user may make ``USER_RATE_LIMIT`` such requests."""
        return int(self._get("USER_RATE_WINDOW", 60))

    @property
    def USER_RATE_CACHE(self) -> str:
        """The Django cache (alias) that counts them and keeps unused Account Links."""
        return str(self._get("USER_RATE_CACHE", "default"))

    # Embedded components -------------------------------------------------------

    @property
    def CONNECT_JS_URL(self) -> str:
        return str(self._get("CONNECT_JS_URL", STRIPE_CONNECT_JS_URL))

    @property
    def EMBEDDED_COMPONENTS(self) -> list[str] | dict[str, dict[str, bool]]:
        """Component names, or a dict of name -> features (see `components.enabled`)."""
        value = self._get("EMBEDDED_COMPONENTS", DEFAULT_EMBEDDED_COMPONENTS)
        if isinstance(value, dict):
            return value
        # Another shape gives no component; check E030 says what is wrong.
        return list(value) if isinstance(value, (list, tuple)) else []

    @property
    def EMBEDDED_APPEARANCE(self) -> dict[str, Any]:
        """Connect.js's ``appearance`` option (colours, font, radius), for every component."""
        value = self._get("EMBEDDED_APPEARANCE", {})
        return dict(value) if isinstance(value, dict) else {}

    # Webhooks -----------------------------------------------------------------

    @property
    def WEBHOOK_TOLERANCE(self) -> int:
        return int(self._get("WEBHOOK_TOLERANCE", 300))

    @property
    def WEBHOOK_MAX_BODY_SIZE(self) -> int:
        return int(self._get("WEBHOOK_MAX_BODY_SIZE", 512 * 1024))

    @property
    def WEBHOOK_PROCESSING(self) -> str:
        """``"inline"`` (in the request) or ``"task"`` (Django's Tasks framework)."""
        return str(self._get("WEBHOOK_PROCESSING", WEBHOOK_PROCESSING_INLINE))

    # Payments ---------------------------------------------------------------------

    @property
    def PAYMENTS_PROCESSING(self) -> str:
        """Where transfers are sent after commit: ``"inline"`` (in the caller's
        process) or ``"task"`` (Django's Tasks framework, on the platform's workers)."""
        return str(self._get("PAYMENTS_PROCESSING", WEBHOOK_PROCESSING_INLINE))

    @property
    def PAYMENTS_RATE_LIMIT(self) -> float | None:
        """Stripe requests per second that move money; None: `payments_rate` decides."""
        value = self._get("PAYMENTS_RATE_LIMIT", None)
        return None if value is None else max(float(value), 0.0)

    @property
    def payments_rate(self) -> float:
        """The pace of calls that move money, across every process that shares
        Django's cache: `PAYMENTS_RATE_LIMIT`, else 20 with a test key and 80 with
        a live one (Stripe allows about 25 and 100 a second, and the same key
        also serves onboarding, webhooks and the platform's own code). 0: no pacing."""
        limit = self.PAYMENTS_RATE_LIMIT
        if limit is None:
            return 80.0 if self.livemode else 20.0
        return limit

    @property
    def PAYOUT_SCHEDULE(self) -> dict[str, Any] | None:
        """The payout schedule new accounts get (``interval``, ``delay_days``,
        ``weekly_anchor`` / ``monthly_anchor``); None: Stripe's default."""
        value = self._get("PAYOUT_SCHEDULE", None)
        return dict(value) if isinstance(value, dict) else None

    @property
    def BALANCE_CACHE_SECONDS(self) -> int:
        """How long a user's balance read from Stripe is kept in Django's cache."""
        return int(self._get("BALANCE_CACHE_SECONDS", 60))

    @property
    def WEBHOOK_REFETCH_ACCOUNT(self) -> bool:
        """Re-read the account from Stripe instead of trusting the event payload."""
        return bool(self._get("WEBHOOK_REFETCH_ACCOUNT", False))

    # Talking to Stripe -----------------------------------------------------------

    @property
    def API_BASE(self) -> str:
        return str(self._get("API_BASE", "https://api.stripe.com")).rstrip("/")

    @property
    def CONNECT_BASE(self) -> str:
        return str(self._get("CONNECT_BASE", "https://connect.stripe.com")).rstrip("/")

    @property
    def MAX_NETWORK_RETRIES(self) -> int:
        """Retries after a timeout, a 409 or a 5xx (same idempotency key). Two:
        a second tab's 409 (key in use) and a creation slower than TIMEOUT
        end in the one account without an error for the user; TIMEOUT bounds
        what a hung Stripe costs."""
        return int(self._get("MAX_NETWORK_RETRIES", 2))

    @property
    def TIMEOUT(self) -> float:
        """Seconds to wait for each try (the library's default is 80). Stripe
        answers in about a second; with two retries a hung Stripe makes the
        user wait about 25 s (3 x 8 s and the backoff), not 91 s (3 x 30 s)."""
        return float(self._get("TIMEOUT", 8))

    @property
    def STRIPE_VERSION(self) -> str | None:
        """Pin an API version; ``None`` uses the library's own."""
        return self._optional_str("STRIPE_VERSION")

    # Housekeeping ----------------------------------------------------------------

    @property
    def PRUNE_AFTER_DAYS(self) -> int:
        return int(self._get("PRUNE_AFTER_DAYS", 90))


def known_keys() -> frozenset[str]:
    """Every key of ``STRIPE_EXPRESS`` this app reads: the upper-case properties above."""
    return frozenset(name for name in vars(Settings) if name.isupper())

app_settings = Settings()


# Features Stripe accepts for these components (all booleans).
_AUTHENTICATION = ("disable_stripe_user_authentication", "external_account_collection")

_PAYOUTS = (*_AUTHENTICATION, "edit_payout_schedule", "instant_payouts", "standard_payouts")

_DISPUTES = ("destination_on_behalf_of_charge_management", "dispute_management",
             "refund_management", "smart_disputes_management")

_PAYMENTS = ("capture_payments", *_DISPUTES)

#: Component name (as the Account Sessions API spells it) -> its features (stripe
#: 16's ``AccountSessionCreateParamsComponents...Features``; tests/test_components.py
#: holds the table to them).
COMPONENTS: dict[str, tuple[str, ...]] = {
    "account_onboarding": _AUTHENTICATION,
    "account_management": _AUTHENTICATION,
    "notification_banner": _AUTHENTICATION,
    # Stripe's money components: payments, payouts, balances, disputes, documents,
    # tax, reports.
    "balances": _PAYOUTS,
    "payouts": _PAYOUTS,
    "payouts_list": (),
    "payout_details": (),
    "instant_payouts_promotion": (*_AUTHENTICATION, "instant_payouts"),
    "payments": _PAYMENTS,
    "payment_details": _PAYMENTS,
    "disputes_list": _PAYMENTS,
    "payment_disputes": _DISPUTES,
    "documents": (),
    "tax_settings": (),
    "tax_registrations": (),
    "reporting_chart": (),
    "balance_report": (),
    "payout_reconciliation_report": (),
}

#: The onboarding page hosts it, whatever `EMBEDDED_COMPONENTS` says: a user
#: may always finish onboarding their own account.
ONBOARDING = "account_onboarding"


def enabled() -> dict[str, dict[str, bool]]:
    """Enabled component -> its features, from ``EMBEDDED_COMPONENTS``.

    A list enables each name with Stripe's default features; a dict gives
    each name its features. Names and features the app does not know are
    left out here (check E030 reports them), so a typo never reaches Stripe.
    """
    configured = app_settings.EMBEDDED_COMPONENTS
    items: Iterable[tuple[Any, Any]] = (
        configured.items() if isinstance(configured, dict) else ((n, {}) for n in configured)
    )
    result: dict[str, dict[str, bool]] = {ONBOARDING: {}}
    for name, features in items:
        if name not in COMPONENTS:
            continue
        known = COMPONENTS[name]
        given = features if isinstance(features, dict) else {}
        result[name] = {k: v for k, v in given.items() if k in known and isinstance(v, bool)}
    return result


def is_enabled(name: str) -> bool:
    return name in enabled()


def session_params(names: Iterable[str]) -> dict[str, Any]:
    """The Account Session's ``components`` for ``names`` (enabled ones only)."""
    available = enabled()
    params: dict[str, Any] = {}
    for name in names:
        if name not in available:
            continue
        params[name] = {"enabled": True}
        if available[name]:
            params[name]["features"] = dict(available[name])
    return params


def element_name(name: str) -> str:
    """Connect.js's name for a component: ``account_management`` -> ``account-management``."""
    return name.replace("_", "-")
