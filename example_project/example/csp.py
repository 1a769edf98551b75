"""A strict Content-Security-Policy, as a careful platform sends one.

Scripts come only from this site and from the host of Connect.js (Stripe's,
or the fake's stand-in offline): the app's JavaScript is a static file, so no
inline script is needed. Stripe's embedded components also need frames from
that host and images from Stripe (docs/embedded.md lists the sources). Styles
allow 'unsafe-inline' for the button's own <style> (override
django_stripe_express/styles.html with an empty file to drop it).
"""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import urlsplit

from django.http import HttpRequest, HttpResponse

from django_stripe_express.conf import app_settings

#: Stripe's own sources for Connect.js, besides the Connect.js host.
STRIPE_JS = "https://js.stripe.com"


def policy() -> str:
    parts = urlsplit(app_settings.CONNECT_JS_URL)
    connect_js = f"{parts.scheme}://{parts.netloc}"
    return "; ".join([
        "default-src 'self'",
        f"script-src 'self' {connect_js} {STRIPE_JS}",
        f"frame-src {connect_js} {STRIPE_JS}",
        "img-src 'self' data: https://*.stripe.com",
        "style-src 'self' 'unsafe-inline'",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
    ])


class ContentSecurityPolicyMiddleware:
    """Adds the policy to every page but the admin's (Django's own pages)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if not request.path.startswith("/admin/"):
            response.headers.setdefault("Content-Security-Policy", policy())
        return response
