"""Records kept for support staff: visible, never edited by hand."""

from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest


class RecordAdmin(admin.ModelAdmin):
    """Read-only: no adding or changing; only a superuser may delete a record
    (pruning old ones is the ``stripe_express_prune`` command's job)."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return bool(request.user.is_active and request.user.is_superuser)
