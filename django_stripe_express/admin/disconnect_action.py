"""Disconnecting accounts from the admin: the logic, then the confirmation step.

OAuth-connected accounts are deauthorized at Stripe
(``client.oauth.deauthorize``). Accounts the platform created itself (Account
Links) cannot be deauthorized: Stripe answers that the application is not
connected to them. For those the link is ended locally only: the row is marked
disconnected, and the account stays at Stripe (reject or delete it in Stripe's
dashboard if that is what is wanted). The confirmation page says which is which.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import stripe
from django.contrib import messages
from django.contrib.admin import helpers
from django.core.exceptions import ImproperlyConfigured
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.utils.translation import gettext as _

from ..conf import ONBOARDING_OAUTH, app_settings
from ..diagnostics import log_configuration_error
from ..disconnect import disconnect_account
from ..models import ConnectAttempt, ExpressAccount
from ..sync import describe_error

CONFIRMATION_TEMPLATE = "admin/django_stripe_express/expressaccount/disconnect_confirmation.html"


def connection_flows(accounts: Iterable[ExpressAccount]) -> dict[int, str]:
    """Each account's onboarding flow, from its connected attempt (one query).

    When no attempt is left (pruned, or the row was made by hand) the configured
    ``ONBOARDING`` flow is assumed.
    """
    ids = [account.pk for account in accounts]
    flows = dict.fromkeys(ids, app_settings.ONBOARDING)
    rows = (
        ConnectAttempt.objects.filter(account_id__in=ids, outcome=ConnectAttempt.Outcome.CONNECTED)
        .order_by("account_id", "created_at")
        .values_list("account_id", "flow")
    )
    for account_id, flow in rows:  # the newest attempt wins
        flows[account_id] = flow
    return flows


def disconnect_action(
    modeladmin: Any, request: HttpRequest, queryset: QuerySet[ExpressAccount]
) -> HttpResponse | None:
    """Show the confirmation page; on the confirming POST, disconnect each account."""
    accounts = list(queryset.select_related("user"))
    flows = connection_flows(accounts)
    if request.POST.get("post") != "yes":
        rows = [
            {"account": account, "oauth": flows[account.pk] == ONBOARDING_OAUTH}
            for account in accounts
        ]
        context = {
            **modeladmin.admin_site.each_context(request),
            "title": _("Disconnect Express accounts"),
            "opts": modeladmin.model._meta,
            "rows": rows,
            "queryset": accounts,
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
            "media": modeladmin.media,
        }
        request.current_app = modeladmin.admin_site.name
        return TemplateResponse(request, CONFIRMATION_TEMPLATE, context)

    done = 0
    for account in accounts:
        if not account.is_connected:
            modeladmin.message_user(
                request,
                _("Account %(account)s was already disconnected.") % {"account": account.stripe_id},
                messages.WARNING,
            )
            continue
        via_oauth = flows[account.pk] == ONBOARDING_OAUTH
        try:
            disconnect_account(account, via_oauth=via_oauth, request=request)
        # The library raises a bare AttributeError for an OAuth error code it
        # does not know; staff get a message for that too, and for a missing
        # key (as Refresh does), not a 500.
        except (stripe.StripeError, AttributeError, ImproperlyConfigured) as exc:
            log_configuration_error(exc, "the admin's disconnect", account.stripe_id)
            modeladmin.message_user(
                request,
                _("Could not disconnect account %(account)s: %(error)s")
                % {"account": account.stripe_id, "error": describe_error(exc)},
                messages.ERROR,
            )
            continue
        done += 1
    if done:
        modeladmin.message_user(
            request, _("Disconnected %(count)d account(s).") % {"count": done}, messages.SUCCESS
        )
    return None
