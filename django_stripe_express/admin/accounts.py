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

Here too: the list filters, how the change page shows Stripe's data (badges,
requirements, capabilities; a v2 account's entries and capability details in
words), and the reassignment form and its confirmation.
"""

from __future__ import annotations

import datetime
from typing import Any

import stripe
from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.admin.sites import AdminSite
from django.contrib.admin.utils import unquote
from django.contrib.admin.widgets import ForeignKeyRawIdWidget
from django.contrib.auth import get_user_model
from django.core.exceptions import ImproperlyConfigured, PermissionDenied
from django.db.models import F, QuerySet
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.loader import render_to_string
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils import formats, timezone
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.translation import get_language, gettext, to_locale
from django.utils.translation import gettext_lazy as _

from .. import accounts as requirements
from ..accounts import PAYOUT_INTERVALS, AccountStatus, dict_or_empty
from ..accounts.v2 import (
    capability_name,
    code_text,
    deadline_status,
    humanize_requirement,
    resolution_text,
)
from ..conf import app_settings
from ..models import STRIPE_FIELDS, ExpressAccount, Payout, Transfer
from ..payments import payouts
from ..reassign import ReassignError, can_reassign, describe, reassign_account, refusal
from ..stripe_api import log_configuration_error
from ..sync import describe_error, refresh_account

#: Capabilities every platform sees in the filter; the configured ones are added.
#: ``stripe_balance.stripe_transfers`` is the v2 name of what v1 calls ``transfers``.
_BASE_CAPABILITIES = ("card_payments", "transfers", "stripe_balance.stripe_transfers")

#: The capability states Stripe reports that support staff filter on (v1 and v2).
_CAPABILITY_STATES = {
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


def _known_capabilities() -> list[str]:
    names = [*_BASE_CAPABILITIES, *app_settings.SUGGESTED_CAPABILITIES]
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
            for name in _known_capabilities()
            for state, label in _CAPABILITY_STATES.items()
        ]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        value = self.value()
        if not value:
            return queryset
        name, _sep, state = value.partition(":")
        # The value comes from the query string: only known names and states
        # may reach the lookup.
        if name not in _known_capabilities() or state not in _CAPABILITY_STATES:
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


class DeletedUserFilter(admin.SimpleListFilter):
    """Accounts whose user was deleted (kept with their transfers, see
    `models.disconnect_deleted_user`): staff find them here."""

    title = _("user")
    parameter_name = "deleted_user"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, Any]]:
        return [("yes", _("Deleted user"))]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        if self.value() == "yes":
            return queryset.filter(user__isnull=True)
        return queryset


class ReassignForm(forms.Form):
    user = forms.ModelChoiceField(queryset=get_user_model()._default_manager.none(),
                                  label=_("New user"))
    reason = forms.CharField(
        label=_("Reason"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
        help_text=_("Why the account changes hands (e.g. the support ticket). It is kept "
                    "with the account's history."),
    )

    def __init__(self, account: ExpressAccount, admin_site: AdminSite, *args: Any,
                 **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.account = account
        field: Any = self.fields["user"]
        field.queryset = get_user_model()._default_manager.all()
        field.widget = ForeignKeyRawIdWidget(
            ExpressAccount._meta.get_field("user").remote_field, admin_site
        )

    def clean_user(self) -> Any:
        user = self.cleaned_data["user"]
        why_not = refusal(self.account, user)
        if why_not:
            raise forms.ValidationError(why_not, code="refused")
        return user


WHO = {"user": _("the user"), "stripe": _("Stripe")}

DEADLINES = {
    "past_due": _("past due"),
    "currently_due": _("currently due"),
    "eventually_due": _("eventually due"),
}

REASONS = {
    "routine_onboarding": _("onboarding"),
    "routine_verification": _("verification"),
}

# Past due first: what blocks the account now.
_DEADLINE_ORDER = ("past_due", "currently_due", "eventually_due")


def _words(table: dict[str, Any], value: Any) -> str:
    return str(table.get(str(value), value or "-"))


def _dicts(value: Any) -> list[dict[str, Any]]:
    return [item for item in value if isinstance(item, dict)] if isinstance(value, list) else []


def _staff_text(account: ExpressAccount) -> str:
    reason = account.reason
    return reason.staff_text({"past_due": account.past_due}) if reason else ""


def _entry(entry: dict[str, Any]) -> dict[str, Any]:
    name = str(entry.get("description") or "")
    deadline = deadline_status(entry)
    impact = dict_or_empty(entry.get("impact"))
    return {
        "name": name,
        "words": humanize_requirement(name),
        "who": _words(WHO, entry.get("awaiting_action_from")),
        "deadline": deadline,
        "deadline_words": _words(DEADLINES, deadline),
        "reasons": [
            _words(REASONS, reason.get("code")) for reason in _dicts(entry.get("requested_reasons"))
        ],
        "restricts": [
            capability_name(str(item.get("capability") or ""))
            for item in _dicts(impact.get("restricts_capabilities"))
        ],
        "errors": [
            {"code": str(error.get("code") or ""), "reason": str(error.get("description") or "")}
            for error in _dicts(entry.get("errors"))
        ],
    }


def _v2_requirements_block(account: ExpressAccount) -> str:
    stored = requirements.requirements_of(account)
    entries = [_entry(dict(e)) for e in requirements.entries(account, "entries")]
    entries.sort(
        key=lambda e: (
            _DEADLINE_ORDER.index(e["deadline"])
            if e["deadline"] in _DEADLINE_ORDER
            else len(_DEADLINE_ORDER)
        )
    )
    summary = dict_or_empty(dict_or_empty(stored.get("summary")).get("minimum_deadline"))
    return render_to_string(
        "admin/django_stripe_express/requirements_v2.html",
        {
            "entries": entries,
            "summary_deadline": _words(DEADLINES, summary.get("status")) if entries else "",
            "summary_time": summary.get("time") or "",
            "disabled_reason": account.disabled_reason,
            "disabled_reason_text": _staff_text(account),
        },
    )


def _v2_capabilities_block(account: ExpressAccount) -> str:
    details = dict_or_empty(account.capability_details)
    capabilities = [
        {
            "name": name,
            "words": capability_name(name),
            "status": str(status),
            "details": [
                {
                    "code": str(d.get("code") or ""),
                    "code_words": code_text(str(d.get("code") or "")),
                    "resolution": str(d.get("resolution") or ""),
                    "resolution_words": resolution_text(str(d.get("resolution") or "")),
                }
                for d in _dicts(details.get(name))
            ],
        }
        for name, status in sorted(dict_or_empty(account.capabilities).items())
    ]
    return render_to_string(
        "admin/django_stripe_express/capabilities_v2.html", {"capabilities": capabilities}
    )


# Colours chosen to read on both the light and the dark admin theme.
_STATUS_COLOURS: dict[str, str] = {
    AccountStatus.ENABLED: "#2e7d32",
    AccountStatus.PENDING_VERIFICATION: "#1565c0",
    AccountStatus.ONBOARDING: "#6d6d6d",
    AccountStatus.RESTRICTED: "#ef6c00",
    AccountStatus.DISABLED: "#c62828",
    AccountStatus.DISCONNECTED: "#424242",
}

_REQUIREMENT_GROUPS = (
    ("past_due", _("Past due")),
    ("currently_due", _("Currently due")),
    ("eventually_due", _("Eventually due")),
    ("pending_verification", _("Pending verification")),
)


def _status_badge(account: ExpressAccount) -> SafeString:
    colour = _STATUS_COLOURS.get(account.status, "#6d6d6d")
    return format_html(
        '<span class="stripe-express-status stripe-express-status-{}" style="background:{};'
        'color:#fff;border-radius:4px;padding:1px 6px;white-space:nowrap">{}</span>',
        account.status,
        colour,
        account.get_status_display(),
    )


def _earliest_deadline(account: ExpressAccount) -> datetime.datetime | None:
    """When Stripe next needs something: now or in the future requirements."""
    dates = []
    if account.currently_due or account.past_due:
        dates.append(requirements.deadline(account))
    if account.future_currently_due:
        dates.append(requirements.deadline(account, field="future_requirements"))
    return min((d for d in dates if d is not None), default=None)


def _requirements_block(account: ExpressAccount, *, future: bool = False) -> str:
    """What Stripe needs now, or (``future``) what it will need at a coming deadline:
    what is usable of what Stripe sent (see `requirements`), never a 500 for a
    malformed value. A v2 account's entries (all deadlines) are shown by `display_v2`."""
    if account.is_v2 and not future:
        return _v2_requirements_block(account)
    field = "future_requirements" if future else "requirements"
    groups = [
        (label, requirements.names(account, key, field=field))
        for key, label in _REQUIREMENT_GROUPS
    ]
    errors = [
        {
            "requirement": error.get("requirement", ""),
            "code": error.get("code", ""),
            "reason": error.get("reason", ""),
        }
        for error in requirements.entries(account, "errors", field=field)
    ]
    when = requirements.deadline(account, field=field)
    reason = "" if future else account.disabled_reason
    reason_text = "" if future else _staff_text(account)
    return render_to_string(
        "admin/django_stripe_express/requirements.html",
        {
            "groups": groups,
            "errors": errors,
            "deadline": when,
            "deadline_passed": when is not None and when < timezone.now(),
            "disabled_reason": reason,
            "disabled_reason_text": reason_text,
            "future": future,
            "nothing_due": not any(items for _label, items in groups) and not errors,
        },
    )


def _capabilities_block(account: ExpressAccount) -> str:
    if account.is_v2:
        return _v2_capabilities_block(account)
    capabilities = requirements.requirements_of(account, "capabilities")
    rows = sorted((str(name), str(state)) for name, state in capabilities.items())
    return render_to_string(
        "admin/django_stripe_express/capabilities.html", {"capabilities": rows}
    )


def _reassignments_block(account: ExpressAccount) -> str:
    """Who moved this account, from whom, to whom, and why (newest first)."""
    return render_to_string(
        "admin/django_stripe_express/reassignments.html",
        {"reassignments": list(account.reassignments.select_related("by"))},
    )


_DISCONNECT_TEMPLATE = "admin/django_stripe_express/expressaccount/disconnect_confirmation.html"


def disconnect_action(
    modeladmin: Any, request: HttpRequest, queryset: QuerySet[ExpressAccount]
) -> HttpResponse | None:
    """Show the confirmation page; on the confirming POST, disconnect each account."""
    accounts = list(queryset.select_related("user"))
    if request.POST.get("post") != "yes":
        rows = [
            {"account": account, "oauth": account.via_oauth}
            for account in accounts
        ]
        context = {
            **modeladmin.admin_site.each_context(request),
            "title": gettext("Disconnect Express accounts"),
            "opts": modeladmin.model._meta,
            "rows": rows,
            "queryset": accounts,
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
            "media": modeladmin.media,
        }
        request.current_app = modeladmin.admin_site.name
        return TemplateResponse(request, _DISCONNECT_TEMPLATE, context)

    done = 0
    for account in accounts:
        if not account.is_connected:
            modeladmin.message_user(
                request,
                gettext("Account %(account)s was already disconnected.")
                % {"account": account.stripe_id},
                messages.WARNING,
            )
            continue
        try:
            account.disconnect(via_oauth=account.via_oauth, request=request)
        # The library raises a bare AttributeError for an OAuth error code it
        # does not know; staff get a message for that too, and for a missing
        # key (as Refresh does), not a 500.
        except (stripe.StripeError, AttributeError, ImproperlyConfigured) as exc:
            log_configuration_error(exc, "the admin's disconnect", account.stripe_id)
            modeladmin.message_user(
                request,
                gettext("Could not disconnect account %(account)s: %(error)s")
                % {"account": account.stripe_id, "error": describe_error(exc)},
                messages.ERROR,
            )
            continue
        done += 1
    if done:
        modeladmin.message_user(
            request, gettext("Disconnected %(count)d account(s).") % {"count": done},
            messages.SUCCESS,
        )
    return None


_SCHEDULE_TEMPLATE = "admin/django_stripe_express/expressaccount/payout_schedule.html"


class PayoutScheduleForm(forms.Form):
    """The schedule staff set for the selected accounts (checked as Stripe would)."""

    interval = forms.ChoiceField(
        label=_("Interval"), choices=[(i, i) for i in PAYOUT_INTERVALS])
    delay_days = forms.CharField(
        label=_("Delay (days)"), required=False,
        help_text=_("'minimum', or 1 to 31; empty: unchanged."))
    anchor = forms.CharField(
        label=_("Anchor"), required=False,
        help_text=_("A weekday for a weekly schedule, a day of the month for a monthly one."))

    @staticmethod
    def _read(value: str) -> str | int | None:
        value = value.strip().lower()
        if not value:
            return None
        return int(value) if value.isdigit() else value


def payout_schedule_action(
    modeladmin: Any, request: HttpRequest, queryset: QuerySet[ExpressAccount]
) -> HttpResponse | None:
    """The schedule form; on its valid POST, the schedule set at Stripe for each
    connected account (one message per account that could not be changed)."""
    accounts = list(queryset.select_related("user"))
    form = PayoutScheduleForm(request.POST if request.POST.get("post") == "yes" else None)
    if not form.is_valid():
        context = {
            **modeladmin.admin_site.each_context(request),
            "title": gettext("Set the payout schedule"),
            "opts": modeladmin.model._meta,
            "form": form,
            "queryset": accounts,
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
            "media": modeladmin.media,
        }
        request.current_app = modeladmin.admin_site.name
        return TemplateResponse(request, _SCHEDULE_TEMPLATE, context)
    interval = form.cleaned_data["interval"]
    delay, anchor = (PayoutScheduleForm._read(form.cleaned_data[name])
                     for name in ("delay_days", "anchor"))
    done = 0
    for account in accounts:
        if not account.is_connected:
            modeladmin.message_user(request, gettext(
                "Account %(account)s is disconnected: its schedule was not changed.")
                % {"account": account.stripe_id}, messages.WARNING)
            continue
        try:
            payouts.set_account_schedule(account, interval, delay_days=delay, anchor=anchor)
        except (payouts.InvalidSchedule, stripe.StripeError, ImproperlyConfigured) as exc:
            if not isinstance(exc, payouts.InvalidSchedule):
                log_configuration_error(exc, "the admin's payout schedule", account.stripe_id)
            error = str(exc) if isinstance(exc, payouts.InvalidSchedule) else describe_error(exc)
            modeladmin.message_user(request, gettext(
                "Could not set the payout schedule of %(account)s: %(error)s")
                % {"account": account.stripe_id, "error": error}, messages.ERROR)
            continue
        done += 1
    if done:
        modeladmin.message_user(request, gettext(
            "Payout schedule set to %(interval)s for %(count)d account(s).")
            % {"interval": interval, "count": done}, messages.SUCCESS)
    return None


_REASSIGN_TEMPLATE = "admin/django_stripe_express/expressaccount/reassign.html"
_REASSIGN_CONFIRMATION_TEMPLATE = (
    "admin/django_stripe_express/expressaccount/reassign_confirmation.html"
)


def _may_see_users(modeladmin: Any, request: HttpRequest) -> bool:
    """Reassigning shows both users' names and emails: only to staff who may view
    the accounts and the users anyway (the reassign permission alone is not that)."""
    user_opts = get_user_model()._meta
    view_users = f"{user_opts.app_label}.view_{user_opts.model_name}"
    change_users = f"{user_opts.app_label}.change_{user_opts.model_name}"
    user: Any = request.user
    return bool(
        modeladmin.has_view_permission(request)
        and (user.has_perm(view_users) or user.has_perm(change_users))
    )


def reassign_view(modeladmin: Any, request: HttpRequest, object_id: str) -> HttpResponse:
    if not (can_reassign(request.user) and _may_see_users(modeladmin, request)):
        raise PermissionDenied
    account = modeladmin.get_object(request, unquote(object_id))
    if account is None:
        raise Http404(gettext("No such Express account."))
    posted = request.method == "POST"
    form = ReassignForm(account, modeladmin.admin_site, request.POST if posted else None)
    template = _REASSIGN_TEMPLATE
    if posted and form.is_valid():
        new_user, reason = form.cleaned_data["user"], form.cleaned_data["reason"]
        if request.POST.get("confirm") != "yes":
            template = _REASSIGN_CONFIRMATION_TEMPLATE
        else:
            previous = describe(account.user)
            try:
                reassign_account(account, new_user, by=request.user, reason=reason,
                                 request=request)
            except ReassignError as exc:
                form.add_error(None, str(exc))
            else:
                text = gettext("Reassigned from %(old)s to %(new)s. Reason: %(reason)s") % {
                    "old": previous, "new": describe(new_user), "reason": reason,
                }
                modeladmin.log_change(request, account, text)
                modeladmin.message_user(request, text, messages.SUCCESS)
                opts = modeladmin.model._meta
                return HttpResponseRedirect(reverse(
                    f"{modeladmin.admin_site.name}:{opts.app_label}_{opts.model_name}_change",
                    args=[account.pk],
                ))
    context = {
        **modeladmin.admin_site.each_context(request),
        "title": gettext("Reassign %(account)s to another user") % {"account": account.stripe_id},
        "opts": modeladmin.model._meta,
        "original": account,
        "account": account,
        "form": form,
        "current_user": describe(account.user),
        "new_user": describe(form.cleaned_data["user"]) if form.is_bound and form.is_valid()
        else "",
        "media": modeladmin.media + form.media,
    }
    request.current_app = modeladmin.admin_site.name
    return TemplateResponse(request, template, context)


class TransferInline(admin.TabularInline):
    """The account's transfers, newest first, on its page."""

    model = Transfer
    fields = ("reference", "amount", "currency", "status", "stripe_id", "amount_reversed",
              "created_at")
    readonly_fields = fields
    extra = 0
    max_num = 0
    can_delete = False
    show_change_link = True
    ordering = ("-created_at",)
    verbose_name_plural = _("Transfers sent (or to be sent) to this account")

    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


#: How many payouts the account page lists (the newest; Stripe's dashboard has them all).
LATEST_PAYOUTS = 5


def _amount(amount: int, currency: str) -> str:
    """An amount in Stripe's smallest unit, formatted for the admin's language; as
    Stripe wrote it without a currency (the account page's and the transfers list's)."""
    if not currency:
        return str(amount)
    return payouts.format_amount(amount, currency, to_locale(get_language() or "en"))


def _balance_block(account: ExpressAccount) -> str:
    """The account's Stripe balance per currency (one call to Stripe per
    ``BALANCE_CACHE_SECONDS``, shared with the balance tag), or why it is not shown."""
    error = ""
    rows: list[dict[str, Any]] = []
    if account.is_connected:
        try:
            amounts = payouts.account_balance(account)
        except (stripe.StripeError, ImproperlyConfigured) as exc:
            log_configuration_error(exc, "the admin's balance", account.stripe_id)
            error = describe_error(exc)
        else:
            rows = [
                {"currency": currency.upper(), "negative": row["available"] < 0,
                 **{kind: _amount(row[kind], currency) for kind in payouts.BALANCE_KINDS}}
                for currency, row in sorted(amounts.items())
            ]
    return render_to_string("admin/django_stripe_express/balance.html", {
        "connected": account.is_connected, "rows": rows, "error": error,
    })


def _latest_payouts_block(account: ExpressAccount) -> str:
    """The account's newest payouts (one query, `LATEST_PAYOUTS` rows at most):
    status, amount, expected arrival, and a failure's code in staff words."""
    latest = account.payouts.order_by(
        F("created").desc(nulls_first=True), "-pk")[:LATEST_PAYOUTS]
    rows = [
        {"payout": payout, "amount": _amount(payout.amount, payout.currency),
         "failure": payouts.failure(payout.failure_code).staff
         if payout.status == Payout.Status.FAILED else ""}
        for payout in latest
    ]
    return render_to_string("admin/django_stripe_express/payouts.html", {
        "rows": rows, "limit": LATEST_PAYOUTS,
    })


@admin.register(ExpressAccount)
class ExpressAccountAdmin(admin.ModelAdmin):
    inlines = [TransferInline]

    class Media:
        # Fits the list to a laptop's width (filters under the table below 1440 px).
        css = {"all": ["django_stripe_express/admin.css"]}
    list_display = (
        "stripe_id",
        "owner",
        "mode",
        # The list fits a laptop's width (1200 px beside Django's nav sidebar):
        # the disabled reason under the badge, three booleans in one short
        # column, the count and the deadline in one; the change page has each.
        "status_with_reason",
        "enabled",
        "due",
    )
    list_filter = (
        "status", "livemode", "accounts_api", "country", CapabilityFilter, DisconnectedFilter,
        DeletedUserFilter,
    )
    list_select_related = ("user",)
    search_fields = ("stripe_id", "email", "user__username", "user__email")
    raw_id_fields = ("user",)
    date_hierarchy = "connected_at"
    actions = ("refresh_from_stripe", "disconnect_accounts", "set_payout_schedule")
    readonly_fields = (
        "owner",
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
        "payout_failure_display",
        "balance_display",
        "latest_payouts_display",
    )
    fieldsets = (
        (
            None,
            {
                "fields": (
                    "owner", "stripe_id", "mode", "accounts_api", "status_badge", "dashboard_link"
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
        (_("Balance and payouts"), {"fields": (
            "balance_display", "latest_payouts_display", "payout_failure_display")}),
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

    def get_fieldsets(self, request: HttpRequest, obj: Any = None) -> Any:
        """The latest payouts only for staff who may view payouts (``view_payout``)."""
        fieldsets = super().get_fieldsets(request, obj)
        user: Any = request.user
        if user.has_perm(f"{self.model._meta.app_label}.view_payout"):
            return fieldsets
        return [(name, {**options, "fields": tuple(
            f for f in options["fields"] if f != "latest_payouts_display")})
            for name, options in fieldsets]

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        """``change`` allows the actions; no field of an account is edited by hand."""
        return obj is None and super().has_change_permission(request)

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        """``delete`` allows the "Disconnect" action only: an account is never deleted
        here (that would skip Stripe's deauthorization, the signal and the audit trail)."""
        return obj is None and super().has_delete_permission(request)

    def get_actions(self, request: HttpRequest, action_location: Any = None) -> dict[str, Any]:
        # Django 6.1 says where the actions are shown (``action_location``) and
        # deprecates an override without it; older Djangos pass only the request.
        base: Any = super().get_actions
        actions: dict[str, Any] = (
            base(request) if action_location is None
            else base(request, action_location=action_location)
        )
        actions.pop("delete_selected", None)  # deletion is "Disconnect"
        return actions

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
        extra = {
            **(extra_context or {}),
            "can_reassign": can_reassign(request.user) and _may_see_users(self, request),
        }
        return super().change_view(request, object_id, form_url, extra)

    # Columns -------------------------------------------------------------------

    @admin.display(description=_("user"), ordering="user")
    def owner(self, obj: ExpressAccount) -> str:
        """The user, or "deleted user" for an account kept after its user was deleted."""
        return str(obj.user) if obj.user is not None else gettext("deleted user")

    @admin.display(description=_("mode"), ordering="livemode")
    def mode(self, obj: ExpressAccount) -> str:
        return gettext("live") if obj.livemode else gettext("test")

    @admin.display(description=_("status"), ordering="status")
    def status_badge(self, obj: ExpressAccount) -> SafeString:
        return _status_badge(obj)

    @admin.display(description=_("status"), ordering="status")
    def status_with_reason(self, obj: ExpressAccount) -> SafeString:
        """The badge, and under it Stripe's disabled reason (the code staff search for)."""
        if not obj.disabled_reason:
            return _status_badge(obj)
        return format_html('{}<div class="stripe-express-reason">{}</div>',
                           _status_badge(obj), obj.disabled_reason)

    @admin.display(description=_("currently due"))
    def due(self, obj: ExpressAccount) -> str:
        """How many requirements are due, and the earliest deadline (also while enabled)."""
        count = str(len(obj.currently_due))
        deadline = _earliest_deadline(obj)
        if deadline is None:
            return count
        when = formats.date_format(timezone.localtime(deadline), "DATE_FORMAT")
        return gettext("%(count)s, by %(date)s") % {"count": count, "date": when}

    @admin.display(description=_("enabled"))
    def enabled(self, obj: ExpressAccount) -> str:
        """What Stripe allows the account, in words ("charges, payouts"), or "nothing"."""
        allowed = [word for on, word in (
            (obj.charges_enabled, gettext("charges")), (obj.payouts_enabled, gettext("payouts")),
        ) if on]
        return ", ".join(allowed) or gettext("nothing")

    @admin.display(description=_("currently due"))
    def currently_due_count(self, obj: ExpressAccount) -> int:
        return len(obj.currently_due)

    @admin.display(description=_("deadline"))
    def deadline(self, obj: ExpressAccount) -> datetime.datetime | None:
        """The earliest date by which Stripe needs something, even while enabled."""
        return _earliest_deadline(obj)

    @admin.display(description=_("Stripe dashboard"))
    def dashboard_link(self, obj: ExpressAccount) -> SafeString:
        return format_html(
            '<a href="{}" target="_blank" rel="noopener noreferrer">{}</a>',
            obj.dashboard_url,
            gettext("Open in Stripe's dashboard"),
        )

    @admin.display(description=_("requirements"))
    def requirements_display(self, obj: ExpressAccount) -> str:
        return _requirements_block(obj)

    @admin.display(description=_("future requirements"))
    def future_requirements_display(self, obj: ExpressAccount) -> str:
        return _requirements_block(obj, future=True)

    @admin.display(description=_("capabilities"))
    def capabilities_display(self, obj: ExpressAccount) -> str:
        return _capabilities_block(obj)

    @admin.display(description=_("reassignments"))
    def reassignments_display(self, obj: ExpressAccount) -> str:
        return _reassignments_block(obj)

    @admin.display(description=_("balance at Stripe"))
    def balance_display(self, obj: ExpressAccount) -> str:
        return _balance_block(obj)

    @admin.display(description=_("latest payouts"))
    def latest_payouts_display(self, obj: ExpressAccount) -> str:
        return _latest_payouts_block(obj)

    @admin.display(description=_("latest payout failure"))
    def payout_failure_display(self, obj: ExpressAccount) -> str:
        """The failure the user is shown, with Stripe's code, in staff words."""
        if obj.payout_failed_at is None:
            return gettext("None: no failed payout waits for the user to fix it.")
        return format_html(
            "<strong>{}</strong> <code>{}</code> ({})<br>{}",
            gettext("Payout failed"), obj.payout_failure_code or "-",
            obj.payout_failed_at.isoformat(timespec="seconds"),
            payouts.failure(obj.payout_failure_code).staff,
        )

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

    @admin.action(description=_("Set the payout schedule"),
                  permissions=["set_payout_schedule"])
    def set_payout_schedule(
        self, request: HttpRequest, queryset: QuerySet[ExpressAccount]
    ) -> HttpResponse | None:
        return payout_schedule_action(self, request, queryset)

    def has_set_payout_schedule_permission(self, request: HttpRequest) -> bool:
        opts = self.model._meta
        user: Any = request.user
        return bool(user.has_perm(f"{opts.app_label}.set_payout_schedule_expressaccount"))

    @admin.action(description=_("Disconnect (deauthorize)"), permissions=["delete"])
    def disconnect_accounts(
        self, request: HttpRequest, queryset: QuerySet[ExpressAccount]
    ) -> HttpResponse | None:
        return disconnect_action(self, request, queryset)
