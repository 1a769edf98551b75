"""Webhook events, read-only, with the payload shown readably.

"Process again" needs the ``change`` permission on webhook events (nothing
else is editable here): it hands each failed event, or each one still waiting
for its task (``WEBHOOK_PROCESSING = "task"``), back to the webhook code, which
applies each event once whoever asks.
"""

from __future__ import annotations

import json
import logging

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from ..models import WebhookEvent
from .records import RecordAdmin

logger = logging.getLogger(__name__)


@admin.register(WebhookEvent)
class WebhookEventAdmin(RecordAdmin):
    list_display = ("stripe_id", "type", "account", "livemode", "status", "created", "received_at")
    list_filter = ("status", "type", "livemode")
    search_fields = ("=stripe_id", "=account")
    date_hierarchy = "received_at"
    actions = ("process_again",)
    fields = (
        "stripe_id",
        "type",
        "account",
        "livemode",
        "status",
        "detail",
        "attempts",
        "api_version",
        "created",
        "received_at",
        "processed_at",
        "payload_display",
    )

    def has_reprocess_permission(self, request: HttpRequest) -> bool:
        """The model's ``change`` permission, although the form itself is read-only."""
        opts = self.opts
        return request.user.has_perm(f"{opts.app_label}.change_{opts.model_name}")

    @admin.display(description=_("payload"))
    def payload_display(self, obj: WebhookEvent) -> SafeString:
        text = json.dumps(obj.payload, indent=2, sort_keys=True, ensure_ascii=False)
        return format_html('<pre class="stripe-express-payload">{}</pre>', text)

    @admin.action(description=_("Process failed events again"), permissions=["reprocess"])
    def process_again(self, request: HttpRequest, queryset: QuerySet[WebhookEvent]) -> None:
        from ..webhooks import process_event  # the webhook engine's entry point

        retryable = (WebhookEvent.Status.FAILED, WebhookEvent.Status.RECEIVED)
        failed = list(queryset.filter(status__in=retryable))
        skipped = queryset.count() - len(failed)
        if skipped:
            self.message_user(
                request,
                gettext(
                    "%(count)d selected event(s) were already processed or ignored and "
                    "were left alone."
                )
                % {"count": skipped},
                messages.WARNING,
            )
        for event in failed:
            try:
                process_event(event)
            except Exception as exc:  # report per event, never a 500
                logger.exception("Processing webhook event %s again failed", event.stripe_id)
                self.message_user(
                    request,
                    gettext("Event %(event)s failed again: %(error)s")
                    % {"event": event.stripe_id, "error": type(exc).__name__},
                    messages.ERROR,
                )
                continue
            event.refresh_from_db()
            failed_again = event.status == WebhookEvent.Status.FAILED
            level = messages.ERROR if failed_again else messages.SUCCESS
            self.message_user(
                request,
                gettext("Event %(event)s: %(status)s.")
                % {"event": event.stripe_id, "status": event.get_status_display()},
                level,
            )
