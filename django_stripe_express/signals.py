"""Signals: how the host project reacts to what happens to its users' accounts.

Every signal is sent with ``sender=ExpressAccount`` (``WebhookEvent`` for
``webhook_event``, ``Transfer`` for the ``transfer_*`` ones), so receivers can
connect with ``sender=`` to be explicit. The app sends each of them after the
change it announces is stored, through `models.notify`: a receiver that raises
is logged (logger ``django_stripe_express.signals``) and cannot undo the change.
"""

from django.dispatch import Signal

#: A user finished connecting (either flow) and the account is stored.
#: Arguments: ``account`` (ExpressAccount), ``user``, ``request`` (or None),
#: ``created`` (bool: False when a disconnected account was reconnected).
account_connected = Signal()

#: Stripe's view of an account was applied (webhook, return from onboarding,
#: admin refresh or the sync command).
#: Arguments: ``account``, ``previous_status`` (str), ``source``
#: (``"webhook"``, ``"onboarding"``, ``"admin"``, ``"sync"``), ``event`` (the
#: WebhookEvent, or None).
account_updated = Signal()

#: The account was disconnected from the platform (webhook or the user's action).
#: Arguments: ``account``, ``event`` (WebhookEvent or None), ``request`` (or None).
account_deauthorized = Signal()

#: An onboarding attempt ended without a connected account.
#: Arguments: ``attempt`` (ConnectAttempt or None when no attempt matched),
#: ``user``, ``request``, ``outcome`` (a ConnectAttempt.Outcome value),
#: ``error_code`` (Stripe's code or ""), ``error_description``.
connect_failed = Signal()

#: Staff moved an account to another user (the admin's "Reassign", or
#: `reassign.reassign_account`): its payouts now go with the new user.
#: Arguments: ``account``, ``previous_user``, ``user`` (the new one), ``by``
#: (who did it), ``reason`` (str), ``reassignment`` (the AccountReassignment
#: record), ``request`` (or None).
account_reassigned = Signal()

#: Every verified webhook event, whatever its type, once it is recorded.
#: Arguments: ``event`` (WebhookEvent), ``data`` (the event as a dict: a
#: snapshot event, or a thin event notification), ``fetched`` (what the app
#: read from Stripe for it, as a dict: the v2 account for a thin event, the
#: account with ``WEBHOOK_REFETCH_ACCOUNT``; None when nothing was read),
#: ``applied`` (bool: whether this app changed anything for it).
webhook_event = Signal()


#: A transfer reached the user's account at Stripe (``payments.pay``, a
#: retry, the command). Arguments: ``transfer`` (Transfer, with its ``stripe_id``).
#: Sent with ``sender=Transfer``, once per transfer.
transfer_sent = Signal()

#: Stripe refused a transfer for good (its ``failure_code`` and
#: ``failure_message`` say why); staff may send it again.
#: Arguments: ``transfer``. Sent with ``sender=Transfer``.
transfer_failed = Signal()

#: A transfer waits for the user's account to be able to receive it
#: (onboarding, restricted, disabled, disconnected, or no account yet): it is
#: sent when the account can. Arguments: ``transfer``. Sent with ``sender=Transfer``.
transfer_held = Signal()

#: Part or all of a sent transfer was reversed (by the app or from the
#: Dashboard). Arguments: ``transfer``, ``amount`` (this reversal's, in the
#: smallest unit). Sent with ``sender=Transfer``.
transfer_reversed = Signal()

#: A user's payout reached their bank (``payout.paid``). Arguments: ``payout``
#: (Payout), ``account`` (ExpressAccount). Sent with ``sender=Payout``, once
#: per payout, after the event's transaction commits.
payout_paid = Signal()

#: A user's payout failed (``payout.failed``: its ``failure_code`` and
#: ``failure_message`` say why); Stripe disables the bank account until the
#: user updates it. Arguments: ``payout``, ``account``. Sent with
#: ``sender=Payout``, once per payout.
payout_failed = Signal()
