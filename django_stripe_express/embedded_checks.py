"""System checks for embedded onboarding and components (E027-E030, W014-W015).

The browser loads Connect.js with the publishable key and hands it the
Account Session's secret: a wrong key, a key of the other mode, a script
from an unsafe address or a component Stripe does not know all break the
pages (or worse, expose the session), so they are reported at ``check``.
No message repeats a key.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from typing import Any
from urllib.parse import urlsplit

from django.core.checks import CheckMessage, Error, Tags, Warning, register

from .check_support import ID, configured, setting_name
from .components import COMPONENTS
from .conf import (
    DEFAULT_EMBEDDED_COMPONENTS,
    ONBOARDING_EMBEDDED,
    PUBLISHABLE_PREFIXES,
    STRIPE_CONNECT_JS_URL,
    key_mode,
)


@register(Tags.security, Tags.compatibility)
def check_embedded(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
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
                f"Embedded onboarding needs {setting_name('PUBLISHABLE_KEY')}.",
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
            f"{setting_name('PUBLISHABLE_KEY')} is not a Stripe publishable key.",
            hint=hint,
            id=ID.format("E027"),
        )
        return
    secret_mode = key_mode(raw.get("SECRET_KEY"))
    if secret_mode is not None and key_mode(key) != secret_mode:
        yield Error(
            f"{setting_name('PUBLISHABLE_KEY')} is a {key_mode(key)}-mode key but "
            f"{setting_name('SECRET_KEY')} is a {secret_mode}-mode key.",
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
            f"{setting_name('CONNECT_JS_URL')} is not an https URL.",
            hint=f"Remove it to load Stripe's Connect.js ({STRIPE_CONNECT_JS_URL}); "
            "plain http is only for a stand-in on this machine (127.0.0.1, localhost), "
            "as the fake Stripe serves one.",
            id=ID.format("E029"),
        )
        return
    if key_mode(raw.get("SECRET_KEY")) == "live" and str(value) != STRIPE_CONNECT_JS_URL:
        yield Warning(
            f"{setting_name('CONNECT_JS_URL')} is not Stripe's Connect.js, with a live key: "
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
            f"{setting_name('EMBEDDED_COMPONENTS')}: {'; '.join(problems)}.",
            hint=f"Components: {', '.join(COMPONENTS)}. Give a list of names, or a dict "
            'such as {"payouts": {"instant_payouts": True}}; a feature left out keeps '
            "Stripe's default.",
            id=ID.format("E030"),
        )
        return
    items = value.items() if isinstance(value, dict) else ()
    if any(f.get("disable_stripe_user_authentication") is True for _, f in items):
        yield Warning(
            f"{setting_name('EMBEDDED_COMPONENTS')} turns on "
            "disable_stripe_user_authentication, which Stripe refuses for Express "
            "accounts: every Account Session would fail.",
            hint="Stripe allows it only where the platform collects requirements "
            "(controller.requirement_collection = application), never with the Express "
            "dashboard. Remove it.",
            id=ID.format("W014"),
        )


def _check_appearance(raw: dict[str, Any]) -> Iterable[CheckMessage]:
    value = raw.get("EMBEDDED_APPEARANCE")
    if value is not None and not isinstance(value, dict):
        yield Error(
            f"{setting_name('EMBEDDED_APPEARANCE')} must be a dict (Connect.js's appearance).",
            hint='For example {"variables": {"colorPrimary": "#0f766e", '
            '"borderRadius": "8px"}}.',
            id=ID.format("E030"),
        )
