"""List filters for the Express account changelist.

They filter on columns and JSON keys only (no extra query to build their
choices), so the changelist's query count stays flat as the table grows.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from ..conf import app_settings

#: Capabilities every platform sees in the filter; the configured ones are added.
#: ``stripe_balance.stripe_transfers`` is the v2 name of what v1 calls ``transfers``.
BASE_CAPABILITIES = ("card_payments", "transfers", "stripe_balance.stripe_transfers")
#: The capability states Stripe reports that support staff filter on (v1 and v2).
CAPABILITY_STATES = {
    "active": _("active"),
    "inactive": _("inactive"),
    "pending": _("pending"),
    "restricted": _("restricted"),
    "rejected": _("rejected"),
    "unsupported": _("unsupported"),
}


def _plain(name: str) -> bool:
    # Only plain names (dotted, for v2) can become a JSON key lookup.
    return "__" not in name and all(part.isidentifier() for part in name.split("."))


def known_capabilities() -> list[str]:
    names = [*BASE_CAPABILITIES, *app_settings.SUGGESTED_CAPABILITIES]
    return [name for name in dict.fromkeys(names) if _plain(name)]


class CapabilityFilter(admin.SimpleListFilter):
    """E.g. "transfers: active": a key lookup on the ``capabilities`` JSON.

    ``capabilities__transfers="active"`` compiles to a JSON key comparison on
    both SQLite and PostgreSQL.
    """

    title = _("capability")
    parameter_name = "capability"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [
            (f"{name}:{state}", f"{name}: {label}")
            for name in known_capabilities()
            for state, label in CAPABILITY_STATES.items()
        ]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        value = self.value()
        if not value:
            return queryset
        name, _sep, state = value.partition(":")
        # The value comes from the query string: only known names and states
        # may reach the lookup.
        if name not in known_capabilities() or state not in CAPABILITY_STATES:
            return queryset.none()
        return queryset.filter(**{f"capabilities__{name}": state})


class DisconnectedFilter(admin.SimpleListFilter):
    title = _("connection")
    parameter_name = "disconnected"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, Any]]:
        return [("no", _("Connected")), ("yes", _("Disconnected"))]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        if self.value() == "yes":
            return queryset.filter(deauthorized_at__isnull=False)
        if self.value() == "no":
            return queryset.filter(deauthorized_at__isnull=True)
        return queryset
