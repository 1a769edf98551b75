"""Template tags that show a platform user their Stripe Express account.

    {% load stripe_express %}
    {% stripe_express_button %}
    {% stripe_express_button next="/settings/payouts/" %}
    {% stripe_express_button disconnect=False %}
    {% stripe_express_account as acct %}{% if acct %}{{ acct.get_status_display }}{% endif %}
    {% stripe_express_component "payouts" %}

All look at ``request.user`` (the ``request`` context processor must be on)
and the mode of the configured secret key; without a request (an email, a
background job) at the context's ``user``. The account is read once per
request and kept on the request, so a page may use the tags any number of
times for at most one query. What the account's state means and its words
come from the account itself (its API's reasons table), never from here.
"""

from __future__ import annotations

import difflib
import logging
from typing import Any

import stripe
from django import template
from django.conf import settings
from django.http import HttpRequest
from django.middleware.csrf import get_token
from django.shortcuts import resolve_url
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.safestring import SafeString
from django.utils.translation import get_language, to_locale

from .. import accounts as requirements
from .. import conf as components
from ..accounts import AccountStatus
from ..conf import PUBLISHABLE_PREFIXES, app_settings
from ..models import ExpressAccount
from ..payments import payouts

logger = logging.getLogger("django_stripe_express.templatetags")

_COMPONENT_TEMPLATE = "django_stripe_express/component.html"

_LOADER_TEMPLATE = "django_stripe_express/embedded_loader.html"

_CONFIG_ID = "stripe-express-embedded-config"

# Per-request memo: whether this page already has the loader.
_LOADER_ATTR = "_stripe_express_loader_done"


def publishable_key() -> str | None:
    """The key to write into the page: only ever a publishable (``pk_``) key.

    A secret key put in this setting by mistake must not reach a page (check
    E027 reports it); the components then show their fallback.
    """
    key = (app_settings.PUBLISHABLE_KEY or "").strip()
    return key if key.startswith(PUBLISHABLE_PREFIXES) else None


def _loader_config(request: HttpRequest | None) -> dict[str, Any]:
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
    """A name that is not enabled: an error while developing, nothing in production.

    A name that is no component at all is a typo, not a setting to change:
    adding it to ``EMBEDDED_COMPONENTS`` would only fail check E030.
    """
    if name in components.COMPONENTS:
        message = (
            f"stripe_express_component: {name!r} is not enabled. Add it to "
            "STRIPE_EXPRESS['EMBEDDED_COMPONENTS']."
        )
    else:
        guesses = difflib.get_close_matches(str(name).lower(), list(components.COMPONENTS), n=1)
        message = (
            f"stripe_express_component: {name!r} is not a component"
            + (f"; did you mean {guesses[0]!r}?" if guesses else ".")
            + f" Components: {', '.join(components.COMPONENTS)}."
        )
    if settings.DEBUG:
        raise template.TemplateSyntaxError(message)
    logger.warning("%s Rendering nothing.", message)
    return SafeString()


def _render_component(
    request: HttpRequest | None,
    name: str,
    *,
    has_account: bool,
    on_exit: str = "",
    fallback_url: str = "",
    template_name: str = _COMPONENT_TEMPLATE,
) -> SafeString:
    """The component's placeholder (and the loader, once per page); ``""`` without
    an account, or for a component that is not enabled (see `_refuse`)."""
    if not components.is_enabled(name):
        return _refuse(name)
    if not has_account:
        return SafeString()
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
        # The app's own fallbacks make a link at Stripe: a POST (see fallback_link.html).
        "fallback_post": not fallback_url,
        "onboarding": name == components.ONBOARDING,
        # Without a usable key nothing can load: the fallback shows at once.
        "unavailable": key is None,
        "include_loader": first and key is not None,
        "loader_template": _LOADER_TEMPLATE,
        "config": _loader_config(request) if first and key is not None else None,
        "config_id": _CONFIG_ID,
    }
    return render_to_string(template_name, context, request=request)


def _default_fallback(name: str) -> str:
    """Where the fallback link goes: Stripe's hosted onboarding for the onboarding
    component, the Express dashboard for the others."""
    if name == components.ONBOARDING:
        return reverse("stripe_express:onboarding_refresh")
    return reverse("stripe_express:dashboard")


register = template.Library()

BUTTON_TEMPLATE = "django_stripe_express/button.html"

_DISCONNECT_TEMPLATE = "django_stripe_express/disconnect_form.html"

STYLES_TEMPLATE = "django_stripe_express/styles.html"

# States the button shows beyond `AccountStatus`: nobody is logged in, or the
# user has no account in this mode yet.
_ANONYMOUS = "anonymous"

_NOT_CONNECTED = "not_connected"

# Per-request memo: {(user pk, livemode): account or None}, and whether the
# button's <style> was already written on this page.
_ACCOUNTS_ATTR = "_stripe_express_accounts"

_STYLES_ATTR = "_stripe_express_styles_done"


def _user(context: template.Context) -> Any:
    request = context.get("request")
    user = getattr(request, "user", None) or context.get("user")
    return user if user is not None and user.is_authenticated else None


def account_for_request(
    request: HttpRequest | None, user: Any, livemode: bool | None = None
) -> ExpressAccount | None:
    """The user's account in `livemode` (default: the configured mode), memoised on `request`."""
    if user is None or not user.is_authenticated:
        return None
    if livemode is None:
        livemode = app_settings.livemode
    memo: dict[tuple[Any, bool], ExpressAccount | None]
    memo = request.__dict__.setdefault(_ACCOUNTS_ATTR, {}) if request is not None else {}
    key = (user.pk, livemode)
    if key not in memo:
        memo[key] = ExpressAccount.objects.for_user(user, livemode).first()
    return memo[key]


def _with_next(url: str, next_url: str | None) -> str:
    return f"{url}?{urlencode({'next': next_url})}" if next_url else url


def _account_context(account: ExpressAccount) -> dict[str, Any]:
    """What is due and by when, and why the account is limited, in the user's words."""
    status = account.status
    deadline = requirements.deadline(account)
    if status == AccountStatus.PENDING_VERIFICATION:
        items = account.pending_verification
    elif status == AccountStatus.ENABLED:
        # Still enabled, but Stripe wants these by a date: due now, and future
        # requirements once they have a deadline of their own.
        items = [*account.currently_due, *account.future_currently_due]
        future = None
        if account.future_currently_due:
            future = requirements.deadline(account, field="future_requirements")
        deadline = min((d for d in (deadline, future) if d is not None), default=None)
    else:
        items = [*account.past_due, *account.currently_due]
    reason = account.reason
    return {
        "items_due": account.requirement_words(items),
        "deadline": deadline,
        "disabled_reason_text": reason.user_text({"past_due": account.past_due}) if reason else "",
        # Who can lift a restriction: "user", "platform", "stripe" ("" if none).
        "action_by": reason.lifted_by if reason else "",
    }


def button_context(
    request: HttpRequest | None,
    user: Any,
    account: ExpressAccount | None,
    next_url: str | None = None,
    disconnect: bool = True,
) -> dict[str, Any]:
    """Everything `button.html` and its state partials need, for one account."""
    if next_url is None and request is not None:
        next_url = request.get_full_path()
    if account is not None:
        status = account.status
    elif user is None:
        status = _ANONYMOUS
    else:
        status = _NOT_CONNECTED
    connect_url = _with_next(reverse("stripe_express:connect"), next_url)
    context: dict[str, Any] = {
        "request": request,
        "account": account,
        "status": status,
        "state_template": f"django_stripe_express/states/{status}.html",
        "connect_url": connect_url,
        # With the page as `next`: if Stripe cannot open the dashboard, the
        # user comes back here with the message, not to SUCCESS_URL.
        "dashboard_url": _with_next(reverse("stripe_express:dashboard"), next_url),
        "login_url": _with_next(resolve_url(settings.LOGIN_URL), next_url),
        "support_url": app_settings.SUPPORT_URL or "",
        # The disconnect form (`disconnect_form.html`), where it is allowed; never
        # without a request (an email, a job): no CSRF token, no page to return to.
        "can_disconnect": (
            disconnect and request is not None and account is not None
            and account.is_connected and account.via_oauth
        ),
        "disconnect_url": _with_next(reverse("stripe_express:disconnect"), next_url),
        "disconnect_template": _DISCONNECT_TEMPLATE,
        "items_due": [],
        "deadline": None,
        "disabled_reason_text": "",
        "action_by": "",
    }
    if account is not None:
        context.update(_account_context(account))
        context.update(_payout_failure_context(account))
    return context


_PAYOUT_FAILURE_TEMPLATE = "django_stripe_express/payout_failure.html"


def _payout_failure_context(account: ExpressAccount) -> dict[str, Any]:
    """The latest failed payout, from the account's row (no query): why, in the
    user's words, and where to fix it (the account management component when
    it is enabled and can load, with a publishable key; otherwise the Express
    dashboard)."""
    if account.payout_failed_at is None or not account.is_connected:
        return {"payout_failure_text": ""}
    return {
        "payout_failure_text": str(payouts.failure(account.payout_failure_code).user),
        "payout_failure_template": _PAYOUT_FAILURE_TEMPLATE,
        "payout_fix_component": (
            components.is_enabled("account_management") and publishable_key() is not None
        ),
    }


@register.simple_tag(takes_context=True)
def stripe_express_button(
    context: template.Context,
    account: ExpressAccount | None = None,
    next: str | None = None,
    template: str = BUTTON_TEMPLATE,
    disconnect: bool = True,
) -> SafeString:
    """The "Connect with Stripe" button, or the account's state and what to do next.

    ``{% stripe_express_button %}`` renders for ``request.user`` in the
    configured mode. Keywords: ``account=`` shows that account instead (no
    query), ``next=`` where the flows return to (default: this page),
    ``template=`` another template than ``django_stripe_express/button.html``,
    ``disconnect=False`` no disconnect form (shown, behind a confirmation, for
    accounts connected with OAuth).
    """
    request: HttpRequest | None = context.get("request")
    user = _user(context)
    if account is None:
        account = account_for_request(request, user)
    ctx = button_context(request, user, account, next, disconnect=disconnect)
    # The <style> goes out once per page, however many buttons it has.
    ctx["include_styles"] = request is None or not request.__dict__.get(_STYLES_ATTR)
    if request is not None:
        request.__dict__[_STYLES_ATTR] = True
    ctx["styles_template"] = STYLES_TEMPLATE
    return render_to_string(template, ctx, request=request)


@register.simple_tag(takes_context=True)
def stripe_express_account(context: template.Context) -> ExpressAccount | None:
    """The current user's account in the configured mode, or ``None``.

    ``{% stripe_express_account as acct %}`` shares the button's per-request
    memo: both tags together cost one query per page.
    """
    return account_for_request(context.get("request"), _user(context))


@register.simple_tag(takes_context=True)
def stripe_express_component(
    context: template.Context,
    name: str,
    account: ExpressAccount | None = None,
    on_exit: str = "",
    connect_button: bool = False,
    fallback_url: str = "",
    template: str = _COMPONENT_TEMPLATE,
) -> SafeString:
    """One of Stripe's embedded components for the user's account, e.g.
    ``{% stripe_express_component "payouts" %}``.

    Only components enabled in ``EMBEDDED_COMPONENTS`` (and
    ``"account_onboarding"``); another name is a ``TemplateSyntaxError`` with
    ``DEBUG`` on, and renders nothing otherwise. Without a connected account
    it renders nothing, or the button with ``connect_button=True``. Keywords:
    ``account=`` this account instead of the user's (no query); ``on_exit=``
    the id of a form to submit when the onboarding component exits;
    ``fallback_url=`` where the "could not load" message links
    (default: Stripe's hosted onboarding, or the Express dashboard);
    ``template=`` another template than ``django_stripe_express/component.html``.
    Connect.js and the app's script are loaded once per page however many
    components it shows; the account is read once per page with the other tags.
    """
    request: HttpRequest | None = context.get("request")
    if account is None:
        account = account_for_request(request, _user(context))
    connected = account is not None and account.is_connected
    if not connected and connect_button and components.is_enabled(name):
        return stripe_express_button(context, account=account)
    return _render_component(
        request, name, has_account=connected, on_exit=on_exit, fallback_url=fallback_url,
        template_name=template,
    )


_BALANCE_TEMPLATE = "django_stripe_express/balance.html"


@register.simple_tag(takes_context=True)
def stripe_express_balance(
    context: template.Context,
    account: ExpressAccount | None = None,
    template: str = _BALANCE_TEMPLATE,
) -> SafeString:
    """The user's Stripe balance: available, pending and instant-available
    amounts per currency, formatted for the page's language (Babel), a
    negative balance shown negative.

    ``{% stripe_express_balance %}`` renders for ``request.user`` (the
    account is read once per page with the other tags; ``account=`` shows
    that one, no query); nothing without a connected account. At most one
    call to Stripe per account per ``BALANCE_CACHE_SECONDS``; when Stripe
    cannot answer, a short "unavailable" line, never an error page.
    """
    request: HttpRequest | None = context.get("request")
    if account is None:
        account = account_for_request(request, _user(context))
    if account is None or not account.is_connected:
        return SafeString()
    locale = to_locale(get_language() or "en")
    rows: list[dict[str, Any]] = []
    try:
        amounts = payouts.account_balance(account)
    except stripe.StripeError as exc:
        logger.warning("Balance of %s not read from Stripe (%s)", account.stripe_id,
                       type(exc).__name__)
        amounts = None
    for currency, row in sorted((amounts or {}).items()):
        rows.append({
            "currency": currency,
            "negative": row["available"] < 0,
            **{kind: payouts.format_amount(row[kind], currency, locale)
               for kind in payouts.BALANCE_KINDS},
            "has_instant": row["instant_available"] > 0,
        })
    ctx = {"account": account, "rows": rows, "unavailable": amounts is None}
    return render_to_string(template, ctx, request=request)
