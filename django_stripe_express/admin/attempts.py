"""Onboarding attempts, read-only: how each trip through onboarding ended.

The state's hash (``state_hash``) is never shown, searched, exported or
filtered on. The database holds no state, only its keyed hash, so the column
tells nothing; the admin refuses lookups on it anyway, so that no query-string
filter (``?state_hash__startswith=...``) can probe it one character at a time.
"""

from __future__ import annotations

from django.contrib import admin
from django.db.models.constants import LOOKUP_SEP
from django.http import HttpRequest

from ..models import ConnectAttempt
from .records import RecordAdmin

#: Columns no query-string lookup may touch.
UNFILTERABLE = frozenset({"state_hash"})


@admin.register(ConnectAttempt)
class ConnectAttemptAdmin(RecordAdmin):
    list_display = ("created_at", "user", "flow", "outcome", "error_code", "finished_at")
    list_filter = ("outcome", "flow", "livemode", "created_at")
    list_select_related = ("user",)
    search_fields = ("user__username", "user__email", "stripe_user_id", "error_code")
    date_hierarchy = "created_at"
    # An explicit list, so a future field is not shown by accident (and `state_hash` never is).
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

    def lookup_allowed(
        self, lookup: str, value: str, request: HttpRequest | None = None
    ) -> bool:
        """Django allows any lookup on a model's own fields; not on these.

        A refused lookup is a 400 (``DisallowedModelAdminLookup``), the same
        answer whatever the value, so there is nothing to learn from it.
        (Django 5.0 added ``request``; 4.2 calls without it.)
        """
        if lookup.split(LOOKUP_SEP, 1)[0] in UNFILTERABLE:
            return False
        if request is None:
            return bool(super().lookup_allowed(lookup, value))  # type: ignore[call-arg]
        return bool(super().lookup_allowed(lookup, value, request))
