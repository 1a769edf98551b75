"""Check W016: ``SUCCESS_URL`` / ``FAILURE_URL`` must lead somewhere.

Run with Django's URL checks (tag ``urls``): a URL name can only be resolved
once the URLconf loads. A warning, like W008, so that a test settings module
with a URLconf of its own still passes ``check``.
"""

from __future__ import annotations

from typing import Any

from django.core.checks import CheckMessage, Tags, Warning, register
from django.shortcuts import resolve_url
from django.urls import NoReverseMatch, reverse

from .check_support import ID, configured, setting_name

KEYS = ("SUCCESS_URL", "FAILURE_URL")


@register(Tags.urls)
def check_landing_urls(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    raw = configured()
    if raw is None:
        return []
    try:
        reverse("stripe_express:webhook")
    except Exception:  # not included (W008 says so) or a broken URLconf (Django's checks)
        return []
    return [message for key in KEYS if (message := _check(key, raw.get(key))) is not None]


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
        f"{setting_name(key)} is {value!r}: neither a path, a URL nor a URL name of this "
        "project. Users would land on the app's status page (connect) instead.",
        hint='Use a path ("/payouts/"), a full URL, or the name of one of your URLs '
        '("dashboard", "payouts:settings"); or remove it to use the app\'s status page.',
        id=ID.format("W016"),
    )
