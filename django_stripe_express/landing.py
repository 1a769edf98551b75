"""Where the flows send the user back: where they started, else the settings.

Every redirect at the end of a flow (onboarding done or failed, the dashboard
link failing, a disconnect) goes through `success_url` or `failure_url`: the
``next`` the user started from when there is a safe one, else ``SUCCESS_URL``
or ``FAILURE_URL``. Both settings take a path, a full URL or a URL name
(``"dashboard"``, ``"payouts:settings"``), resolved with Django's
``resolve_url`` when a request needs them, so a name works wherever the
URLconf puts it.

Their default is the app's own ``connect`` page, because every project that
includes the app's URLs has it (a ``"/"`` default was a 404 in projects
without a home page): a GET shows the user's Stripe status, the button, and
the message the flow left. A setting naming no URL is reported by check W016;
if one reaches a request anyway, the user lands on that same page and a
warning is logged, never a 500.
"""

from __future__ import annotations

import logging

from django.http import HttpRequest
from django.shortcuts import resolve_url
from django.urls import NoReverseMatch, reverse
from django.utils.http import url_has_allowed_host_and_scheme

from .conf import app_settings

logger = logging.getLogger(__name__)

#: The default of ``SUCCESS_URL`` and ``FAILURE_URL``.
STATUS_PAGE = "stripe_express:connect"


def safe_next_url(request: HttpRequest, url: str | None) -> str:
    """`url` if it points at this site (over HTTPS when this request is), else ""."""
    if url and url_has_allowed_host_and_scheme(
        url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return url
    return ""


def resolve_setting(key: str, value: str) -> str:
    """``value`` (a path, URL or URL name) as a URL; the status page if it names none."""
    try:
        return str(resolve_url(value))
    except NoReverseMatch:
        logger.warning(
            "STRIPE_EXPRESS[%r] is neither a URL nor a URL name (check W016): "
            "sending the user to the app's status page instead", key,
        )
        return reverse(STATUS_PAGE)


def success_url(next_url: str = "") -> str:
    """``next_url`` (already checked safe) if any, else ``SUCCESS_URL``."""
    return next_url or resolve_setting("SUCCESS_URL", app_settings.SUCCESS_URL)


def failure_url(next_url: str = "") -> str:
    """``next_url`` (already checked safe) if any, else ``FAILURE_URL``."""
    return next_url or resolve_setting("FAILURE_URL", app_settings.FAILURE_URL)


def requested_next(request: HttpRequest) -> str:
    """The request's own ``next`` (a form field or the query string), if it is safe."""
    return safe_next_url(request, request.POST.get("next") or request.GET.get("next"))
