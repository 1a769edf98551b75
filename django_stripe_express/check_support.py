"""What the system check modules share: message ids, how a message names a
setting, and the settings dict as the host project wrote it.

`checks` (what the flows cannot work with), `deployment_checks` (what works
but is dangerous), `embedded_checks` and `landing_checks` each register their
own checks in `apps.StripeExpressConfig.ready`; none imports another.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings

from .conf import SETTING_NAME

#: Every message id: ``ID.format("E001")`` is ``django_stripe_express.E001``.
ID = "django_stripe_express.{}"


def setting_name(key: str) -> str:
    """How a message names a key: ``STRIPE_EXPRESS['SECRET_KEY']`` (never its value)."""
    return f"{SETTING_NAME}[{key!r}]"


def configured() -> dict[str, Any] | None:
    """``settings.STRIPE_EXPRESS``, or None when it is absent or not a dict
    (`checks.check_settings` reports the latter as E010)."""
    raw = getattr(settings, SETTING_NAME, None)
    return raw if isinstance(raw, dict) else None
