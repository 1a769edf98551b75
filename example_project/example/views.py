"""The example platform's pages: a maker's dashboard (the button, their balance,
payouts and sales), the shop where a buyer pays for a maker's item, and demo
helpers.

The demo helpers (the list of users, one-click login, the gallery of button
states) exist only with DEBUG on: they would be a hole in a real site.
"""

import logging
import re
import uuid

import stripe
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import get_user_model, login
from django.contrib.auth.decorators import login_required
from django.http import (
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseBadRequest,
    HttpResponseRedirect,
)
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from django_stripe_express import payments
from django_stripe_express.conf import app_settings
from django_stripe_express.models import WebhookEvent
from django_stripe_express.stripe_api import get_client
from django_stripe_express.sync import describe_error
from django_stripe_express.templatetags.stripe_express import account_for_request

from . import money
from .samples import CATALOG, gallery, item

logger = logging.getLogger("example")

#: Stripe's test card, as a payment method: the demo pays with it server side.
#: A real platform confirms on the buyer's side (Stripe.js / Checkout) instead.
TEST_CARD = "pm_card_visa"


def _debug_only() -> None:
    if not settings.DEBUG:
        raise Http404("Demo pages are available only with DEBUG on.")


@login_required
def dashboard(request: HttpRequest) -> HttpResponse:
    """The user's page with the button, and the latest webhook about their account
    (offline, the fake forwards every change of the account to the webhook)."""
    account = account_for_request(request, request.user)  # the tags' own, memoised
    last_event = (
        WebhookEvent.objects.filter(account=account.stripe_id).order_by("-received_at").first()
        if account is not None
        else None
    )
    context = {"last_event": last_event, "ledger": money.ledger(request.user)}
    if account is not None and account.is_connected:
        context.update(
            latest_payouts=money.latest_payouts(account),
            next_payout=money.next_payout(account),
            payout_schedule=money.payout_schedule(account),
        )
    return render(request, "example/dashboard.html", context)


@login_required
def shop(request: HttpRequest) -> HttpResponse:
    """The makers' items, each with a Buy button (a new order id per page: the
    payment's idempotency key, so a double click pays once)."""
    makers = {
        u.username: u for u in get_user_model().objects.filter(
            username__in={i.maker for i in CATALOG}).prefetch_related("stripe_express_accounts")
    }
    livemode = app_settings.livemode
    rows = []
    for entry in CATALOG:
        maker = makers.get(entry.maker)
        accounts = [a for a in maker.stripe_express_accounts.all() if a.livemode == livemode
                    and a.is_connected] if maker is not None else []
        rows.append({
            "item": entry, "maker": maker, "price": money.money(entry.price, entry.currency),
            "own": maker is not None and maker.pk == request.user.pk,
            "payable": any(a.can_receive_transfers for a in accounts),
            "order": uuid.uuid4().hex,
        })
    return render(request, "example/shop.html", {"rows": rows})


_ORDER = re.compile(r"[0-9a-f]{32}")


@login_required
@require_POST
def buy(request: HttpRequest, slug: str) -> HttpResponse:
    """The buyer pays for a maker's item with a destination charge: the maker's
    share goes to their Stripe account at once, Makers Market keeps its fee, and
    the transfer Stripe makes is in the maker's ledger (`payments`)."""
    entry = item(slug)
    if entry is None:
        raise Http404("No such item.")
    order = request.POST.get("order", "")
    if not _ORDER.fullmatch(order):
        return HttpResponseBadRequest("Reload the shop and try again.")
    maker = get_object_or_404(get_user_model(), username=entry.maker)
    shop_url = reverse("shop")
    if maker.pk == request.user.pk:
        messages.error(request, "This is your own item.")
        return HttpResponseRedirect(shop_url)
    maker_name = maker.get_full_name() or maker.username
    try:
        params = payments.destination_charge_params(
            maker, entry.price, entry.currency, application_fee_amount=entry.fee,
            transfer_group=f"order:{order}")
    except payments.NotPayable:
        messages.error(request, f"{maker_name} cannot be paid yet (their Stripe account is "
                                "not ready): nothing was charged.")
        return HttpResponseRedirect(shop_url)
    client = get_client()
    try:
        intent = client.v1.payment_intents.create({
            "amount": entry.price, "currency": entry.currency,
            "payment_method": TEST_CARD, "confirm": True,
            # Confirmed here, without a page to come back to: no redirecting methods.
            "automatic_payment_methods": {"enabled": True, "allow_redirects": "never"},
            "description": f"{entry.title} by {maker_name}",
            "metadata": {"item": entry.slug, "buyer": str(request.user.pk), "order": order},
            **params,
        }, {"idempotency_key": f"makers-market-order-{order}"})
        if intent.status == "succeeded":
            # The payment's events record the maker's transfer too (the webhook);
            # recording it now shows it at once. Either way it is one row.
            paid = client.v1.payment_intents.retrieve(intent.id, {"expand": ["latest_charge"]})
            payments.record_destination_charge(paid.to_dict())
    except stripe.CardError as exc:
        messages.error(request, f"Your card was declined ({exc.code}): nothing was charged.")
        return HttpResponseRedirect(shop_url)
    except stripe.StripeError as exc:
        logger.warning("Order %s not paid: %s", order, type(exc).__name__)
        messages.error(request, f"The payment could not be made: {describe_error(exc)}")
        return HttpResponseRedirect(shop_url)
    if intent.status != "succeeded":
        messages.warning(request, f"The payment is {intent.status.replace('_', ' ')}.")
        return HttpResponseRedirect(shop_url)
    share = entry.price - entry.fee
    messages.success(
        request,
        f"You bought the {entry.title.lower()} from {maker_name} for "
        f"{money.money(entry.price, entry.currency)}. {maker_name} receives "
        f"{money.money(share, entry.currency)} in their Stripe balance; Makers Market "
        f"keeps {money.money(entry.fee, entry.currency)}.",
    )
    return HttpResponseRedirect(shop_url)


@login_required
def stripe_account(request: HttpRequest) -> HttpResponse:
    """The user's Stripe account on this site: Stripe's embedded components."""
    return render(request, "example/stripe_account.html")


def demo_users(request: HttpRequest) -> HttpResponse:
    """Who to log in as; each user's Express account status, in two queries
    (DEBUG only: it lists every user)."""
    _debug_only()
    users = get_user_model().objects.order_by("is_staff", "username").prefetch_related(
        "stripe_express_accounts"
    )
    return render(request, "example/demo_users.html", {"demo_users": users})


@require_POST
def demo_login(request: HttpRequest) -> HttpResponse:
    """Log in as a demo user without a password (DEBUG only, CSRF-protected)."""
    _debug_only()
    user = get_object_or_404(get_user_model(), username=request.POST.get("username", ""))
    login(request, user, backend="django.contrib.auth.backends.ModelBackend")
    return HttpResponseRedirect(reverse("admin:index") if user.is_staff else reverse("dashboard"))


def states(request: HttpRequest) -> HttpResponse:
    """Every state of the button side by side, from unsaved sample accounts."""
    _debug_only()
    return render(request, "example/states.html", {"samples": gallery(request)})
