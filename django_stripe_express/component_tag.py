"""``{% stripe_express_component "<name>" %}``: one of Stripe's embedded components.

The tag writes a placeholder that the app's static script
(``django_stripe_express/embedded.js``) fills with Connect.js's element, and,
the first time on a page, the loader: that script, its stylesheet and its
settings as a JSON block (not executable, so a strict Content-Security-Policy
needs no ``'unsafe-inline'``). The script loads Connect.js from
``CONNECT_JS_URL`` and gets its client secret from ``account_session``.
"""

from __future__ import annotations

import logging
from typing import Any

from django import template
from django.conf import settings
from django.http import HttpRequest
from django.middleware.csrf import get_token
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import get_language, to_locale

from . import components
from .conf import PUBLISHABLE_PREFIXES, app_settings

logger = logging.getLogger(__name__)

COMPONENT_TEMPLATE = "django_stripe_express/component.html"
LOADER_TEMPLATE = "django_stripe_express/embedded_loader.html"
CONFIG_ID = "stripe-express-embedded-config"
# Per-request memo: whether this page already has the loader.
_LOADER_ATTR = "_stripe_express_loader_done"


def publishable_key() -> str | None:
    """The key to write into the page: only ever a publishable (``pk_``) key.

    A secret key put in this setting by mistake must not reach a page (check
    E027 reports it); the components then show their fallback.
    """
    key = (app_settings.PUBLISHABLE_KEY or "").strip()
    return key if key.startswith(PUBLISHABLE_PREFIXES) else None


def loader_config(request: HttpRequest | None) -> dict[str, Any]:
    """What the static script needs, written once per page as JSON."""
    return {
        "publishableKey": publishable_key(),
        "connectJsUrl": app_settings.CONNECT_JS_URL,
        "accountSessionUrl": reverse("stripe_express:account_session"),
        # The script sends it as X-CSRFToken (works with CSRF_COOKIE_HTTPONLY too).
        "csrfToken": get_token(request) if request is not None else "",
        "appearance": app_settings.EMBEDDED_APPEARANCE,
        # Connect.js takes BCP 47 tags ("en-US", "fr-FR"): the page's language.
        "locale": to_locale(get_language() or "en").replace("_", "-"),
    }


def _refuse(name: str) -> SafeString:
    """A name that is not enabled: an error while developing, nothing in production."""
    message = (
        f"stripe_express_component: {name!r} is not enabled. Add it to "
        f"STRIPE_EXPRESS['EMBEDDED_COMPONENTS'] (components: {', '.join(components.COMPONENTS)})."
    )
    if settings.DEBUG:
        raise template.TemplateSyntaxError(message)
    logger.warning("%s Rendering nothing.", message)
    return mark_safe("")


def render_component(
    request: HttpRequest | None,
    name: str,
    *,
    has_account: bool,
    on_exit: str = "",
    fallback_url: str = "",
    template_name: str = COMPONENT_TEMPLATE,
) -> SafeString:
    """The component's placeholder (and the loader, once per page); ``""`` without
    an account, or for a component that is not enabled (see `_refuse`)."""
    if not components.is_enabled(name):
        return _refuse(name)
    if not has_account:
        return mark_safe("")
    key = publishable_key()
    if key is None:
        message = "stripe_express_component needs STRIPE_EXPRESS['PUBLISHABLE_KEY'] (pk_...)."
        if settings.DEBUG:
            raise template.TemplateSyntaxError(message)
        logger.warning("%s Showing the fallback.", message)
    first = request is None or not request.__dict__.get(_LOADER_ATTR)
    if request is not None:
        request.__dict__[_LOADER_ATTR] = True
    context = {
        "name": name,
        "element_name": components.element_name(name),
        "on_exit": on_exit,
        "fallback_url": fallback_url or _default_fallback(name),
        "onboarding": name == components.ONBOARDING,
        # Without a usable key nothing can load: the fallback shows at once.
        "unavailable": key is None,
        "include_loader": first and key is not None,
        "loader_template": LOADER_TEMPLATE,
        "config": loader_config(request) if first and key is not None else None,
        "config_id": CONFIG_ID,
    }
    return render_to_string(template_name, context, request=request)


def _default_fallback(name: str) -> str:
    """Where the fallback link goes: Stripe's hosted onboarding for the onboarding
    component, the Express dashboard for the others."""
    if name == components.ONBOARDING:
        return reverse("stripe_express:onboarding_refresh")
    return reverse("stripe_express:dashboard")
