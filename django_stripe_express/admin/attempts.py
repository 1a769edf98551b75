"""Onboarding attempts, read-only: how each trip through onboarding ended.

The ``state`` column is never shown, searched or exported: while an attempt is
pending it is a live CSRF token for the OAuth callback.
"""

from __future__ import annotations

from django.contrib import admin

from ..models import ConnectAttempt
from .records import RecordAdmin


@admin.register(ConnectAttempt)
class ConnectAttemptAdmin(RecordAdmin):
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
