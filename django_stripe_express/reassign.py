"""Moving an Express account to another platform user: a support action.

The Stripe account (and the bank account behind it) stays the same; what
changes is whose earnings the platform pays into it. That is why it needs its
own permission (``reassign_expressaccount``), a reason, a record
(`AccountReassignment`) and a signal (``account_reassigned``), and why the
admin asks for a confirmation naming both users.
"""

from __future__ import annotations

import logging
from typing import Any

from django.db import IntegrityError, transaction
from django.http import HttpRequest
from django.utils.translation import gettext as _

from .models import AccountReassignment, ExpressAccount, database_alias, notify
from .signals import account_reassigned

logger = logging.getLogger("django_stripe_express.accounts")

_PERMISSION = "django_stripe_express.reassign_expressaccount"


class ReassignError(Exception):
    """The account cannot go to that user; the message says why, for staff."""


def can_reassign(user: Any) -> bool:
    return bool(user.is_active and user.has_perm(_PERMISSION))


def describe(user: Any) -> str:
    """How staff recognise a user: username, full name, email, id."""
    if user is None:  # deleted (the account and its history are kept)
        return _("deleted user")
    parts = [str(user.get_username())]
    full_name = user.get_full_name() if hasattr(user, "get_full_name") else ""
    email = getattr(user, "email", "")
    extra = ", ".join(p for p in (full_name, email) if p)
    if extra:
        parts.append(f"({extra})")
    parts.append(f"[id {user.pk}]")
    return " ".join(parts)


def refusal(account: ExpressAccount, new_user: Any) -> str | None:
    """Why ``account`` cannot go to ``new_user``, or None."""
    if new_user.pk == account.user_id:
        return _("This account already belongs to this user.")
    clash = ExpressAccount.objects.for_user(new_user, account.livemode)
    if clash.exclude(pk=account.pk).exists():
        return _("This user already has an Express account in this mode.")
    return None


def reassign_account(
    account: ExpressAccount,
    new_user: Any,
    *,
    by: Any,
    reason: str,
    request: HttpRequest | None = None,
) -> AccountReassignment:
    """Give ``account`` to ``new_user``, record why, send ``account_reassigned``.

    Raises `ReassignError` (nothing changed) when ``new_user`` already has an
    account in this mode, already has this one, or the reason is empty.
    """
    reason = reason.strip()
    if not reason:
        raise ReassignError(_("Say why the account is reassigned."))
    try:
        with transaction.atomic(using=database_alias()):
            # No select_related("user"): the user may be NULL (deleted), and
            # PostgreSQL refuses FOR UPDATE on the nullable side of an outer join.
            locked = ExpressAccount.objects.select_for_update().get(pk=account.pk)
            why_not = refusal(locked, new_user)
            if why_not:
                raise ReassignError(why_not)
            previous_user = locked.user
            locked.user = new_user
            locked.save(update_fields=["user", "updated_at"])
            record = AccountReassignment.objects.create(
                account=locked,
                stripe_id=locked.stripe_id,
                from_user=previous_user,
                to_user=new_user,
                by=by,
                summary=f"{locked.stripe_id}: {describe(previous_user)} -> "
                f"{describe(new_user)}, by {describe(by)}",
                reason=reason,
            )
    except IntegrityError as exc:  # the new user got an account meanwhile
        raise ReassignError(_("This user already has an Express account in this mode.")) from exc
    account.user = new_user
    # Ids only: names and the reason stay in the record, out of the logs.
    logger.info(
        "Stripe Express account %s reassigned from user %s to user %s by user %s "
        "(reassignment %s)", locked.stripe_id, getattr(previous_user, "pk", None), new_user.pk,
        getattr(by, "pk", None), record.pk,
    )
    notify(
        account_reassigned, f"reassignment of {locked.stripe_id}",
        sender=ExpressAccount, account=locked, previous_user=previous_user, user=new_user,
        by=by, reason=reason, reassignment=record, request=request,
    )
    return record
