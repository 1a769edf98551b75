"""The Express account admin: what support staff open for "why can't I get paid?".

Permissions:
- ``view``: the list and the change page (read-only for everyone: Stripe owns
  the data, and the user changes only through "Reassign");
- ``change``: "Refresh from Stripe" (it only re-reads Stripe's data);
- ``reassign_expressaccount`` (the app's own): "Reassign to another user",
  which moves payouts to another person, after a confirmation naming both
  users and with a recorded reason (`reassign_view`);
- ``delete``: "Disconnect", the destructive action, after a confirmation page.
Accounts are never added here: they come from onboarding.
"""

from __future__ import annotations

import datetime
from typing import Any

import stripe
from django.contrib import admin, messages
from django.core.exceptions import ImproperlyConfigured
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.urls import URLPattern, path
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from ..accounts import STRIPE_FIELDS
from ..diagnostics import log_configuration_error
from ..models import ExpressAccount
from ..reassign import can_reassign
from ..sync import describe_error, refresh_account
from . import display
from .disconnect_action import disconnect_action
from .filters import CapabilityFilter, DisconnectedFilter
from .reassign_view import reassign_view


@admin.register(ExpressAccount)
class ExpressAccountAdmin(admin.ModelAdmin):
    list_display = (
        "stripe_id",
        "user",
        "mode",
        "status_badge",
        "charges_enabled",
        "payouts_enabled",
        "details_submitted",
        "currently_due_count",
        "deadline",
        "disabled_reason",
        "connected_at",
        "updated_at",
    )
    list_filter = (
        "status", "livemode", "accounts_api", "country", CapabilityFilter, DisconnectedFilter
    )
    list_select_related = ("user",)
    search_fields = ("stripe_id", "email", "user__username", "user__email")
    raw_id_fields = ("user",)
    date_hierarchy = "connected_at"
    actions = ("refresh_from_stripe", "disconnect_accounts")
    readonly_fields = (
        "user",
        "stripe_id",
        "mode",
        "accounts_api",
        "status_badge",
        "dashboard_link",
        *STRIPE_FIELDS,
        "requirements_display",
        "future_requirements_display",
        "capabilities_display",
        "connected_at",
        "deauthorized_at",
        "synced_at",
        "updated_at",
        "last_event_created",
        "reassignments_display",
    )
    fieldsets = (
        (
            None,
            {
                "fields": (
                    "user", "stripe_id", "mode", "accounts_api", "status_badge", "dashboard_link"
                )
            },
        ),
        (
            _("At Stripe"),
            {
                "fields": (
                    "charges_enabled",
                    "payouts_enabled",
                    "details_submitted",
                    "disabled_reason",
                    "country",
                    "email",
                    "business_type",
                    "default_currency",
                )
            },
        ),
        (_("Requirements"), {"fields": ("requirements_display",)}),
        (_("Future requirements"), {"fields": ("future_requirements_display",)}),
        (_("Capabilities"), {"fields": ("capabilities_display",)}),
        (_("Reassignments"), {"fields": ("reassignments_display",)}),
        (
            _("Times"),
            {
                "fields": (
                    "connected_at",
                    "deauthorized_at",
                    "synced_at",
                    "updated_at",
                    "last_event_created",
                )
            },
        ),
    )

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        """``change`` allows the actions; no field of an account is edited by hand."""
        return obj is None and super().has_change_permission(request)

    def get_urls(self) -> list[URLPattern]:
        opts = self.model._meta
        return [
            path(
                "<path:object_id>/reassign/",
                self.admin_site.admin_view(self.reassign_view),
                name=f"{opts.app_label}_{opts.model_name}_reassign",
            ),
            *super().get_urls(),
        ]

    def reassign_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        return reassign_view(self, request, object_id)

    def change_view(
        self, request: HttpRequest, object_id: str, form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        # The object tools offer "Reassign" to those allowed to.
        extra = {**(extra_context or {}), "can_reassign": can_reassign(request.user)}
        return super().change_view(request, object_id, form_url, extra)

    # Columns -------------------------------------------------------------------

    @admin.display(description=_("mode"), ordering="livemode")
    def mode(self, obj: ExpressAccount) -> str:
        return gettext("live") if obj.livemode else gettext("test")

    @admin.display(description=_("status"), ordering="status")
    def status_badge(self, obj: ExpressAccount) -> SafeString:
        return display.status_badge(obj)

    @admin.display(description=_("currently due"))
    def currently_due_count(self, obj: ExpressAccount) -> int:
        return len(obj.currently_due)

    @admin.display(description=_("deadline"))
    def deadline(self, obj: ExpressAccount) -> datetime.datetime | None:
        """The earliest date by which Stripe needs something, even while enabled."""
        return display.earliest_deadline(obj)

    @admin.display(description=_("Stripe dashboard"))
    def dashboard_link(self, obj: ExpressAccount) -> SafeString:
        return format_html(
            '<a href="{}" target="_blank" rel="noopener noreferrer">{}</a>',
            obj.dashboard_url,
            gettext("Open in Stripe's dashboard"),
        )

    @admin.display(description=_("requirements"))
    def requirements_display(self, obj: ExpressAccount) -> str:
        return display.requirements_block(obj)

    @admin.display(description=_("future requirements"))
    def future_requirements_display(self, obj: ExpressAccount) -> str:
        return display.requirements_block(obj, future=True)

    @admin.display(description=_("capabilities"))
    def capabilities_display(self, obj: ExpressAccount) -> str:
        return display.capabilities_block(obj)

    @admin.display(description=_("reassignments"))
    def reassignments_display(self, obj: ExpressAccount) -> str:
        return display.reassignments_block(obj)

    # Actions -------------------------------------------------------------------

    @admin.action(description=_("Refresh from Stripe"), permissions=["change"])
    def refresh_from_stripe(
        self, request: HttpRequest, queryset: QuerySet[ExpressAccount]
    ) -> None:
        """One call per account; each failure is its own message, never a 500.

        No message starts with an id: the admin capitalises messages, and
        "Acct_1..." copied into Stripe's search finds nothing.
        """
        refreshed = 0
        for account in queryset:
            try:
                change = refresh_account(account, source="admin")
            except (stripe.StripeError, ImproperlyConfigured) as exc:
                log_configuration_error(exc, "the admin's refresh", account.stripe_id)
                self.message_user(
                    request,
                    gettext("Could not refresh account %(account)s: %(error)s")
                    % {"account": account.stripe_id, "error": describe_error(exc)},
                    messages.ERROR,
                )
                continue
            refreshed += 1
            if change.status_changed:
                self.message_user(
                    request,
                    gettext("Account %(account)s is now %(status)s.")
                    % {"account": account.stripe_id, "status": account.get_status_display()},
                    messages.INFO,
                )
        if refreshed:
            self.message_user(
                request,
                gettext("Refreshed %(count)d account(s) from Stripe.") % {"count": refreshed},
                messages.SUCCESS,
            )

    @admin.action(description=_("Disconnect (deauthorize)"), permissions=["delete"])
    def disconnect_accounts(
        self, request: HttpRequest, queryset: QuerySet[ExpressAccount]
    ) -> HttpResponse | None:
        return disconnect_action(self, request, queryset)
