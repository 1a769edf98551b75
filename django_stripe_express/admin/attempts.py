"""Onboarding attempts, read-only: how each trip through onboarding ended.

The ``state`` column is never shown, searched or exported: while an attempt is
pending it is a live CSRF token for the OAuth callback.
"""

from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest

from ..models import ConnectAttempt


@admin.register(ConnectAttempt)
class ConnectAttemptAdmin(admin.ModelAdmin):
    list_display = ("created_at", "user", "flow", "outcome", "error_code", "finished_at")
    list_filter = ("outcome", "flow", "livemode", "created_at")
    list_select_related = ("user",)
    search_fields = ("user__username", "user__email", "stripe_user_id", "error_code")
    date_hierarchy = "created_at"
    # An explicit list, so a future field is not shown by accident (and `state` never is).
    fields = (
        "user",
        "flow",
        "livemode",
        "outcome",
        "error_code",
        "error_description",
        "stripe_user_id",
        "account",
        "next_url",
        "created_at",
        "expires_at",
        "finished_at",
    )
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        # Records for support; only a superuser may remove one (pruning is the
        # `stripe_express_prune` command's job).
        return bool(request.user.is_active and request.user.is_superuser)
