"""Admin screens for support staff: accounts (`accounts`), onboarding attempts,
webhook events (the payload shown readably, a failed one processed again on
request), account reassignments (the audit trail) and the transfers ledger.

Attempts, events and reassignments are records: visible, never edited by
hand. Importing this package registers every screen with the default admin site.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.db.models import QuerySet
from django.db.models.constants import LOOKUP_SEP
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from .. import payments
from ..models import (
    AccountReassignment,
    ConnectAttempt,
    Transfer,
    TransferReversal,
    WebhookEvent,
)
from .accounts import ExpressAccountAdmin, _amount


class RecordAdmin(admin.ModelAdmin):
    """Read-only: no adding or changing; only a superuser may delete a record
    (pruning old ones is the ``stripe_express_prune`` command's job)."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return bool(request.user.is_active and request.user.is_superuser)


#: Columns no query-string lookup may touch.
_UNFILTERABLE = frozenset({"state_hash"})


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
        if lookup.split(LOOKUP_SEP, 1)[0] in _UNFILTERABLE:
            return False
        if request is None:
            return bool(super().lookup_allowed(lookup, value))  # type: ignore[call-arg]
        return bool(super().lookup_allowed(lookup, value, request))


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
        from ..webhooks.store import process_event

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


@admin.register(AccountReassignment)
class AccountReassignmentAdmin(RecordAdmin):
    list_display = ("created_at", "stripe_id", "summary")
    search_fields = ("=stripe_id", "summary")
    date_hierarchy = "created_at"
    fields = ("created_at", "account", "stripe_id", "summary", "reason", "from_user", "to_user",
              "by")


# -- the transfers ledger (payments) ---------------------------------------------------
# Every row is evidence of money moved or owed, so nothing is edited by hand.
# "Send again" (a failed or waiting transfer, with a new idempotency key) and
# "Cancel" (only what cannot have reached Stripe) each need their own
# permission (``retry_transfer``, ``cancel_transfer``) and a confirmation page,
# and act under the row's lock (`payments.retry`, `payments.cancel`).

_CONFIRMATION = "admin/django_stripe_express/transfer/action_confirmation.html"

#: Shown on the detail page, in this order; nothing is editable.
_FIELDS = (
    "reference", "user", "account", "destination", "amount", "currency", "status",
    "stripe_id", "amount_reversed", "failure_code", "failure_message",
    "source_transaction", "transfer_group", "payment_intent", "description", "metadata",
    "livemode",
    "key_generation", "key_used_at", "tries", "created_at", "sent_at", "updated_at",
)


class TransferReversalInline(admin.TabularInline):
    """The transfer's reversals and refunds asked by the app, read-only."""

    model = TransferReversal
    fields = readonly_fields = ("kind", "reference", "amount", "status", "stripe_id",
                                "failure_code", "refund_application_fee", "created_at",
                                "done_at")
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_view_permission(self, request: HttpRequest, obj: object = None) -> bool:
        # Part of the transfer's record: who may see the transfer sees them.
        return bool(request.user.has_perm("django_stripe_express.view_transfer"))


@admin.register(Transfer)
class TransferAdmin(admin.ModelAdmin):
    list_display = ("reference", "user", "amount_display", "status", "stripe_id",
                    "reversed_display", "created_at")
    list_filter = ("status", "currency", "livemode", "account")
    list_select_related = ("user",)
    search_fields = ("reference", "stripe_id", "destination")
    date_hierarchy = "created_at"
    fields = _FIELDS
    readonly_fields = _FIELDS
    inlines = [TransferReversalInline]
    actions = ["retry_transfers", "cancel_transfers", "reverse_transfers"]

    class Media:
        # Fits the list to a laptop's width (filters under the table below 1440 px).
        css = {"all": ["django_stripe_express/admin.css"]}

    @admin.display(description=_("amount"), ordering="amount")
    def amount_display(self, obj: Transfer) -> str:
        """The amount in its currency, formatted for the admin's language."""
        return _amount(obj.amount, obj.currency)

    @admin.display(description=_("amount reversed"), ordering="amount_reversed")
    def reversed_display(self, obj: Transfer) -> str:
        if not obj.amount_reversed:
            return "-"
        return _amount(obj.amount_reversed, obj.currency)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False  # a ledger: money moved stays on record

    def has_retry_permission(self, request: HttpRequest) -> bool:
        return bool(request.user.has_perm("django_stripe_express.retry_transfer"))

    def has_cancel_permission(self, request: HttpRequest) -> bool:
        return bool(request.user.has_perm("django_stripe_express.cancel_transfer"))

    def has_reverse_permission(self, request: HttpRequest) -> bool:
        return bool(request.user.has_perm("django_stripe_express.reverse_transfer"))

    @admin.action(description=_("Reverse what is left (sent)"), permissions=["reverse"])
    def reverse_transfers(
        self, request: HttpRequest, queryset: QuerySet[Transfer]
    ) -> HttpResponse | None:
        return _confirmed(
            self, request, queryset, action="reverse_transfers", allowed="can_reverse",
            change=_reverse_rest,
            title=gettext("Reverse transfers"),
            explanation=gettext(
                "What is left of each of these transfers will be taken back from the "
                "user's Stripe account (payments.reverse: once, however often it is asked)."
            ),
            confirm=gettext("Yes, reverse them"),
            done=gettext("%(count)d transfer(s) will be reversed."),
            skipped=gettext("%(reference)s cannot be reversed (%(status)s)."),
        )

    @admin.action(description=_("Send again (failed or waiting for funds)"),
                  permissions=["retry"])
    def retry_transfers(
        self, request: HttpRequest, queryset: QuerySet[Transfer]
    ) -> HttpResponse | None:
        return _confirmed(
            self, request, queryset, action="retry_transfers", allowed="can_retry",
            change=payments.retry,
            title=gettext("Send transfers again"),
            explanation=gettext(
                "These transfers will be sent again, each with a new idempotency key: "
                "Stripe refused the previous request, so nothing was transferred."
            ),
            confirm=gettext("Yes, send again"),
            done=gettext("%(count)d transfer(s) will be sent again."),
            skipped=gettext("%(reference)s cannot be sent again (%(status)s)."),
        )

    @admin.action(description=_("Cancel (not sent)"), permissions=["cancel"])
    def cancel_transfers(
        self, request: HttpRequest, queryset: QuerySet[Transfer]
    ) -> HttpResponse | None:
        return _confirmed(
            self, request, queryset, action="cancel_transfers", allowed="can_cancel",
            change=payments.cancel,
            title=gettext("Cancel transfers"),
            explanation=gettext(
                "These transfers will be canceled and never sent. A transfer that may "
                "already have reached Stripe (sent, or its outcome unknown) cannot be."
            ),
            confirm=gettext("Yes, cancel them"),
            done=gettext("%(count)d transfer(s) canceled."),
            skipped=gettext("%(reference)s cannot be canceled (%(status)s)."),
        )


def _reverse_rest(transfer_id: int) -> bool:
    """Staff: reverse all that is left of a sent transfer (`payments.reverse`, its
    "rest" reversal); whether it could be asked."""
    transfer = Transfer.objects.filter(pk=transfer_id).first()
    if transfer is None or not transfer.can_reverse:
        return False
    try:
        payments.reverse(transfer)
    except payments.PaymentError:
        return False
    return True


def _confirmed(
    modeladmin: Any, request: HttpRequest, queryset: QuerySet[Transfer], *, action: str,
    allowed: str, change: Any, title: str, explanation: str, confirm: str, done: str,
    skipped: str,
) -> HttpResponse | None:
    """The confirmation page; on the confirming POST, `change` each transfer."""
    transfers = list(queryset.select_related("user"))
    if request.POST.get("post") != "yes":
        rows = [
            {"transfer": t, "note": gettext("will be done") if getattr(t, allowed)
             else gettext("nothing will be done")}
            for t in transfers
        ]
        context = {
            **modeladmin.admin_site.each_context(request),
            "title": title, "explanation": explanation, "confirm": confirm,
            "action": action, "opts": modeladmin.model._meta, "rows": rows,
            "queryset": transfers, "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
            "media": modeladmin.media,
        }
        request.current_app = modeladmin.admin_site.name
        return TemplateResponse(request, _CONFIRMATION, context)
    count = 0
    for transfer in transfers:
        if change(transfer.pk):
            count += 1
        else:
            modeladmin.message_user(
                request, skipped % {"reference": transfer.reference,
                                    "status": transfer.get_status_display()},
                messages.WARNING,
            )
    if count:
        modeladmin.message_user(request, done % {"count": count}, messages.SUCCESS)
    return None


__all__ = [
    "AccountReassignmentAdmin", "ConnectAttemptAdmin", "ExpressAccountAdmin", "TransferAdmin",
    "WebhookEventAdmin",
]
