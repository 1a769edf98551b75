"""How the account admin shows an Accounts v2 account: entries and capabilities in words.

v2 says who must act on each requirement (the user or Stripe), how urgent it
is (``minimum_deadline.status``), which capabilities it restricts, and why
each capability has its status (``code``, ``resolution``). Support staff get
all of it in words, with Stripe's codes beside them for searching Stripe's
docs. Reads the row already loaded: no query. What Stripe sent is read without
trusting its shape (as `requirements` does for v1): a malformed value is
left out, never a 500.
"""

from __future__ import annotations

from typing import Any

from django.template.loader import render_to_string
from django.utils.translation import gettext_lazy as _

from .. import requirements
from ..accounts_v2 import deadline_status, dict_or_empty
from ..humanize import humanize_requirement
from ..humanize_v2 import capability_name, code_text, resolution_text
from ..models import ExpressAccount
from ..reasons import staff_text

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


def requirements_block(account: ExpressAccount) -> str:
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
            "disabled_reason_text": staff_text(
                account.disabled_reason, {"past_due": account.past_due}
            ),
        },
    )


def capabilities_block(account: ExpressAccount) -> str:
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
