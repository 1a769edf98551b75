"""System checks for configurations that seem to work but are dangerous.

`checks` reports settings the flows cannot work with; these catch the ones
that do work, while sending a live key to the wrong host, accepting forged
webhooks, replaying old deliveries, or losing what the flows tell users.
Like every check of the app, no message repeats a key or a secret.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core.checks import CheckMessage, Error, Tags, Warning, register
from django.urls import NoReverseMatch, reverse
from django.utils.module_loading import import_string

from .check_support import ID, configured, setting_name
from .conf import _FAKE_CLIENT_ID, _FAKE_WEBHOOK_SECRET, key_mode

#: Where a live key may go: Stripe's own hosts, over https.
STRIPE_DOMAIN = "stripe.com"
#: Replay protection: Stripe signs each delivery (and each retry) afresh, so
#: the window only has to cover clock skew and the trip. One hour is generous.
MAX_WEBHOOK_TOLERANCE = 60 * 60
#: Live keys are sk_live_/rk_live_, test keys sk_test_/rk_test_; nothing else.
KEY_PREFIXES = ("sk_live_", "sk_test_", "rk_live_", "rk_test_")
#: String settings that hold one credential each.
CREDENTIALS = ("SECRET_KEY", "CLIENT_ID", "PUBLISHABLE_KEY")
MESSAGE_MIDDLEWARE = "django.contrib.messages.middleware.MessageMiddleware"


@register(Tags.security)
def check_deployment(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
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
    ]


@register(Tags.urls)
def check_urls_included(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
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


def _webhook_secrets(raw: dict[str, Any]) -> list[Any]:
    """The configured secrets as a list (E005 reports any other shape)."""
    secrets = raw.get("WEBHOOK_SECRETS") or []
    if isinstance(secrets, str):
        return [secrets]
    return list(secrets) if isinstance(secrets, (list, tuple)) else []


def _check_whitespace(raw: dict[str, Any]) -> Iterable[CheckMessage]:
    values = [(key, raw.get(key)) for key in CREDENTIALS]
    values += [("WEBHOOK_SECRETS", secret) for secret in _webhook_secrets(raw)]
    spaced = sorted({
        key for key, value in values
        if isinstance(value, str) and value and value != value.strip()
    })
    for key in spaced:
        yield Error(
            f"{setting_name(key)} has spaces or a line break around it.",
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
    if key.startswith(("sk_", "rk_")) and not key.startswith(KEY_PREFIXES):
        yield Error(
            f"{setting_name('SECRET_KEY')} starts like a Stripe key but its mode is "
            "neither test nor live.",
            hint="Stripe keys start with sk_test_, sk_live_, rk_test_ or rk_live_: "
            "copy the key again from the Stripe dashboard (the mode decides "
            "which accounts the app shows).",
            id=ID.format("E017"),
        )


def _check_secrets_lists(raw: dict[str, Any]) -> Iterable[CheckMessage]:
    for secret in _webhook_secrets(raw):
        if isinstance(secret, str) and re.search(r"[,;\s]", secret.strip()):
            yield Error(
                f"One of {setting_name('WEBHOOK_SECRETS')} holds several secrets in one "
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
    return parts.scheme == "https" and (host == STRIPE_DOMAIN or host.endswith("." + STRIPE_DOMAIN))


def _check_live_hosts(raw: dict[str, Any]) -> Iterable[CheckMessage]:
    if not _is_live(raw):
        return
    for key in ("API_BASE", "CONNECT_BASE"):
        value = raw.get(key)
        if value and not _stripe_host(value):
            yield Error(
                f"{setting_name(key)} is not an https address on stripe.com, and the "
                "live key would be sent to it.",
                hint="Remove API_BASE and CONNECT_BASE in production (Stripe's hosts "
                "are the default); point them at a fake Stripe only with a test key.",
                id=ID.format("E014"),
            )


def _fake_credentials(raw: dict[str, Any]) -> list[str]:
    found = []
    if any(
        isinstance(s, str) and s.strip() == _FAKE_WEBHOOK_SECRET for s in _webhook_secrets(raw)
    ):
        found.append("WEBHOOK_SECRETS")
    if raw.get("CLIENT_ID") == _FAKE_CLIENT_ID:
        found.append("CLIENT_ID")
    return found


def _check_fake_credentials(raw: dict[str, Any]) -> Iterable[CheckMessage]:
    found = _fake_credentials(raw)
    if not found:
        return
    names = " and ".join(setting_name(key) for key in found)
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


def _check_tolerance(raw: dict[str, Any]) -> Iterable[CheckMessage]:
    value = raw.get("WEBHOOK_TOLERANCE")
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return  # absent, or E008's business
    if value > MAX_WEBHOOK_TOLERANCE:
        yield Warning(
            f"{setting_name('WEBHOOK_TOLERANCE')} is more than an hour: an old signed "
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
        f"{MESSAGE_MIDDLEWARE} is not in MIDDLEWARE: what the onboarding flows tell "
        "users (connected, declined, what Stripe still needs) is silently lost.",
        hint=f"Add {MESSAGE_MIDDLEWARE!r} to MIDDLEWARE, after the session middleware.",
        id=ID.format("W007"),
    )
