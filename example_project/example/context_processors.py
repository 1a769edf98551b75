from typing import Any

from django.conf import settings
from django.http import HttpRequest


def platform(request: HttpRequest) -> dict[str, Any]:
    """A banner when Stripe is the fake, and the demo helpers only with DEBUG on."""
    return {
        "stripe_offline": getattr(settings, "STRIPE_OFFLINE", False),
        "demo_tools": settings.DEBUG,
    }
