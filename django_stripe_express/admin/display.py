"""How the account admin shows Stripe's data: badges, requirements, capabilities.

Everything here reads the row already loaded (no query; the change page's
reassignments take one), and escapes what Stripe sent: requirement names and
error reasons are data, not markup.
"""

from __future__ import annotations

import datetime

from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.translation import gettext_lazy as _

from .. import requirements
from ..models import ExpressAccount
from ..reasons import staff_text
from ..status import AccountStatus
from . import display_v2

# Colours chosen to read on both the light and the dark admin theme.
STATUS_COLOURS: dict[str, str] = {
    AccountStatus.ENABLED: "#2e7d32",
    AccountStatus.PENDING_VERIFICATION: "#1565c0",
    AccountStatus.ONBOARDING: "#6d6d6d",
    AccountStatus.RESTRICTED: "#ef6c00",
    AccountStatus.DISABLED: "#c62828",
    AccountStatus.DISCONNECTED: "#424242",
}

REQUIREMENT_GROUPS = (
    ("past_due", _("Past due")),
    ("currently_due", _("Currently due")),
    ("eventually_due", _("Eventually due")),
    ("pending_verification", _("Pending verification")),
)


def status_badge(account: ExpressAccount) -> SafeString:
    colour = STATUS_COLOURS.get(account.status, "#6d6d6d")
    return format_html(
        '<span class="stripe-express-status stripe-express-status-{}" style="background:{};'
        'color:#fff;border-radius:4px;padding:1px 6px;white-space:nowrap">{}</span>',
        account.status,
        colour,
        account.get_status_display(),
    )


def earliest_deadline(account: ExpressAccount) -> datetime.datetime | None:
    """When Stripe next needs something: now or in the future requirements."""
    dates = []
    if account.currently_due or account.past_due:
        dates.append(requirements.deadline(account))
    if account.future_currently_due:
        dates.append(requirements.deadline(account, field="future_requirements"))
    return min((d for d in dates if d is not None), default=None)


def requirements_block(account: ExpressAccount, *, future: bool = False) -> str:
    """What Stripe needs now, or (``future``) what it will need at a coming deadline:
    what is usable of what Stripe sent (see `requirements`), never a 500 for a
    malformed value. A v2 account's entries (all deadlines) are shown by `display_v2`."""
    if account.is_v2 and not future:
        return display_v2.requirements_block(account)
    field = "future_requirements" if future else "requirements"
    groups = [
        (label, requirements.names(account, key, field=field))
        for key, label in REQUIREMENT_GROUPS
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
    return render_to_string(
        "admin/django_stripe_express/requirements.html",
        {
            "groups": groups,
            "errors": errors,
            "deadline": when,
            "deadline_passed": when is not None and when < timezone.now(),
            "disabled_reason": reason,
            "disabled_reason_text": staff_text(reason, {"past_due": account.past_due}),
            "future": future,
            "nothing_due": not any(items for _label, items in groups) and not errors,
        },
    )


def capabilities_block(account: ExpressAccount) -> str:
    if account.is_v2:
        return display_v2.capabilities_block(account)
    capabilities = requirements.requirements_of(account, "capabilities")
    rows = sorted((str(name), str(state)) for name, state in capabilities.items())
    return render_to_string(
        "admin/django_stripe_express/capabilities.html", {"capabilities": rows}
    )


def reassignments_block(account: ExpressAccount) -> str:
    """Who moved this account, from whom, to whom, and why (newest first)."""
    return render_to_string(
        "admin/django_stripe_express/reassignments.html",
        {"reassignments": list(account.reassignments.select_related("by"))},
    )
