"""Account reassignments, read-only: the audit trail of accounts moved between
users (who, from whom, to whom, why). Each account's page lists its own."""

from __future__ import annotations

from django.contrib import admin

from ..models import AccountReassignment
from .records import RecordAdmin


@admin.register(AccountReassignment)
class AccountReassignmentAdmin(RecordAdmin):
    list_display = ("created_at", "stripe_id", "summary")
    search_fields = ("=stripe_id", "summary")
    date_hierarchy = "created_at"
    fields = ("created_at", "account", "stripe_id", "summary", "reason", "from_user", "to_user",
              "by")
