"""The demo's samples: the makers' catalog (a plain list: the example keeps no
orders of its own, Stripe and the app's ledger keep the money), and unsaved
sample accounts in every state, for the gallery page (design review)."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from django.http import HttpRequest
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.safestring import SafeString

from django_stripe_express.models import ExpressAccount
from django_stripe_express.templatetags.stripe_express import (
    BUTTON_TEMPLATE,
    STYLES_TEMPLATE,
    button_context,
)

_WEEK = 7 * 24 * 3600


@dataclass(frozen=True)
class Item:
    """Something a maker sells; ``price`` in the currency's smallest unit, as Stripe counts."""

    slug: str
    title: str
    maker: str  # the demo user's username
    price: int
    currency: str
    blurb: str

    @property
    def fee(self) -> int:
        """What Makers Market keeps: its application fee on the destination charge."""
        return self.price * PLATFORM_FEE_PERCENT // 100


#: Makers Market's cut of each sale, in percent.
PLATFORM_FEE_PERCENT = 10

CATALOG = [
    Item("walnut-bowl", "Walnut bowl", "alice", 4500, "usd",
         "Turned by hand from one piece of black walnut."),
    Item("linen-apron", "Linen apron", "alice", 3200, "usd",
         "Stonewashed linen, two deep pockets."),
    Item("stoneware-mug", "Stoneware mug", "bob", 2800, "usd",
         "Wheel-thrown, glazed in sea green."),
    Item("oak-board", "Oak cutting board", "carol", 5500, "usd",
         "End-grain oak, oiled and waxed."),
]


def item(slug: str) -> Item | None:
    return next((i for i in CATALOG if i.slug == slug), None)


def _account(**fields: Any) -> ExpressAccount:
    values: dict[str, Any] = {
        "stripe_id": "acct_sample", "details_submitted": True, "charges_enabled": True,
        "payouts_enabled": True, "requirements": {}, **fields,
    }
    account = ExpressAccount(**values)
    account.status = account.derive_status()
    return account


def _samples() -> list[tuple[str, ExpressAccount | None, bool]]:
    """(label, account, logged in) for every state the button shows."""
    past_due = {"past_due": ["individual.verification.document", "external_account"],
                "current_deadline": int(time.time()) + _WEEK}
    return [
        ("Logged out", None, False),
        ("Not connected", None, True),
        ("Onboarding not finished", _account(
            details_submitted=False, charges_enabled=False, payouts_enabled=False,
            requirements={"currently_due": ["external_account", "tos_acceptance.date",
                                            "individual.dob.day"]}), True),
        ("Restricted", _account(payouts_enabled=False, requirements=past_due,
                                disabled_reason="requirements.past_due"), True),
        ("Pending verification", _account(
            charges_enabled=False, payouts_enabled=False,
            requirements={"pending_verification": ["individual.id_number"]},
            disabled_reason="requirements.pending_verification"), True),
        ("Under review, more information asked", _account(
            charges_enabled=False, payouts_enabled=False,
            requirements={"past_due": ["business_profile.product_description"]},
            disabled_reason="other"), True),
        ("Enabled", _account(), True),
        ("Enabled, something due by a date", _account(
            requirements={"currently_due": ["individual.verification.document"],
                          "current_deadline": int(time.time()) + 4 * _WEEK}), True),
        ("Disabled", _account(charges_enabled=False, payouts_enabled=False,
                              disabled_reason="rejected.fraud"), True),
        ("Paused by this site", _account(charges_enabled=False, payouts_enabled=False,
                                         disabled_reason="platform_paused"), True),
        ("Disconnected", _account(deauthorized_at=timezone.now()), True),
    ]


def gallery(request: HttpRequest) -> list[tuple[str, str, SafeString]]:
    """(label, status, html) for each sample, rendered with the app's own templates."""
    rendered: list[tuple[str, str, SafeString]] = []
    for label, account, logged_in in _samples():
        # The button only asks whether someone is logged in; the sample
        # account stands for theirs.
        user = request.user if logged_in else None
        context = button_context(request, user, account, next_url="/")
        context.update(include_styles=not rendered, styles_template=STYLES_TEMPLATE)
        html = render_to_string(BUTTON_TEMPLATE, context, request=request)
        rendered.append((label, context["status"], html))
    return rendered
