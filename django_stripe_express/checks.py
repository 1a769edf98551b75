"""System checks: configuration mistakes reported by ``manage.py check``.

Each message has an id under ``django_stripe_express.`` and a hint that says how
to fix it. Errors stop the flows from working; warnings are unsafe or odd.
Besides the settings one by one: deployments that seem to work but are
dangerous (a live key sent to another host, forged webhooks), embedded
onboarding and its components, and W016 (``SUCCESS_URL`` / ``FAILURE_URL``
must lead somewhere), which runs with Django's URL checks.
"""

from __future__ import annotations

import difflib
import ipaddress
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from importlib import import_module
from types import ModuleType
from typing import Any
from urllib.parse import urlsplit

from django.apps import apps
from django.conf import settings
from django.core.checks import CheckMessage, Error, Tags, Warning, register
from django.db import router
from django.shortcuts import resolve_url
from django.urls import NoReverseMatch, reverse
from django.utils.module_loading import import_string

from .accounts import MAX_DELAY_DAYS, PAYOUT_INTERVALS, schedule_from_setting, schedule_problems
from .accounts.v1 import NAMES as CAPABILITY_NAMES
from .conf import (
    _FAKE_CLIENT_ID,
    _FAKE_WEBHOOK_SECRET,
    ACCOUNTS_API_CHOICES,
    ACCOUNTS_V2,
    COMPONENTS,
    DEFAULT_EMBEDDED_COMPONENTS,
    DEFAULT_ONBOARDING,
    ONBOARDING_CHOICES,
    ONBOARDING_EMBEDDED,
    ONBOARDING_OAUTH,
    PUBLISHABLE_PREFIXES,
    SETTING_NAME,
    STRIPE_CONNECT_JS_URL,
    WEBHOOK_PROCESSING_CHOICES,
    WEBHOOK_PROCESSING_INLINE,
    WEBHOOK_PROCESSING_TASK,
    key_mode,
    known_keys,
    secret_list,
)

_BUSINESS_TYPES = ("individual", "company", "non_profit", "government_entity")

# What Stripe takes in `defaults.responsibilities` for an Express-like account.
FEES_COLLECTORS = ("application", "application_express", "stripe")

LOSSES_COLLECTORS = ("application", "stripe")

_POSITIVE_NUMBERS = (
    "STATE_MAX_AGE", "WEBHOOK_TOLERANCE", "WEBHOOK_MAX_BODY_SIZE", "TIMEOUT", "USER_RATE_WINDOW",
)

_NON_NEGATIVE_NUMBERS = ("MAX_NETWORK_RETRIES", "PRUNE_AFTER_DAYS", "USER_RATE_LIMIT")


@register(Tags.security, Tags.compatibility)
def _check_settings(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    raw = getattr(settings, SETTING_NAME, None)
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        return [
            Error(
                f"settings.{SETTING_NAME} must be a dict.",
                hint=f'Write e.g. {SETTING_NAME} = {{"SECRET_KEY": env("STRIPE_SECRET_KEY")}}.',
                id=ID.format("E010"),
            )
        ]
    return [
        *_check_secret_key(raw),
        *_check_onboarding(raw),
        *_check_accounts_api(raw),
        *_check_webhook_secrets(raw),
        *_check_webhook_processing(raw),
        *_check_values(raw),
        *_check_callables(raw),
        *_check_urls(raw),
        *_check_unknown_keys(raw),
        *_check_payouts(raw),
        *_check_rate_limit(raw),
        *_check_installed_apps(),
        *_check_databases(),
    ]


def _check_secret_key(raw: dict[str, Any]) -> Iterable[CheckMessage]:
    key = raw.get("SECRET_KEY")
    if isinstance(key, str):
        key = key.strip()  # spaces around it are E016's (deployment_checks)
    if not key:
        yield Error(
            f"{_setting_name('SECRET_KEY')} is not set.",
            hint="Set it to your Stripe secret key (sk_test_... or sk_live_...), "
            "read from the environment rather than written in settings.",
            id=ID.format("E001"),
        )
        return
    if not isinstance(key, str) or not key.startswith(("sk_", "rk_")):
        # Never echo the key itself: check output ends up in CI logs.
        hint = "Use a secret key (sk_...) or a restricted key (rk_...) from the Stripe dashboard."
        if isinstance(key, str) and key.startswith("pk_"):
            hint = "That is a publishable key (pk_...): u" + hint[1:]
        yield Error(
            f"{_setting_name('SECRET_KEY')} is not a Stripe secret key.",
            hint=hint,
            id=ID.format("E002"),
        )
        return
    if key_mode(key) == "live" and settings.DEBUG:
        yield Warning(
            f"{_setting_name('SECRET_KEY')} is a live-mode key while DEBUG is on.",
            hint="Use a test-mode key (sk_test_...) in development; real accounts "
            "and money are behind a live key.",
            id=ID.format("W002"),
        )


def _check_onboarding(raw: dict[str, Any]) -> Iterable[CheckMessage]:
    onboarding = raw.get("ONBOARDING", DEFAULT_ONBOARDING)
    if onboarding not in ONBOARDING_CHOICES:
        yield Error(
            f"{_setting_name('ONBOARDING')} is {onboarding!r}, which is not a known flow.",
            hint=_did_you_mean(onboarding, ONBOARDING_CHOICES)
            + f"Use one of {', '.join(repr(c) for c in ONBOARDING_CHOICES)}.",
            id=ID.format("E003"),
        )
        return
    if onboarding != ONBOARDING_OAUTH:
        return
    client_id = raw.get("CLIENT_ID")
    if not isinstance(client_id, str) or not client_id.strip().startswith("ca_"):
        yield Error(
            f"OAuth onboarding needs {_setting_name('CLIENT_ID')} set to your platform's "
            "client id (ca_...).",
            hint="Find it in the Stripe dashboard under Connect > Settings > OAuth; "
            "or remove ONBOARDING to use Account Links ('account_links', the default), "
            "which needs no client id.",
            id=ID.format("E004"),
        )


def _check_accounts_api(raw: dict[str, Any]) -> Iterable[CheckMessage]:
    api = raw.get("ACCOUNTS_API", ACCOUNTS_V2)
    if api not in ACCOUNTS_API_CHOICES:
        yield Error(
            f"{_setting_name('ACCOUNTS_API')} is {api!r}, which is not a known Accounts API.",
            hint='Use "v2" (new platforms: /v2/core/accounts) or "v1" (platforms that '
            "already create v1 Express accounts).",
            id=ID.format("E024"),
        )
    responsibilities = raw.get("RESPONSIBILITIES")
    if responsibilities is not None:
        yield from _check_responsibilities(responsibilities)
    key = raw.get("SECRET_KEY")
    if (
        api == ACCOUNTS_V2
        # Account Links and embedded onboarding create the accounts (OAuth: v1 only).
        and raw.get("ONBOARDING", DEFAULT_ONBOARDING) != ONBOARDING_OAUTH
        and isinstance(key, str)
        and key.startswith("rk_")
    ):
        yield Error(
            f"{_setting_name('SECRET_KEY')} is a restricted key (rk_...), which Stripe's "
            "/v2 endpoints refuse: onboarding cannot create v2 accounts with it.",
            hint='Use the secret key (sk_...), or set ACCOUNTS_API = "v1".',
            id=ID.format("E026"),
        )


def _check_responsibilities(value: Any) -> Iterable[CheckMessage]:
    hint = (
        'Write e.g. {"fees_collector": "application", "losses_collector": "application"} '
        "(the classic Express split), or remove it to use that default."
    )
    if not isinstance(value, dict) or set(value) != {"fees_collector", "losses_collector"}:
        yield Error(
            f"{_setting_name('RESPONSIBILITIES')} must be a dict with exactly the keys "
            "fees_collector and losses_collector.",
            hint=hint,
            id=ID.format("E025"),
        )
        return
    fees, losses = value["fees_collector"], value["losses_collector"]
    if fees not in FEES_COLLECTORS or losses not in LOSSES_COLLECTORS:
        yield Error(
            f"{_setting_name('RESPONSIBILITIES')} has a value Stripe does not take for an "
            "Express account.",
            hint=f"fees_collector: one of {', '.join(FEES_COLLECTORS)}; losses_collector: "
            f"one of {', '.join(LOSSES_COLLECTORS)}.",
            id=ID.format("E025"),
        )
    elif losses == "application" and fees == "stripe":
        yield Error(
            f"{_setting_name('RESPONSIBILITIES')}: a platform that covers losses must also "
            "collect the fees; Stripe refuses this combination.",
            hint='Use fees_collector "application" with losses_collector "application", '
            'or losses_collector "stripe".',
            id=ID.format("E025"),
        )
    elif losses == "stripe":
        # Changelog 2026-11-18.endive: Express accounts where Stripe covers
        # losses are Stripe's Managed Risk, which Stripe enables per platform.
        yield Warning(
            f"{_setting_name('RESPONSIBILITIES')} has losses_collector \"stripe\": "
            f"with fees_collector {fees!r} that is Stripe's Managed Risk, which Stripe "
            "must have enabled for your platform; otherwise it refuses every account.",
            hint="Ask Stripe for Managed Risk (docs.stripe.com/connect/risk-management/"
            'managed-risk), or use losses_collector "application".',
            id=ID.format("W017"),
        )


def _check_webhook_secrets(raw: dict[str, Any]) -> Iterable[CheckMessage]:
    secrets = raw.get("WEBHOOK_SECRETS")
    if isinstance(secrets, (str, list, tuple)):
        # Empty strings are no secret, as the setting reads them: the README's
        # `os.environ.get("STRIPE_WEBHOOK_SECRETS", "").split(",")` is [""]
        # while the variable is not set, and that is W001, not E005.
        secrets = secret_list(secrets)
    if not secrets:
        yield Warning(
            f"{_setting_name('WEBHOOK_SECRETS')} is empty: every webhook delivery will be "
            "refused, so accounts will not stay up to date.",
            hint="Add the signing secret (whsec_...) of each endpoint that sends here: the "
            "event destination for thin events (Accounts v2 accounts are kept current by "
            "them; it has its own secret), your Connect webhook endpoint (snapshot events), "
            "and the platform endpoint if it sends to the same URL.",
            id=ID.format("W001"),
        )
        return
    if not isinstance(secrets, (list, tuple)) or not all(
        isinstance(s, str) and s.strip().startswith("whsec_") for s in secrets
    ):
        yield Error(
            f"{_setting_name('WEBHOOK_SECRETS')} must be a list of signing secrets (whsec_...).",
            hint="Copy each endpoint's signing secret from the Stripe dashboard "
            "(Developers > Webhooks); list the old and new ones while rotating.",
            id=ID.format("E005"),
        )


def _tasks_framework() -> ModuleType | None:
    """Django's Tasks framework: ``django.tasks`` (6.0+), else the backport, else None."""
    for name in ("django.tasks", "django_tasks"):
        try:
            return import_module(name)
        except ImportError:
            continue
    return None


@dataclass(frozen=True)
class _Processing:
    """A ``"inline"`` / ``"task"`` setting: its name, its task, its words and check ids."""

    setting: str
    task: Callable[[], Any]  # imports the task (only when the setting says "task")
    what: str  # what the task does, for the messages
    immediate: str  # what the ImmediateBackend means for it
    dummy: str  # what the DummyBackend means for it
    ids: tuple[str, str, str, str]  # bad mode, no framework or backend, immediate, dummy


def _webhook_task() -> Any:
    from .tasks import process_webhook_event

    return process_webhook_event


def _payments_task() -> Any:
    from .tasks import send_transfer

    return send_transfer


_WEBHOOK_PROCESSING = _Processing(
    "WEBHOOK_PROCESSING", _webhook_task, "the webhook's task",
    "events are still applied inside the webhook's request",
    "events stay 'received'", ("E022", "E023", "W012", "W013"),
)

_PAYMENTS_PROCESSING = _Processing(
    "PAYMENTS_PROCESSING", _payments_task, "the transfers' task",
    "transfers are still sent inside the request that pays",
    "transfers stay 'pending' until the stripe_express_transfers command sends them",
    ("E034", "E035", "W022", "W023"),
)


def _check_webhook_processing(raw: dict[str, Any]) -> Iterable[CheckMessage]:
    yield from _check_processing(raw, _WEBHOOK_PROCESSING)
    yield from _check_processing(raw, _PAYMENTS_PROCESSING)


def _check_processing(raw: dict[str, Any], kind: _Processing) -> Iterable[CheckMessage]:
    bad_mode, no_backend, immediate, dummy = kind.ids
    name = _setting_name(kind.setting)
    mode = raw.get(kind.setting, WEBHOOK_PROCESSING_INLINE)
    if mode not in WEBHOOK_PROCESSING_CHOICES:
        yield Error(
            f"{name} is {mode!r}, which is not a processing mode.",
            hint=f"Use one of {', '.join(repr(c) for c in WEBHOOK_PROCESSING_CHOICES)}.",
            id=ID.format(bad_mode),
        )
        return
    if mode != WEBHOOK_PROCESSING_TASK:
        return
    framework = _tasks_framework()
    if framework is None:
        yield Error(
            f"{name} is 'task', which needs Django's Tasks "
            "framework: Django 6.0 or later, or its backport.",
            hint='Below Django 6.0: pip install "django-stripe-express[tasks]" (django-tasks); '
            f'or use {kind.setting} = "inline".',
            id=ID.format(no_backend),
        )
        return
    try:
        backend = framework.task_backends["default"]
        backend.validate_task(kind.task())
    except Exception as exc:  # the framework's own errors name what is wrong
        yield Error(
            f"{name} is 'task', but the default task backend "
            f"cannot run {kind.what} ({type(exc).__name__}: {exc}).",
            hint="Configure TASKS['default'] with a backend that accepts it (queue "
            "'default'), e.g. django_tasks_db.DatabaseBackend.",
            id=ID.format(no_backend),
        )
        return
    backend_kind = type(backend).__name__
    if backend_kind == "ImmediateBackend":
        yield Warning(
            f"{name} is 'task', but the default task backend is "
            f"the ImmediateBackend (Django's default when TASKS is not set): {kind.immediate}.",
            hint="Set TASKS['default'] to a backend with a worker (e.g. "
            "django_tasks_db.DatabaseBackend and its db_worker command).",
            id=ID.format(immediate),
        )
    elif backend_kind == "DummyBackend":
        yield Warning(
            f"{name} is 'task', but the default task backend is "
            f"the DummyBackend, which never runs tasks: {kind.dummy}.",
            hint="Use a backend with a worker outside of tests.",
            id=ID.format(dummy),
        )


def _check_values(raw: dict[str, Any]) -> Iterable[CheckMessage]:
    capabilities = raw.get("SUGGESTED_CAPABILITIES", [])
    if not isinstance(capabilities, (list, tuple)) or not all(
        isinstance(c, str) for c in capabilities
    ):
        yield Error(
            f"{_setting_name('SUGGESTED_CAPABILITIES')} must be a list of capability names.",
            hint='For example ["transfers"] or ["card_payments", "transfers"].',
            id=ID.format("E006"),
        )
    else:
        yield from _check_capability_names(list(capabilities))
        if raw.get("ASSERT_CAPABILITIES") and not capabilities:
            yield Warning(
                f"{_setting_name('ASSERT_CAPABILITIES')} is on but no capabilities are suggested, "
                "so there is nothing to assert.",
                hint="List the capabilities in SUGGESTED_CAPABILITIES, or turn "
                "ASSERT_CAPABILITIES off.",
                id=ID.format("W003"),
            )
    business_type = raw.get("BUSINESS_TYPE")
    if business_type and business_type not in _BUSINESS_TYPES:
        yield Error(
            f"{_setting_name('BUSINESS_TYPE')} is {business_type!r}, which Stripe does not accept.",
            hint=f"Use one of {', '.join(_BUSINESS_TYPES)}, or leave it unset to let "
            "the user choose.",
            id=ID.format("E007"),
        )
    for key in (*_POSITIVE_NUMBERS, *_NON_NEGATIVE_NUMBERS):
        if key not in raw:
            continue
        value = raw[key]
        minimum = 1 if key in _POSITIVE_NUMBERS else 0
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value < minimum:
            yield Error(
                f"{_setting_name(key)} must be a number of at least {minimum}.",
                hint="Remove it to use the default.",
                id=ID.format("E008"),
            )


def _check_capability_names(capabilities: list[str]) -> Iterable[CheckMessage]:
    unknown = [name for name in capabilities if name not in CAPABILITY_NAMES]
    if unknown:
        guesses = [
            guess
            for name in unknown
            for guess in difflib.get_close_matches(name.lower(), CAPABILITY_NAMES, n=1)
        ]
        yield Error(
            f"{_setting_name('SUGGESTED_CAPABILITIES')} names capabilities Stripe does not "
            f"have: {', '.join(repr(n) for n in unknown)}. Creating an account would "
            "fail (parameter_unknown), and Express OAuth would ignore them.",
            hint=(f"Did you mean {', '.join(repr(g) for g in guesses)}? " if guesses else "")
            + "Names are Stripe's, e.g. 'transfers' or 'card_payments'.",
            id=ID.format("E020"),
        )
    if "card_payments" in capabilities and "transfers" not in capabilities:
        yield Warning(
            f"{_setting_name('SUGGESTED_CAPABILITIES')} has 'card_payments' without "
            "'transfers': since API version 2019-08-14 card payments no longer imply "
            "transfers, so the platform could not send these accounts their money.",
            hint="Add 'transfers' to SUGGESTED_CAPABILITIES.",
            id=ID.format("W010"),
        )


def _check_callables(raw: dict[str, Any]) -> Iterable[CheckMessage]:
    for key in ("PREFILL", "ACCOUNT_CREATE_PARAMS"):
        path = raw.get(key)
        if not path:
            continue
        try:
            target = import_string(path)
        except ImportError as exc:
            yield Error(
                f"{_setting_name(key)} names {path!r}, which cannot be imported: {exc}.",
                hint="Give the dotted path of a function, e.g. 'myapp.stripe.prefill'.",
                id=ID.format("E009"),
            )
            continue
        if not callable(target):
            yield Error(
                f"{_setting_name(key)} names {path!r}, which is not callable.",
                hint="Give the dotted path of a function.",
                id=ID.format("E009"),
            )


def _check_urls(raw: dict[str, Any]) -> Iterable[CheckMessage]:
    for key in ("API_BASE", "CONNECT_BASE", "REDIRECT_URI"):
        value = raw.get(key)
        if not value:
            continue
        parts = urlsplit(str(value))
        if parts.scheme not in ("http", "https") or not parts.netloc:
            yield Error(
                f"{_setting_name(key)} is not an absolute http(s) URL.",
                hint="Write the full URL, e.g. 'https://connect.stripe.com' or "
                "'https://example.com/stripe/oauth/callback/'.",
                id=ID.format("E011"),
            )
    redirect_uri = raw.get("REDIRECT_URI")
    live = key_mode(raw.get("SECRET_KEY")) == "live"
    if live and isinstance(redirect_uri, str) and redirect_uri.startswith("http://"):
        yield Warning(
            f"{_setting_name('REDIRECT_URI')} is plain http with a live-mode key; Stripe "
            "requires https redirect URIs in live mode.",
            hint="Serve the callback over https.",
            id=ID.format("W005"),
        )


def _check_unknown_keys(raw: dict[str, Any]) -> Iterable[CheckMessage]:
    unknown = sorted(set(raw) - known_keys(), key=str)
    if unknown:
        guesses = [
            f"{guess!r} instead of {key!r}"
            for key in unknown
            for guess in difflib.get_close_matches(str(key).upper(), sorted(known_keys()), n=1)
        ]
        yield Warning(
            f"settings.{SETTING_NAME} has keys this app does not read: "
            f"{', '.join(str(key) for key in unknown)}.",
            hint=(f"Did you mean {', '.join(guesses)}? " if guesses else "")
            + "Check their spelling against the documented settings (docs/settings.md).",
            id=ID.format("W004"),
        )


_SCHEDULE_KEYS = ("interval", "delay_days", "weekly_anchor", "monthly_anchor")


def _check_payouts(raw: dict[str, Any]) -> Iterable[CheckMessage]:
    """E040-E043: a payout schedule Stripe would refuse for every new account,
    and a balance cache that is no duration."""
    value = raw.get("PAYOUT_SCHEDULE")
    if value is not None:
        yield from _check_schedule(value, str(raw.get("ACCOUNTS_API") or ACCOUNTS_V2))
    seconds = raw.get("BALANCE_CACHE_SECONDS", 60)
    if isinstance(seconds, bool) or not isinstance(seconds, int) or seconds < 0:
        yield Error(
            f"{_setting_name('BALANCE_CACHE_SECONDS')} is {seconds!r}, not a number of seconds.",
            hint="Use a whole number of seconds (0 reads Stripe on every page), e.g. 60.",
            id=ID.format("E043"),
        )


#: Cache backends that keep their data in the process: a count there is not shared.
_PROCESS_CACHES = (
    "django.core.cache.backends.locmem.LocMemCache",
    "django.core.cache.backends.dummy.DummyCache",
)


def _check_rate_limit(raw: dict[str, Any]) -> Iterable[CheckMessage]:
    """E046: a rate that is no number; W046: workers pacing alone (see
    `payments.transfers._pace`)."""
    limit = raw.get("PAYMENTS_RATE_LIMIT")
    if limit is not None and (
        isinstance(limit, bool) or not isinstance(limit, (int, float)) or limit < 0
    ):
        yield Error(
            f"{_setting_name('PAYMENTS_RATE_LIMIT')} is {limit!r}, not a number of "
            "requests per second.",
            hint="Use e.g. 20 (Stripe allows about 25 a second in test mode, 100 live), "
            "0 to turn pacing off, or remove it for the default.",
            id=ID.format("E046"),
        )
        return
    if raw.get("PAYMENTS_PROCESSING") != "task" or limit == 0:
        return
    backend = str(settings.CACHES.get("default", {}).get("BACKEND", ""))
    if backend in _PROCESS_CACHES:
        yield Warning(
            f"Transfers are sent by task workers, but the default cache ({backend}) "
            "is not shared between processes: each worker paces its Stripe calls "
            "alone, and together they can go over Stripe's rate limit.",
            hint="Use a shared cache as CACHES['default'] (Redis or Memcached; the "
            "database cache counts approximately), or lower PAYMENTS_RATE_LIMIT to "
            "the per-key rate divided by the number of workers.",
            id=ID.format("W046"),
        )


def _check_schedule(value: Any, api: str) -> Iterable[CheckMessage]:
    name = _setting_name("PAYOUT_SCHEDULE")
    interval = value.get("interval") if isinstance(value, dict) else None
    if not isinstance(value, dict) or set(value) - set(_SCHEDULE_KEYS) or (
        interval not in PAYOUT_INTERVALS
    ):
        yield Error(
            f"{name} is not a payout schedule: a dict with 'interval' (one of "
            f"{', '.join(PAYOUT_INTERVALS)}) and only {', '.join(_SCHEDULE_KEYS)}.",
            hint=_did_you_mean(interval, PAYOUT_INTERVALS) + "Write e.g. "
            '{"interval": "weekly", "weekly_anchor": "friday", "delay_days": 7}, or remove '
            "it to keep Stripe's default (daily).",
            id=ID.format("E040"),
        )
        return
    given = [k for k in ("weekly_anchor", "monthly_anchor") if k in value]
    wanted = {"weekly": ["weekly_anchor"], "monthly": ["monthly_anchor"]}.get(interval, [])
    anchor = schedule_from_setting(value).anchor
    problems = schedule_problems(interval, None, anchor, api=api)
    if given != wanted or problems:
        yield Error(
            f"{name}: " + ("; ".join(problems) or f"a {interval} schedule takes "
                           f"{' '.join(wanted) or 'no anchor'}, not {', '.join(given)}") + ".",
            hint="A weekly schedule takes weekly_anchor (a weekday; monday to friday for "
            "Accounts v2), a monthly one monthly_anchor (1 to 31), daily and manual ones "
            "neither.",
            id=ID.format("E041"),
        )
    delay = value.get("delay_days")
    if schedule_problems("manual", delay, None):
        yield Error(
            f"{name}: delay_days is {delay!r}; Stripe takes 'minimum' or 1 to "
            f"{MAX_DELAY_DAYS} days.",
            hint="Use 'minimum' (the country's lowest, Stripe's default) or a number of days "
            "Stripe allows for the account's country.",
            id=ID.format("E042"),
        )


def _did_you_mean(value: Any, choices: Iterable[str]) -> str:
    """``"Did you mean 'x'? "`` for the choice closest to ``value``, or ``""``."""
    if not isinstance(value, str):
        return ""
    guesses = difflib.get_close_matches(value.strip().lower(), list(choices), n=1, cutoff=0.6)
    return f"Did you mean {guesses[0]!r}? " if guesses else ""


def _check_installed_apps() -> Iterable[CheckMessage]:
    for app, why in (
        ("django.contrib.auth", "accounts belong to users"),
        ("django.contrib.messages", "the flows tell users what happened"),
    ):
        if not apps.is_installed(app):
            yield Error(
                f"{app} must be in INSTALLED_APPS: {why}.",
                hint=f"Add {app!r} to INSTALLED_APPS.",
                id=ID.format("E012"),
            )


def _check_databases() -> Iterable[CheckMessage]:
    from .models import AccountReassignment, ConnectAttempt, ExpressAccount, WebhookEvent

    models = (ExpressAccount, ConnectAttempt, WebhookEvent, AccountReassignment)
    aliases = {model.__name__: router.db_for_write(model) for model in models}
    if len(set(aliases.values())) > 1:
        routes = ", ".join(f"{name} to {alias!r}" for name, alias in aliases.items())
        yield Error(
            f"django_stripe_express's models must be written to one database "
            f"(DATABASE_ROUTERS send {routes}).",
            hint="An account is updated in one transaction with its event or its "
            "onboarding attempt: route all of django_stripe_express's models to one database.",
            id=ID.format("E013"),
        )


#: Every message id: ``ID.format("E001")`` is ``django_stripe_express.E001``.
ID = "django_stripe_express.{}"


def _setting_name(key: str) -> str:
    """How a message names a key: ``STRIPE_EXPRESS['SECRET_KEY']`` (never its value)."""
    return f"{SETTING_NAME}[{key!r}]"


def configured() -> dict[str, Any] | None:
    """``settings.STRIPE_EXPRESS``, or None when it is absent or not a dict
    (`checks.check_settings` reports the latter as E010)."""
    raw = getattr(settings, SETTING_NAME, None)
    return raw if isinstance(raw, dict) else None


#: Where a live key may go: Stripe's own hosts, over https.
_STRIPE_DOMAIN = "stripe.com"

#: Replay protection: Stripe signs each delivery (and each retry) afresh, so
#: the window only has to cover clock skew and the trip. One hour is generous.
_MAX_WEBHOOK_TOLERANCE = 60 * 60

#: Live keys are sk_live_/rk_live_, test keys sk_test_/rk_test_; nothing else.
_KEY_PREFIXES = ("sk_live_", "sk_test_", "rk_live_", "rk_test_")

#: String settings that hold one credential each.
CREDENTIALS = ("SECRET_KEY", "CLIENT_ID", "PUBLISHABLE_KEY")

_MESSAGE_MIDDLEWARE = "django.contrib.messages.middleware.MessageMiddleware"


@register(Tags.security)
def _check_deployment(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    raw = configured()
    if raw is None:
        return []
    return [
        *_check_whitespace(raw),
        *_check_key_prefix(raw),
        *_check_secrets_lists(raw),
        *_check_live_hosts(raw),
        *_check_fake_credentials(raw),
        *_check_tolerance(raw),
        *_check_message_middleware(),
        *_check_placeholder_secrets(raw),
        *_check_test_server(raw),
        *_check_rate_cache(raw),
    ]


@register(Tags.urls)
def _check_urls_included(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """W008: the app's URLs are not in the project's URLconf.

    Only a missing name is reported: a URLconf that cannot even be imported is
    Django's own check's business (and raising here would hide it).
    """
    try:
        reverse("stripe_express:webhook")
    except NoReverseMatch:
        return [
            Warning(
                "The URLs of django_stripe_express are not included: Stripe's webhooks "
                "cannot reach the app, and pages with the button fail to render.",
                hint='Add path("stripe/", include("django_stripe_express.urls")) to '
                "your ROOT_URLCONF (the namespace must be 'stripe_express').",
                id=ID.format("W008"),
            )
        ]
    except Exception:  # a broken URLconf: Django's own URL checks report it
        return []
    return []


def _is_live(raw: dict[str, Any]) -> bool:
    return key_mode(raw.get("SECRET_KEY")) == "live"


def _check_whitespace(raw: dict[str, Any]) -> Iterable[CheckMessage]:
    values = [(key, raw.get(key)) for key in CREDENTIALS]
    values += [("WEBHOOK_SECRETS", secret) for secret in secret_list(raw.get("WEBHOOK_SECRETS"))]
    spaced = sorted({
        key for key, value in values
        if isinstance(value, str) and value and value != value.strip()
    })
    for key in spaced:
        yield Error(
            f"{_setting_name(key)} has spaces or a line break around it.",
            hint="Stripe would refuse the key, or no signature would ever match: "
            "strip the value where it is read (e.g. os.environ[...].strip()), and "
            "check the .env file or secret store it comes from.",
            id=ID.format("E016"),
        )


def _check_key_prefix(raw: dict[str, Any]) -> Iterable[CheckMessage]:
    key = raw.get("SECRET_KEY")
    if not isinstance(key, str):
        return
    key = key.strip()
    if key.startswith(("sk_", "rk_")) and not key.startswith(_KEY_PREFIXES):
        yield Error(
            f"{_setting_name('SECRET_KEY')} starts like a Stripe key but its mode is "
            "neither test nor live.",
            hint="Stripe keys start with sk_test_, sk_live_, rk_test_ or rk_live_: "
            "copy the key again from the Stripe dashboard (the mode decides "
            "which accounts the app shows).",
            id=ID.format("E017"),
        )


def _check_secrets_lists(raw: dict[str, Any]) -> Iterable[CheckMessage]:
    for secret in secret_list(raw.get("WEBHOOK_SECRETS")):
        if isinstance(secret, str) and re.search(r"[,;\s]", secret.strip()):
            yield Error(
                f"One of {_setting_name('WEBHOOK_SECRETS')} holds several secrets in one "
                "string: no signature will ever match it.",
                hint="Give a list with one whsec_... per item, e.g. "
                'os.environ["STRIPE_WEBHOOK_SECRETS"].split(",").',
                id=ID.format("E018"),
            )
            return


def _stripe_host(url: Any) -> bool:
    """``url`` is https on stripe.com or one of its subdomains."""
    parts = urlsplit(str(url))
    host = (parts.hostname or "").rstrip(".").lower()
    on_stripe = host == _STRIPE_DOMAIN or host.endswith("." + _STRIPE_DOMAIN)
    return parts.scheme == "https" and on_stripe


def _check_live_hosts(raw: dict[str, Any]) -> Iterable[CheckMessage]:
    if not _is_live(raw):
        return
    for key in ("API_BASE", "CONNECT_BASE"):
        value = raw.get(key)
        if value and not _stripe_host(value):
            yield Error(
                f"{_setting_name(key)} is not an https address on stripe.com, and the "
                "live key would be sent to it.",
                hint="Remove API_BASE and CONNECT_BASE in production (Stripe's hosts "
                "are the default); point them at a fake Stripe only with a test key.",
                id=ID.format("E014"),
            )


def _fake_credentials(raw: dict[str, Any]) -> list[str]:
    found = []
    secrets = secret_list(raw.get("WEBHOOK_SECRETS"))
    if any(isinstance(s, str) and s.strip() == _FAKE_WEBHOOK_SECRET for s in secrets):
        found.append("WEBHOOK_SECRETS")
    if raw.get("CLIENT_ID") == _FAKE_CLIENT_ID:
        found.append("CLIENT_ID")
    return found


def _check_fake_credentials(raw: dict[str, Any]) -> Iterable[CheckMessage]:
    found = _fake_credentials(raw)
    if not found:
        return
    names = " and ".join(_setting_name(key) for key in found)
    hint = (
        "The fake Stripe's whsec_fake and ca_fake are public (they are in this "
        "package): anyone can sign webhooks with them. Use your endpoint's signing "
        "secret and your platform's client id from the Stripe dashboard."
    )
    if _is_live(raw):
        yield Error(
            f"{names} hold the fake Stripe's credentials with a live key.",
            hint=hint, id=ID.format("E015"),
        )
    elif _stripe_host(raw.get("API_BASE", "https://api.stripe.com")):
        yield Warning(
            f"{names} hold the fake Stripe's credentials while the app talks to Stripe.",
            hint=hint, id=ID.format("W009"),
        )
    elif not settings.DEBUG:
        # An offline demo left running as a site: webhooks signed by anyone.
        yield Warning(
            f"{names} hold the fake Stripe's credentials while DEBUG is off.",
            hint=hint + " The fake Stripe is for tests and offline demos (DEBUG on).",
            id=ID.format("W018"),
        )


#: A real signing secret: ``whsec_`` and at least 32 letters and digits
#: (the Dashboard's are 32, the Stripe CLI's 64 hex digits).
_REALISTIC_SECRET = re.compile(r"whsec_[A-Za-z0-9]{32,}")

#: Placeholders from docs and READMEs (this project's own ``whsec_...`` too).
_PLACEHOLDER_SECRET = re.compile(
    r"whsec_(?:|[.x*_\-]+|(?:your|my|the|some|example|changeme|placeholder|secret|test|xxx)"
    r"[A-Za-z0-9_.\-]*)",
    re.IGNORECASE,
)


def _check_placeholder_secrets(raw: dict[str, Any]) -> Iterable[CheckMessage]:
    secrets = [
        s.strip() for s in secret_list(raw.get("WEBHOOK_SECRETS"))
        if isinstance(s, str) and s.strip().startswith("whsec_")
        and s.strip() != _FAKE_WEBHOOK_SECRET  # W009 / E015 / W018 name it
        and not re.search(r"[,;\s]", s.strip())  # E018's
    ]
    placeholders = [s for s in secrets if _PLACEHOLDER_SECRET.fullmatch(s)]
    if placeholders:
        yield Error(
            f"{_setting_name('WEBHOOK_SECRETS')} holds a placeholder (such as whsec_... or "
            "whsec_xxx), not a signing secret.",
            hint="Copy the endpoint's signing secret from the Stripe dashboard "
            "(Developers > Webhooks > the endpoint > Signing secret), or from "
            "`stripe listen` for local testing.",
            id=ID.format("E033"),
        )
        return
    if any(not _REALISTIC_SECRET.fullmatch(s) for s in secrets):
        message = (
            f"One of {_setting_name('WEBHOOK_SECRETS')} does not look like a Stripe signing "
            "secret (whsec_ and at least 32 letters and digits)."
        )
        hint = "Copy the signing secret again: a short or edited one never matches Stripe's."
        if _is_live(raw):
            yield Error(message, hint=hint, id=ID.format("E033"))
        else:
            yield Warning(message, hint=hint, id=ID.format("W021"))


def _check_test_server(raw: dict[str, Any]) -> Iterable[CheckMessage]:
    """W019: with DEBUG off, the app talks to a server that is neither Stripe
    nor this machine, over plain http (E014 covers a live key)."""
    if settings.DEBUG or _is_live(raw):
        return
    for key in ("API_BASE", "CONNECT_BASE"):
        value = raw.get(key)
        if not value:
            continue
        parts = urlsplit(str(value))
        if parts.scheme == "http" and parts.netloc and not _is_loopback(parts.hostname):
            yield Warning(
                f"{_setting_name(key)} is plain http to another machine while DEBUG is off: "
                "the secret key and every answer cross the network unencrypted.",
                hint="Remove API_BASE and CONNECT_BASE in production (Stripe's hosts are "
                "the default); a fake Stripe belongs on this machine (127.0.0.1).",
                id=ID.format("W019"),
            )


def _check_rate_cache(raw: dict[str, Any]) -> Iterable[CheckMessage]:
    alias = raw.get("USER_RATE_CACHE", "default")
    if alias not in settings.CACHES and not (alias == "default" and not settings.CACHES):
        yield Error(
            f"{_setting_name('USER_RATE_CACHE')} names {alias!r}, which is not in CACHES.",
            hint="Name one of the CACHES aliases, or remove it to use 'default'.",
            id=ID.format("E032"),
        )
        return
    backend = str((settings.CACHES.get(alias) or {}).get("BACKEND", ""))
    if backend.endswith("DummyCache") and raw.get("USER_RATE_LIMIT", 1):
        yield Warning(
            f"The cache {alias!r} is a DummyCache: USER_RATE_LIMIT never holds, and "
            "Account Links are never given again.",
            hint="Use a real cache (Redis, Memcached, the database) shared by every process.",
            id=ID.format("W020"),
        )


def _check_tolerance(raw: dict[str, Any]) -> Iterable[CheckMessage]:
    value = raw.get("WEBHOOK_TOLERANCE")
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return  # absent, or E008's business
    if value > _MAX_WEBHOOK_TOLERANCE:
        yield Warning(
            f"{_setting_name('WEBHOOK_TOLERANCE')} is more than an hour: an old signed "
            "delivery could be replayed for that long.",
            hint="Keep Stripe's default of 300 seconds (fix the server's clock "
            "rather than widening the window).",
            id=ID.format("W006"),
        )


def _check_message_middleware() -> Iterable[CheckMessage]:
    from django.contrib.messages.middleware import MessageMiddleware

    for path in settings.MIDDLEWARE or []:
        try:
            if issubclass(import_string(path), MessageMiddleware):
                return
        except (ImportError, TypeError):
            continue  # Django reports what cannot be imported
    yield Warning(
        f"{_MESSAGE_MIDDLEWARE} is not in MIDDLEWARE: what the onboarding flows tell "
        "users (connected, declined, what Stripe still needs) is silently lost.",
        hint=f"Add {_MESSAGE_MIDDLEWARE!r} to MIDDLEWARE, after the session middleware.",
        id=ID.format("W007"),
    )


@register(Tags.security, Tags.compatibility)
def _check_embedded(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    raw = configured()
    if raw is None:
        return []
    return [
        *_check_publishable_key(raw),
        *_check_connect_js_url(raw),
        *_check_components(raw),
        *_check_appearance(raw),
    ]


def _check_publishable_key(raw: dict[str, Any]) -> Iterable[CheckMessage]:
    key = raw.get("PUBLISHABLE_KEY")
    if isinstance(key, str):
        key = key.strip()  # spaces around it are E016's (deployment_checks)
    if not key:
        if raw.get("ONBOARDING") == ONBOARDING_EMBEDDED:
            yield Error(
                f"Embedded onboarding needs {_setting_name('PUBLISHABLE_KEY')}.",
                hint="Set it to your platform's publishable key (pk_test_... or "
                "pk_live_...) from the Stripe dashboard: Connect.js needs it in the browser.",
                id=ID.format("E027"),
            )
        return
    if not isinstance(key, str) or not key.startswith(PUBLISHABLE_PREFIXES):
        hint = "Use the publishable key (pk_test_... or pk_live_...) from the Stripe dashboard."
        if isinstance(key, str) and key.startswith(("sk_", "rk_")):
            # The key is written into pages: a secret key there is public at once.
            hint = (
                "That is a secret key, which would be written into your pages for "
                "anyone to read: roll it in the Stripe dashboard if it was ever "
                "served, then " + hint[0].lower() + hint[1:]
            )
        yield Error(
            f"{_setting_name('PUBLISHABLE_KEY')} is not a Stripe publishable key.",
            hint=hint,
            id=ID.format("E027"),
        )
        return
    secret_mode = key_mode(raw.get("SECRET_KEY"))
    if secret_mode is not None and key_mode(key) != secret_mode:
        yield Error(
            f"{_setting_name('PUBLISHABLE_KEY')} is a {key_mode(key)}-mode key but "
            f"{_setting_name('SECRET_KEY')} is a {secret_mode}-mode key.",
            hint="Account Sessions are made with the secret key; Connect.js refuses "
            "them with a publishable key of the other mode. Copy both keys from the "
            "same mode of the Stripe dashboard.",
            id=ID.format("E028"),
        )


def _is_loopback(host: str | None) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host or "").is_loopback
    except ValueError:
        return False


def _check_connect_js_url(raw: dict[str, Any]) -> Iterable[CheckMessage]:
    value = raw.get("CONNECT_JS_URL")
    if not value:
        return
    parts = urlsplit(str(value))
    if not parts.netloc or not (
        parts.scheme == "https" or (parts.scheme == "http" and _is_loopback(parts.hostname))
    ):
        yield Error(
            f"{_setting_name('CONNECT_JS_URL')} is not an https URL.",
            hint=f"Remove it to load Stripe's Connect.js ({STRIPE_CONNECT_JS_URL}); "
            "plain http is only for a stand-in on this machine (127.0.0.1, localhost), "
            "as the fake Stripe serves one.",
            id=ID.format("E029"),
        )
        return
    if key_mode(raw.get("SECRET_KEY")) == "live" and str(value) != STRIPE_CONNECT_JS_URL:
        yield Warning(
            f"{_setting_name('CONNECT_JS_URL')} is not Stripe's Connect.js, with a live key: "
            "that script receives your users' Account Sessions.",
            hint=f"Remove it in production so that {STRIPE_CONNECT_JS_URL} is loaded; "
            "use a stand-in only with a test key.",
            id=ID.format("W015"),
        )


def _component_problems(value: Any) -> Iterable[str]:
    if isinstance(value, (list, tuple)):
        value = {name: {} for name in value}
    if not isinstance(value, dict):
        yield "it must be a list of component names or a dict of name -> features"
        return
    for name, features in value.items():
        if name not in COMPONENTS:
            yield f"{name!r} is not a component this app can show"
            continue
        if not isinstance(features, dict):
            yield f"the features of {name!r} must be a dict of feature -> True/False"
            continue
        for feature, on in features.items():
            if feature not in COMPONENTS[name]:
                yield f"{name!r} has no feature {feature!r}"
            elif not isinstance(on, bool):
                yield f"{name!r}'s feature {feature!r} must be True or False"


def _check_components(raw: dict[str, Any]) -> Iterable[CheckMessage]:
    value = raw.get("EMBEDDED_COMPONENTS", DEFAULT_EMBEDDED_COMPONENTS)
    problems = list(_component_problems(value))
    if problems:
        yield Error(
            f"{_setting_name('EMBEDDED_COMPONENTS')}: {'; '.join(problems)}.",
            hint=f"Components: {', '.join(COMPONENTS)}. Give a list of names, or a dict "
            'such as {"payouts": {"instant_payouts": True}}; a feature left out keeps '
            "Stripe's default.",
            id=ID.format("E030"),
        )
        return
    items = list(value.items()) if isinstance(value, dict) else []
    if any(f.get("external_account_collection") is False for _, f in items):
        yield Error(
            f"{_setting_name('EMBEDDED_COMPONENTS')} turns off external_account_collection, "
            "which Stripe refuses for Express accounts: every Account Session would fail.",
            hint="Stripe allows it only where the platform collects requirements "
            "(Custom-like accounts), never with the Express dashboard. Remove it.",
            id=ID.format("E030"),
        )
    if any(f.get("disable_stripe_user_authentication") is True for _, f in items):
        # An error, not a warning (it was W014): no Account Session can succeed.
        yield Error(
            f"{_setting_name('EMBEDDED_COMPONENTS')} turns on "
            "disable_stripe_user_authentication, which Stripe refuses for Express "
            "accounts: every Account Session would fail.",
            hint="Stripe allows it only where the platform collects requirements "
            "(controller.requirement_collection = application), never with the Express "
            "dashboard. Remove it.",
            id=ID.format("E031"),
        )


def _check_appearance(raw: dict[str, Any]) -> Iterable[CheckMessage]:
    value = raw.get("EMBEDDED_APPEARANCE")
    if value is not None and not isinstance(value, dict):
        yield Error(
            f"{_setting_name('EMBEDDED_APPEARANCE')} must be a dict (Connect.js's appearance).",
            hint='For example {"variables": {"colorPrimary": "#0f766e", '
            '"borderRadius": "8px"}}.',
            id=ID.format("E030"),
        )


_KEYS = ("SUCCESS_URL", "FAILURE_URL")


@register(Tags.urls)
def _check_landing_urls(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    raw = configured()
    if raw is None:
        return []
    try:
        reverse("stripe_express:webhook")
    except Exception:  # not included (W008 says so) or a broken URLconf (Django's checks)
        return []
    return [message for key in _KEYS if (message := _check(key, raw.get(key))) is not None]


def _check(key: str, value: Any) -> CheckMessage | None:
    if value is None:
        return None  # the default, the app's own status page
    if isinstance(value, str) and value:
        try:
            resolve_url(value)
        except NoReverseMatch:
            pass
        else:
            return None
    return Warning(
        f"{_setting_name(key)} is {value!r}: neither a path, a URL nor a URL name of this "
        "project. Users would land on the app's status page (connect) instead.",
        hint='Use a path ("/payouts/"), a full URL, or the name of one of your URLs '
        '("dashboard", "payouts:settings"); or remove it to use the app\'s status page.',
        id=ID.format("W016"),
    )


# Silent failures: configurations where nothing errors, the page just does
# not work (a 403 with no message, a component that never loads, a task that
# never runs). Ids from 35 up, apart from the settings' own series.

_REQUEST_PROCESSOR = "django.template.context_processors.request"

_DJANGO_TEMPLATES = "django.template.backends.django.DjangoTemplates"


@register(Tags.templates, Tags.compatibility)
def _check_silent_failures(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    raw = configured()
    return [
        *_check_request_processor(),
        *([] if raw is None else _check_connect_js_with_fake(raw)),
        *([] if raw is None else _check_task_backend_ready(raw)),
    ]


def _check_request_processor() -> Iterable[CheckMessage]:
    engines = [
        engine for engine in getattr(settings, "TEMPLATES", None) or []
        if isinstance(engine, dict) and engine.get("BACKEND") == _DJANGO_TEMPLATES
    ]
    if not engines:
        return  # no Django template engine: the tags are not used (Django says so elsewhere)
    if any(
        _REQUEST_PROCESSOR in ((engine.get("OPTIONS") or {}).get("context_processors") or [])
        for engine in engines
    ):
        return
    yield Warning(
        f"{_REQUEST_PROCESSOR} is not in TEMPLATES' context_processors: "
        "{% stripe_express_button %} renders its form without a CSRF token, so "
        "\"Connect with Stripe\" answers 403, and embedded components get no "
        "Account Session (403).",
        hint=f"Add {_REQUEST_PROCESSOR!r} to TEMPLATES[0]['OPTIONS']['context_processors'] "
        "(a new project has it).",
        id=ID.format("W035"),
    )


def _check_connect_js_with_fake(raw: dict[str, Any]) -> Iterable[CheckMessage]:
    api_base = raw.get("API_BASE")
    if not api_base or not _is_loopback(urlsplit(str(api_base)).hostname):
        return
    if raw.get("CONNECT_JS_URL", STRIPE_CONNECT_JS_URL) != STRIPE_CONNECT_JS_URL:
        return
    if not raw.get("PUBLISHABLE_KEY") and raw.get("ONBOARDING") != ONBOARDING_EMBEDDED:
        return  # no component can show: nothing loads Connect.js
    base = str(api_base).rstrip("/")
    yield Warning(
        f"{_setting_name('API_BASE')} points at a Stripe on this machine (a fake) while "
        f"{_setting_name('CONNECT_JS_URL')} is Stripe's Connect.js: Stripe's script "
        "refuses the fake's Account Sessions, so every embedded component shows its "
        "fallback instead.",
        hint=f"Set CONNECT_JS_URL to the fake's stand-in, {base}/connect-js/v1.0/connect.js "
        "(python -m django_stripe_express.testing prints it), wherever you set API_BASE.",
        id=ID.format("W036"),
    )


def _check_task_backend_ready(raw: dict[str, Any]) -> Iterable[CheckMessage]:
    """The backend's own checks (e.g. django_tasks_db not installed: no table to
    queue into, every webhook a 500), which the backport only runs when
    ``django_tasks`` itself is in INSTALLED_APPS."""
    if raw.get("WEBHOOK_PROCESSING") != WEBHOOK_PROCESSING_TASK:
        return
    framework = _tasks_framework()
    if framework is None:
        return  # E023
    try:
        backend = framework.task_backends["default"]
        problems = list(backend.check())
    except Exception:  # E023 reports a backend that cannot be loaded
        return
    errors = [p for p in problems if p.is_serious()]
    if errors:
        yield Error(
            f"{_setting_name('WEBHOOK_PROCESSING')} is 'task', but the default task backend "
            f"is not ready: {'; '.join(str(p.msg) for p in errors)}. Each webhook "
            "delivery would fail while queueing its event.",
            hint="; ".join(str(p.hint) for p in errors if p.hint)
            or "Fix the TASKS['default'] backend's configuration.",
            id=ID.format("E036"),
        )
