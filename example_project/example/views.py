"""The example platform's pages: a dashboard with the tag, and demo helpers.

The demo helpers (the list of users, one-click login, the gallery of button
states) exist only with DEBUG on: they would be a hole in a real site.
"""

from django.conf import settings
from django.contrib.auth import get_user_model, login
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from django_stripe_express.models import WebhookEvent
from django_stripe_express.templatetags.stripe_express import account_for_request

from .samples import gallery


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
    return render(request, "example/dashboard.html", {"last_event": last_event})


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
