"""Which flow starts onboarding: one entry per ``ONBOARDING`` value.

``connect``'s POST hands the request to the configured flow's ``start``; a new
flow adds its entry here, and the view stays as it is.
"""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from ..conf import ONBOARDING_ACCOUNT_LINKS, ONBOARDING_EMBEDDED, ONBOARDING_OAUTH, app_settings
from . import account_links, embedded, oauth

Start = Callable[[HttpRequest], HttpResponse]

STARTS: dict[str, Start] = {
    ONBOARDING_OAUTH: oauth.start,
    ONBOARDING_ACCOUNT_LINKS: account_links.start,
    ONBOARDING_EMBEDDED: embedded.start,
}


def start(request: HttpRequest) -> HttpResponse:
    """Start onboarding with the configured flow (OAuth for an unknown value:
    check E003 reports it)."""
    return STARTS.get(app_settings.ONBOARDING, oauth.start)(request)
