from typing import Any

from django.conf import settings
from django.http import HttpRequest

from django_stripe_express.conf import ONBOARDING_EMBEDDED, app_settings


def platform(request: HttpRequest) -> dict[str, Any]:
    """A banner when Stripe is the fake, the demo helpers only with DEBUG on, and
    whether the pages show Stripe's embedded components (embedded onboarding)."""
    return {
        "stripe_offline": getattr(settings, "STRIPE_OFFLINE", False),
        "fake_stripe_url": getattr(settings, "FAKE_STRIPE_URL", ""),
        "demo_tools": settings.DEBUG,
        "stripe_embedded": app_settings.ONBOARDING == ONBOARDING_EMBEDDED,
    }
