"""What the platform keeps about its users' Express accounts.

Stripe owns the account; these rows are the platform's copy of the parts it
needs to show and decide things, kept fresh by the flows and the webhooks.
"""

from __future__ import annotations

import datetime
import logging
import uuid
from collections.abc import Iterable, Mapping
from typing import Any

import stripe
from django.conf import settings
from django.db import models, router
from django.db.models import CharField
from django.dispatch import Signal
from django.http import HttpRequest
from django.utils import timezone
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from stripe.oauth_error import OAuthError

from . import signals
from .accounts import (
    AccountsApi,
    AccountStatus,
    Reason,
    as_dict,
    deadline_stamp,
    humanize_requirements,
    storable_json,
    storable_text,
    v1,
    v2,
)
from .accounts import names as requirement_names
from .conf import (
    ACCOUNTS_V1,
    ACCOUNTS_V2,
    ONBOARDING_ACCOUNT_LINKS,
    ONBOARDING_EMBEDDED,
    ONBOARDING_OAUTH,
    app_settings,
)
from .signals import account_deauthorized
from .stripe_api import get_client, is_gone

logger = logging.getLogger("django_stripe_express.accounts")


# The OAuth ``state`` as the database keeps it: a keyed hash, never the state.
# A pending state is a bearer token (whoever holds it can finish the flow for
# its user), so only ``HMAC-SHA256(SECRET_KEY, state)`` is stored: no admin
# page, export, backup or database reader learns a live state. Rotating
# Django's ``SECRET_KEY`` keeps pending states working while the old key is in
# ``SECRET_KEY_FALLBACKS``, as for Django's own signed values.

#: hexdigest of SHA-256.
_HASH_LENGTH = 64
#: Keeps these hashes apart from every other HMAC made with the same key.
_STATE_SALT = "django_stripe_express.ConnectAttempt.state"


def hash_state(state: str, secret: str | bytes | None = None) -> str:
    """The stored form of ``state`` under ``secret`` (default: ``SECRET_KEY``)."""
    return salted_hmac(_STATE_SALT, state, secret=secret, algorithm="sha256").hexdigest()


def candidate_hashes(state: str) -> list[str]:
    """``state``'s hash under ``SECRET_KEY``, then under each fallback key."""
    keys = [settings.SECRET_KEY, *getattr(settings, "SECRET_KEY_FALLBACKS", [])]
    return list(dict.fromkeys(hash_state(state, key) for key in keys))


class Flow(models.TextChoices):
    """How an account was connected: the onboarding flow (``ONBOARDING``)."""

    OAUTH = ONBOARDING_OAUTH, _("OAuth")
    ACCOUNT_LINKS = ONBOARDING_ACCOUNT_LINKS, _("Account Links")
    EMBEDDED = ONBOARDING_EMBEDDED, _("Embedded onboarding")


class ExpressAccountQuerySet(models.QuerySet["ExpressAccount"]):
    def for_mode(self, livemode: bool) -> ExpressAccountQuerySet:
        return self.filter(livemode=livemode)

    def connected(self) -> ExpressAccountQuerySet:
        return self.filter(deauthorized_at__isnull=True)

    def for_user(self, user: Any, livemode: bool | None = None) -> ExpressAccountQuerySet:
        """`user`'s account (a user or a primary key; one per mode) in `livemode`,
        by default the mode of the configured key."""
        return self.filter(user=user, livemode=app_settings.livemode if livemode is None
                           else livemode)


class ExpressAccount(models.Model):
    """One Stripe Express account, linked to one platform user in one mode."""

    Status = AccountStatus

    class AccountsApi(models.TextChoices):
        V1 = ACCOUNTS_V1, _("Accounts v1")
        V2 = ACCOUNTS_V2, _("Accounts v2")

    # Deleting the user keeps the row (staff still find the account, its
    # transfers and its history; see `disconnect_deleted_user`): NULL here
    # reads "deleted user".
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        related_name="stripe_express_accounts",
        verbose_name=_("user"),
    )
    stripe_id = models.CharField(_("Stripe account id"), max_length=255, unique=True)
    livemode = models.BooleanField(_("live mode"), default=False)
    # Which API created the account, and so which one the app reads it with:
    # OAuth and the v1 flow make v1 accounts, `ACCOUNTS_API = "v2"` v2 ones.
    accounts_api = models.CharField(
        _("Accounts API"),
        max_length=2,
        choices=AccountsApi.choices,
        default=AccountsApi.V1,
        editable=False,
    )

    # How the account was connected. Only an OAuth connection can be
    # deauthorized; the platform created the others itself. Empty on rows that
    # no attempt tells about (made by hand): the configured flow is assumed.
    connected_via = models.CharField(
        _("connected through"), max_length=16, choices=Flow.choices, blank=True,
        editable=False,
    )

    # Copied from Stripe's Account object; Stripe owns them.
    charges_enabled = models.BooleanField(_("charges enabled"), default=False)
    payouts_enabled = models.BooleanField(_("payouts enabled"), default=False)
    details_submitted = models.BooleanField(_("details submitted"), default=False)
    requirements = models.JSONField(_("requirements"), default=dict, blank=True)
    # What Stripe will require at `future_requirements.current_deadline`.
    future_requirements = models.JSONField(_("future requirements"), default=dict, blank=True)
    capabilities = models.JSONField(_("capabilities"), default=dict, blank=True)
    # v2 accounts: why each capability has its status, ``{name: [{code, resolution}]}``.
    capability_details = models.JSONField(_("capability details"), default=dict, blank=True)
    country = models.CharField(_("country"), max_length=2, blank=True)
    email = models.CharField(_("email"), max_length=254, blank=True)
    business_type = models.CharField(_("business type"), max_length=32, blank=True)
    default_currency = models.CharField(_("default currency"), max_length=3, blank=True)
    disabled_reason = models.CharField(_("disabled reason"), max_length=255, blank=True)

    # Derived from the fields above on every save, stored so that the admin and
    # queries can filter on it; never edited by hand.
    status = models.CharField(
        _("status"),
        max_length=32,
        choices=AccountStatus.choices,
        default=AccountStatus.ONBOARDING,
        editable=False,
    )

    connected_at = models.DateTimeField(_("connected at"), default=timezone.now)
    deauthorized_at = models.DateTimeField(_("disconnected at"), null=True, blank=True)
    # `created` of the newest Stripe event applied, so an older event delivered
    # late never overwrites newer state. Capabilities keep one mark per name.
    last_event_created = models.DateTimeField(null=True, blank=True, editable=False)
    capability_event_created = models.JSONField(default=dict, blank=True, editable=False)
    synced_at = models.DateTimeField(_("last read from Stripe"), null=True, blank=True)
    # The user's latest failed payout, kept on the row the button already reads
    # (no query more per page): Stripe's ``failure_code`` ("" when it gave none)
    # and the failure event's ``created`` (None: no failure to show). Cleared
    # by a payout created after it that is paid, or a change of bank account.
    payout_failure_code = models.CharField(_("payout failure code"), max_length=255,
                                           blank=True, editable=False)
    payout_failed_at = models.DateTimeField(_("payout failed at"), null=True, blank=True,
                                            editable=False)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    objects = ExpressAccountQuerySet.as_manager()

    class Meta:
        verbose_name = _("Express account")
        verbose_name_plural = _("Express accounts")
        ordering = ["-connected_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "livemode"],
                name="stripe_express_one_account_per_user_and_mode",
            ),
        ]
        indexes = [
            models.Index(fields=["status"], name="stripe_express_acct_status"),
            models.Index(fields=["-connected_at"], name="stripe_express_acct_conn"),
        ]
        permissions = [
            # Moves payouts to another person: more than "change" (which only
            # refreshes Stripe's data), see `reassign.reassign_account`.
            ("reassign_expressaccount", _("Can reassign an Express account to another user")),
            # Changes when the user is paid, at Stripe: its own permission.
            ("set_payout_schedule_expressaccount",
             _("Can change the payout schedule of an Express account")),
        ]

    def __str__(self) -> str:
        mode = "live" if self.livemode else "test"
        owner = self.user if self.user_id is not None else gettext("deleted user")
        return f"{self.stripe_id} ({mode}, {self.get_status_display()}) for {owner}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        self.status = self.derive_status()
        update_fields = kwargs.get("update_fields")
        if update_fields is not None and "status" not in update_fields:
            kwargs["update_fields"] = [*update_fields, "status"]
        super().save(*args, **kwargs)

    def derive_status(self) -> str:
        return accounts_api(self.accounts_api).derive_status(self)

    @property
    def can_receive_transfers(self) -> bool:
        """Whether Stripe accepts a transfer to this account now (its API's rule)."""
        return accounts_api(self.accounts_api).can_receive_transfers(self)

    @property
    def can_accept_card_payments(self) -> bool:
        """Whether the account can be a charge's merchant (``on_behalf_of``) now."""
        return accounts_api(self.accounts_api).can_accept_card_payments(self)

    @property
    def is_v2(self) -> bool:
        return self.accounts_api == self.AccountsApi.V2

    def apply(self, data: Mapping[str, Any] | stripe.StripeObject) -> list[str]:
        """Copy Stripe's account `data` (v1 or v2) onto the row and derive its
        status, without saving.

        Returns the fields left empty because Stripe's value does not fit (a
        warning names them, never their value).
        """
        values, dropped = _values(data)
        for field, value in values.items():
            setattr(self, field, value)
        self.synced_at = timezone.now()
        self.status = self.derive_status()
        if dropped:
            logger.warning(
                "Stripe account %s: %s longer than the column allows, not stored",
                self.stripe_id, ", ".join(dropped),
            )
        return dropped

    def clear_payout_failure(self) -> list[str]:
        """Forget the failed payout (the bank account works again); the fields to save."""
        if self.payout_failed_at is None:
            return []
        self.payout_failure_code, self.payout_failed_at = "", None
        return ["payout_failure_code", "payout_failed_at", "updated_at"]

    def forget_stripe_account(self) -> None:
        """Back to the model's defaults for everything copied from the row's old
        Stripe account (a disconnected one that a new account replaces)."""
        for name in _ACCOUNT_STATE:
            field = self._meta.get_field(name)
            setattr(self, name, field.get_default())  # type: ignore[union-attr]

    def disconnect(
        self,
        *,
        via_oauth: bool,
        request: HttpRequest | None = None,
        client: stripe.StripeClient | None = None,
    ) -> None:
        """Deauthorize at Stripe when ``via_oauth``, then mark disconnected and signal.

        Stripe answering that the platform is no longer connected counts as done.
        Any other Stripe error propagates and leaves the row untouched (the library
        raises a bare ``AttributeError`` for an OAuth error code it does not know:
        callers catch that with ``stripe.StripeError``).
        """
        if via_oauth:
            try:
                (client or get_client()).oauth.deauthorize({"stripe_user_id": self.stripe_id})
            except OAuthError as exc:
                if not is_gone(exc):  # already disconnected: done
                    raise
        self.deauthorized_at = timezone.now()
        self.save(update_fields=["deauthorized_at", "updated_at"])
        notify(
            account_deauthorized, f"disconnecting {self.stripe_id}",
            sender=ExpressAccount, account=self, event=None, request=request,
        )

    def mark_gone(self, request: HttpRequest | None = None) -> bool:
        """Mark an account the platform can no longer reach as disconnected.

        Otherwise the row would point at nothing forever and block the user: a
        disconnected account is replaced by a new one on the next ``start``, and
        the button offers to connect again. Whether it was connected until now.
        """
        if self.deauthorized_at is not None:
            return False
        logger.warning("Stripe Express account %s is no longer reachable: marked disconnected",
                       self.stripe_id)
        self.disconnect(via_oauth=False, request=request)
        return True

    @property
    def reason(self) -> Reason | None:
        """What limits the account (its ``disabled_reason``), read in its API's
        table; None when nothing does."""
        return accounts_api(self.accounts_api).reason_for(self.disabled_reason)

    def requirement_words(self, names: Iterable[str]) -> list[str]:
        """Plain words for requirement names of this account's API, once each."""
        return humanize_requirements(names, accounts_api(self.accounts_api).humanize_requirement)

    @property
    def is_connected(self) -> bool:
        return self.deauthorized_at is None

    @property
    def via_oauth(self) -> bool:
        """Connected through Express OAuth, so the platform can deauthorize it at
        Stripe (for the user's disconnect and the admin's alike)."""
        flow = self.connected_via or (
            Flow.ACCOUNT_LINKS if self.is_v2 else app_settings.ONBOARDING
        )
        return flow == Flow.OAUTH

    # Malformed values in `requirements` are dropped (and logged) by these
    # readers, so that one bad event cannot break a page that shows the account.

    @property
    def currently_due(self) -> list[str]:
        return requirement_names(self, "currently_due")

    @property
    def past_due(self) -> list[str]:
        return requirement_names(self, "past_due")

    @property
    def pending_verification(self) -> list[str]:
        return requirement_names(self, "pending_verification")

    @property
    def current_deadline(self) -> int | None:
        """``requirements.current_deadline`` (a Unix timestamp), if usable."""
        return deadline_stamp(self)

    @property
    def future_currently_due(self) -> list[str]:
        """Future requirements that already have a deadline (Stripe's "currently due")."""
        future = "future_requirements"
        return list(dict.fromkeys([*requirement_names(self, "past_due", field=future),
                                   *requirement_names(self, "currently_due", field=future)]))

    @property
    def future_deadline(self) -> int | None:
        """``future_requirements.current_deadline`` (a Unix timestamp), if usable."""
        return deadline_stamp(self, field="future_requirements")

    @property
    def dashboard_url(self) -> str:
        """This account in the platform's Stripe dashboard (for support staff)."""
        prefix = "" if self.livemode else "test/"
        return f"https://dashboard.stripe.com/{prefix}connect/accounts/{self.stripe_id}"


class ConnectAttempt(models.Model):
    """One trip through onboarding: the OAuth `state` (hashed) and how it ended."""

    Flow = Flow

    class Outcome(models.TextChoices):
        PENDING = "pending", _("Pending")
        CONNECTED = "connected", _("Connected")
        DECLINED = "declined", _("Declined by the user")
        OAUTH_ERROR = "oauth_error", _("OAuth error from Stripe")
        INVALID_GRANT = "invalid_grant", _("Invalid or expired code")
        INVALID_CLIENT = "invalid_client", _("Invalid client id or key")
        INVALID_REQUEST = "invalid_request", _("Invalid request")
        CAPABILITY_NOT_GRANTED = "capability_not_granted", _("Capability not granted")
        EXPIRED = "expired", _("State expired")
        STATE_REUSED = "state_reused", _("State already used")
        WRONG_USER = "wrong_user", _("State belongs to another user")
        ACCOUNT_ALREADY_LINKED = "account_already_linked", _("Account linked to another user")
        STRIPE_UNREACHABLE = "stripe_unreachable", _("Stripe unreachable")
        STRIPE_ERROR = "stripe_error", _("Stripe error")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="stripe_express_attempts",
        verbose_name=_("user"),
    )
    flow = models.CharField(_("flow"), max_length=16, choices=Flow.choices, default=Flow.OAUTH)
    # A keyed hash of the OAuth state (`state_hash.hash_state`), never the state
    # itself: a pending state is a live token. Account Links and embedded attempts
    # carry a random value (their flows have no state), which keeps the column unique.
    state_hash = models.CharField(
        _("state hash"), max_length=_HASH_LENGTH, unique=True, editable=False
    )
    livemode = models.BooleanField(_("live mode"), default=False)
    next_url = models.CharField(_("next URL"), max_length=2048, blank=True)
    created_at = models.DateTimeField(_("started at"), default=timezone.now)
    expires_at = models.DateTimeField(_("expires at"))
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    outcome = models.CharField(
        _("outcome"), max_length=32, choices=Outcome.choices, default=Outcome.PENDING
    )
    error_code = models.CharField(_("Stripe error code"), max_length=255, blank=True)
    error_description = models.TextField(_("error description"), blank=True)
    stripe_user_id = models.CharField(_("Stripe account id"), max_length=255, blank=True)
    account = models.ForeignKey(
        ExpressAccount,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="attempts",
        verbose_name=_("Express account"),
    )

    class Meta:
        verbose_name = _("connect attempt")
        verbose_name_plural = _("connect attempts")
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["user", "-created_at"], name="stripe_express_att_user"),
            models.Index(fields=["outcome", "-created_at"], name="stripe_express_att_outcome"),
        ]

    def __str__(self) -> str:
        when = timezone.localtime(self.created_at).strftime("%Y-%m-%d %H:%M")
        outcome = self.get_outcome_display()
        return f"{self.get_flow_display()} attempt by {self.user} on {when}: {outcome}"

    def finish(
        self,
        outcome: str,
        *,
        account: ExpressAccount | None = None,
        error_code: str = "",
        description: str = "",
    ) -> None:
        """End the attempt with `outcome`, saved: connected to `account`, or
        failed with Stripe's code and description."""
        self.outcome = outcome
        self.finished_at = timezone.now()
        if account is not None:
            self.account = account
            self.stripe_user_id = account.stripe_id
        self.error_code = error_code[:255]
        self.error_description = description
        self.save(update_fields=[
            "outcome", "finished_at", "account", "stripe_user_id", "error_code",
            "error_description",
        ])

    @property
    def is_expired(self) -> bool:
        return timezone.now() >= self.expires_at

    @property
    def is_pending(self) -> bool:
        return self.outcome == self.Outcome.PENDING


class WebhookEvent(models.Model):
    """A Stripe event received at the webhook, recorded once by its id."""

    class Status(models.TextChoices):
        RECEIVED = "received", _("Received")
        PROCESSED = "processed", _("Processed")
        IGNORED = "ignored", _("Ignored")
        FAILED = "failed", _("Failed")

    stripe_id = models.CharField(_("event id"), max_length=255, unique=True)
    type = models.CharField(_("type"), max_length=255)
    account = models.CharField(_("account id"), max_length=255, blank=True)
    livemode = models.BooleanField(_("live mode"), default=False)
    created = models.DateTimeField(_("created at Stripe"))
    api_version = models.CharField(_("API version"), max_length=64, blank=True)
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.RECEIVED
    )
    # Why an event was ignored (stale, unknown account, other mode, unhandled
    # type) or how applying it failed.
    detail = models.TextField(_("detail"), blank=True)
    attempts = models.PositiveIntegerField(_("deliveries processed"), default=0)
    payload = models.JSONField(_("payload"))
    received_at = models.DateTimeField(_("received at"), default=timezone.now)
    processed_at = models.DateTimeField(_("processed at"), null=True, blank=True)

    class Meta:
        verbose_name = _("webhook event")
        verbose_name_plural = _("webhook events")
        ordering = ["-received_at"]
        indexes = [
            models.Index(fields=["status", "received_at"], name="stripe_express_evt_status"),
            models.Index(fields=["type", "-received_at"], name="stripe_express_evt_type"),
            models.Index(fields=["account", "-received_at"], name="stripe_express_evt_acct"),
        ]

    def __str__(self) -> str:
        return f"{self.type} {self.stripe_id} ({self.get_status_display()})"


class AccountReassignment(models.Model):
    """Staff moved an account to another user: from whom, to whom, by whom, why.

    Kept when users are deleted (the names as they were are in ``summary``),
    never edited; the admin shows them on the account's page.
    """

    account = models.ForeignKey(
        ExpressAccount,
        on_delete=models.SET_NULL,
        null=True,
        related_name="reassignments",
        verbose_name=_("Express account"),
    )
    stripe_id = models.CharField(_("Stripe account id"), max_length=255)
    from_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+",
        verbose_name=_("from user"),
    )
    to_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+",
        verbose_name=_("to user"),
    )
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+",
        verbose_name=_("by"),
    )
    summary = models.CharField(_("summary"), max_length=1024)
    reason = models.TextField(_("reason"))
    created_at = models.DateTimeField(_("at"), default=timezone.now)

    class Meta:
        verbose_name = _("account reassignment")
        verbose_name_plural = _("account reassignments")
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return self.summary


#: How long after its first use an idempotency key is surely still known to
#: Stripe (which keeps them at least 24 hours); an hour less for clocks.
KEY_WINDOW = datetime.timedelta(hours=23)


class _StripeRequest(models.Model):
    """A row for a request that moves money at Stripe: its idempotency key comes
    from the row, written before Stripe is called.

    ``key_token`` is random, so that a database restored or reset never reuses
    a key Stripe still remembers; ``key_generation`` is raised only when Stripe
    answered that nothing was done (Stripe replays a saved answer under the
    same key for 24 hours, so a resend needs a new one). ``key_used_at``: when
    a request with the current key may first have reached Stripe (None:
    never), so that past Stripe's key window the app asks Stripe before
    asking again.
    """

    key_token = models.UUIDField(default=uuid.uuid4, editable=False)
    key_generation = models.PositiveIntegerField(_("key generation"), default=1, editable=False)
    key_used_at = models.DateTimeField(_("key first used at"), null=True, blank=True,
                                       editable=False)
    tries = models.PositiveIntegerField(_("calls to Stripe"), default=0, editable=False)

    class Meta:
        abstract = True

    def _key_kind(self) -> str:
        raise NotImplementedError

    @property
    def idempotency_key(self) -> str:
        """The key of the current request to Stripe: the same until Stripe answers
        that nothing was done."""
        return f"django-stripe-express:{self._key_kind()}:{self.key_token}:{self.key_generation}"

    @property
    def key_expired(self) -> bool:
        """The current key was used longer ago than Stripe surely remembers it: ask
        Stripe whether the request was done before making it again."""
        return self.key_used_at is not None and timezone.now() - self.key_used_at >= KEY_WINDOW

    def _new_key(self) -> None:
        # Stripe answered that nothing was done: the next request is a new one.
        self.key_generation += 1
        self.key_used_at = None

    def _count_try(self) -> None:
        """A request leaves with the current key: its first use is remembered (for
        the key window), and the try counted. The caller saves."""
        if self.key_used_at is None:
            self.key_used_at = timezone.now()
        self.tries += 1


class Transfer(_StripeRequest):
    """One obligation of the platform to pay a user, named by the platform's ``reference``.

    The row is written before Stripe is called, and its state says what is
    known (see `payments` for the sending protocol). The obligation is the
    user's: ``account`` and ``destination`` say where it was (or is being)
    sent, and a user who reconnects with a new account is paid there.
    """

    class Status(models.TextChoices):
        HELD = "held", _("Held until the account can receive transfers")
        PENDING = "pending", _("Pending")
        WAITING_FOR_FUNDS = "waiting_for_funds", _("Waiting for the platform's funds")
        SENT = "sent", _("Sent")
        FAILED = "failed", _("Failed")
        CANCELED = "canceled", _("Canceled")

    # A deleted user keeps the ledger: the row is evidence of money moved.
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True,
        related_name="stripe_express_transfers", verbose_name=_("user"),
    )
    account = models.ForeignKey(
        ExpressAccount, on_delete=models.SET_NULL, null=True, blank=True,
        related_name="transfers", verbose_name=_("Express account"),
    )
    # The platform's name for the obligation, unique per mode: the same
    # reference never pays twice, whoever it names (see `payments.pay`).
    reference = models.CharField(_("reference"), max_length=255)
    livemode = models.BooleanField(_("live mode"), default=False)
    amount = models.PositiveBigIntegerField(_("amount"))
    currency = models.CharField(_("currency"), max_length=3)
    status = models.CharField(
        _("status"), max_length=32, choices=Status.choices, default=Status.PENDING
    )
    # The Stripe account the current key sends to, fixed once the key is used:
    # a retry with the same key must send exactly the same request.
    destination = models.CharField(_("destination account"), max_length=255, blank=True)
    stripe_id = models.CharField(_("Stripe transfer id"), max_length=255, blank=True)
    amount_reversed = models.PositiveBigIntegerField(_("amount reversed"), default=0)
    source_transaction = models.CharField(_("source transaction"), max_length=255, blank=True)
    transfer_group = models.CharField(_("transfer group"), max_length=255, blank=True)
    # A transfer Stripe made for a destination charge: the PaymentIntent it came
    # from (blank for the app's own transfers), so that `payments.refund` finds it.
    payment_intent = models.CharField(_("PaymentIntent"), max_length=255, blank=True)
    description = models.CharField(_("description"), max_length=1000, blank=True)
    metadata = models.JSONField(_("metadata"), default=dict, blank=True)
    failure_code = models.CharField(_("failure code"), max_length=255, blank=True)
    failure_message = models.TextField(_("failure message"), blank=True)

    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("transfer")
        verbose_name_plural = _("transfers")
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["reference", "livemode"], name="stripe_express_one_transfer_per_ref",
            ),
        ]
        indexes = [
            models.Index(fields=["status", "created_at"], name="stripe_express_tr_status"),
            models.Index(fields=["user", "status"], name="stripe_express_tr_user"),
            models.Index(fields=["stripe_id"], name="stripe_express_tr_stripe_id"),
        ]
        permissions = [
            ("retry_transfer", _("Can send a failed or waiting transfer again")),
            ("cancel_transfer", _("Can cancel a transfer not yet sent")),
            ("reverse_transfer", _("Can reverse what is left of a sent transfer")),
        ]

    def __str__(self) -> str:
        return f"{self.reference}: {self.amount} {self.currency} ({self.get_status_display()})"

    def _key_kind(self) -> str:
        return "transfer"

    @property
    def outcome_unknown(self) -> bool:
        """A request with the current key may have reached Stripe, its answer unknown."""
        return self.status == self.Status.PENDING and self.key_used_at is not None

    # -- state changes: each says what is known, saved with what it changes ------

    def _save(self, *fields: str) -> None:
        self.save(update_fields=[*fields, "updated_at"])

    def hold(self, account: ExpressAccount | None) -> None:
        """The user's account cannot receive transfers (or there is none): held."""
        self.status = self.Status.HELD
        self.account = account
        self._save("status", "account")

    def release(self) -> None:
        """Held or waiting, now to be sent (the account or the funds are ready)."""
        self.status = self.Status.PENDING
        self._save("status")

    def start_sending(self, account: ExpressAccount | None) -> None:
        """Fix where the current key sends, before the request leaves: from here a
        retry reuses the key with the same parameters until Stripe answers (a
        retry passes no account: the one fixed stays)."""
        if self.key_used_at is None and account is not None:
            self.key_used_at = timezone.now()
            self.account = account
            self.destination = account.stripe_id
        self.tries += 1
        self._save("key_used_at", "account", "destination", "tries")

    def mark_sent(self, stripe_id: str) -> None:
        self.status = self.Status.SENT
        self.stripe_id = stripe_id
        self.sent_at = timezone.now()
        self.failure_code = self.failure_message = ""
        self._save("status", "stripe_id", "sent_at", "failure_code", "failure_message")

    def _new_key(self) -> None:
        super()._new_key()
        self.destination = ""  # the next request fixes its own

    def wait_for_funds(self, code: str, message: str) -> None:
        self._new_key()
        self.status = self.Status.WAITING_FOR_FUNDS
        self.failure_code, self.failure_message = code[:255], message
        self._save("status", "key_generation", "key_used_at", "destination", "failure_code",
                   "failure_message")

    def fail(self, code: str, message: str) -> None:
        self._new_key()
        self.status = self.Status.FAILED
        self.failure_code, self.failure_message = code[:255], message
        self._save("status", "key_generation", "key_used_at", "destination", "failure_code",
                   "failure_message")

    def hold_after_refusal(self, code: str, message: str) -> None:
        """Stripe refused the destination (gone, not allowed to receive): nothing was
        sent; held until the user's account can receive transfers."""
        self._new_key()
        self.status = self.Status.HELD
        self.failure_code, self.failure_message = code[:255], message
        self._save("status", "key_generation", "key_used_at", "destination", "failure_code",
                   "failure_message")

    def found_nothing_at_stripe(self) -> None:
        """Stripe's key window is over and Stripe has no transfer for the reference:
        the next request is a new one."""
        self._new_key()
        self._save("key_generation", "key_used_at", "destination")

    def learn_stripe_ids(self, stripe_id: str, source_transaction: str) -> None:
        """A destination charge's transfer: the ids a later event tells (the
        charge's event names the transfer; the PaymentIntent's may not)."""
        fields = [name for name, value in (("stripe_id", stripe_id),
                                           ("source_transaction", source_transaction))
                  if value and not getattr(self, name)]
        for name in fields:
            setattr(self, name, stripe_id if name == "stripe_id" else source_transaction)
        if fields:
            self._save(*fields)

    def reversed_at_least(self, total: int) -> int:
        """``total`` is known reversed (Stripe's ``amount_reversed``, or the app's
        own reversals that Stripe made): stored when it is more than known, since
        reversals only add up and their news arrives in any order. What it adds."""
        if total <= self.amount_reversed:
            return 0
        return self.add_reversed(total)

    def add_reversed(self, amount_reversed: int) -> int:
        """Stripe's ``amount_reversed`` (never more than the amount); what it adds."""
        total = min(amount_reversed, self.amount)
        added = total - self.amount_reversed
        self.amount_reversed = total
        self._save("amount_reversed")
        return added

    @property
    def can_retry(self) -> bool:
        """Staff may send it again: Stripe refused it, or it waits for funds (its
        key was already renewed when Stripe answered)."""
        return self.status in (self.Status.FAILED, self.Status.WAITING_FOR_FUNDS)

    @property
    def can_cancel(self) -> bool:
        """Nothing can have reached Stripe with its current key: never a transfer
        whose outcome is unknown, nor one sent."""
        return self.status in (
            self.Status.HELD, self.Status.WAITING_FOR_FUNDS, self.Status.FAILED
        ) or (self.status == self.Status.PENDING and self.key_used_at is None)

    @property
    def can_reverse(self) -> bool:
        """Sent, and not all reversed as far as the app knows."""
        return (self.status == self.Status.SENT and bool(self.stripe_id)
                and self.amount_reversed < self.amount)

    def retry(self) -> None:
        """Send it again (with a new key, see `fail`)."""
        self.status = self.Status.PENDING
        self._save("status")

    def cancel(self) -> None:
        self.status = self.Status.CANCELED
        self._save("status")


class TransferReversal(_StripeRequest):
    """A reversal of a sent transfer, or a refund of the destination charge that
    made it, asked of Stripe by the app: written before Stripe is called, its
    idempotency key from the row (see `payments.reverse` and `payments.refund`).

    ``reference`` names it per transfer and kind: the same reference again is
    the same reversal (or refund), never a second one.
    """

    class Kind(models.TextChoices):
        REVERSAL = "reversal", _("Reversal")
        REFUND = "refund", _("Refund of the destination charge")

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        DONE = "done", _("Done")
        FAILED = "failed", _("Failed")

    transfer = models.ForeignKey(
        Transfer, on_delete=models.PROTECT, related_name="reversals",
        verbose_name=_("transfer"),
    )
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    reference = models.CharField(_("reference"), max_length=255)
    # The reversal's amount; a refund's is of the charge (Stripe reverses the
    # transfer in proportion), None for all the charge has left.
    amount = models.PositiveBigIntegerField(_("amount"), null=True, blank=True)
    refund_application_fee = models.BooleanField(_("refund the application fee"),
                                                 default=False)
    reverse_transfer = models.BooleanField(_("reverse the transfer"), default=True)
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.PENDING
    )
    stripe_id = models.CharField(_("Stripe id"), max_length=255, blank=True)
    failure_code = models.CharField(_("failure code"), max_length=255, blank=True)
    failure_message = models.TextField(_("failure message"), blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    done_at = models.DateTimeField(_("done at"), null=True, blank=True)

    class Meta:
        verbose_name = _("transfer reversal")
        verbose_name_plural = _("transfer reversals")
        ordering = ["created_at", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["transfer", "kind", "reference"],
                name="stripe_express_one_reversal_per_ref",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.reference}: {self.amount} ({self.status})"

    def _key_kind(self) -> str:
        return self.kind

    def start_sending(self) -> None:
        """The request leaves with the current key (its first use is remembered)."""
        self._count_try()
        self.save(update_fields=["key_used_at", "tries"])

    def found_nothing_at_stripe(self) -> None:
        """Stripe's key window is over and Stripe has nothing for the reference:
        the next request is a new one."""
        self._new_key()
        self.save(update_fields=["key_generation", "key_used_at"])

    def mark_done(self, stripe_id: str) -> None:
        self.status = self.Status.DONE
        self.stripe_id = stripe_id
        self.done_at = timezone.now()
        self.failure_code = self.failure_message = ""
        self.save(update_fields=["status", "stripe_id", "done_at", "failure_code",
                                 "failure_message"])

    def fail(self, code: str, message: str) -> None:
        """Stripe refused it: nothing was done, and Stripe replays that answer under
        this key, so a retry needs a new one."""
        self.status = self.Status.FAILED
        self._new_key()
        self.failure_code, self.failure_message = code[:255], message
        self.save(update_fields=["status", "key_generation", "key_used_at", "failure_code",
                                 "failure_message"])

    def retry(self) -> None:
        self.status = self.Status.PENDING
        self.save(update_fields=["status"])


class Payout(_StripeRequest):
    """One payout of a user's Stripe balance to their bank, as Stripe's ``payout.*``
    events describe it (one row per payout, see `record_payout`).

    A manual payout (`payments.payout`) is written first, with the platform's
    ``reference`` and no ``stripe_id``: its idempotency key comes from the row
    (`_StripeRequest`), so that a retry never pays out twice.
    """

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        IN_TRANSIT = "in_transit", _("In transit")
        PAID = "paid", _("Paid")
        FAILED = "failed", _("Failed")
        CANCELED = "canceled", _("Canceled")

    # None until Stripe answers a manual payout; unique among the known ones.
    stripe_id = models.CharField(_("Stripe payout id"), max_length=255, unique=True,
                                 null=True, blank=True)
    account = models.ForeignKey(
        ExpressAccount, on_delete=models.CASCADE, related_name="payouts",
        verbose_name=_("Express account"),
    )
    #: The platform's name for a manual payout (empty for Stripe's automatic ones).
    reference = models.CharField(_("reference"), max_length=255, blank=True, default="")
    livemode = models.BooleanField(_("live mode"), default=False)
    amount = models.BigIntegerField(_("amount"), default=0)
    currency = models.CharField(_("currency"), max_length=3, blank=True)
    status = models.CharField(
        _("status"), max_length=32, choices=Status.choices, default=Status.PENDING
    )
    arrival_date = models.DateTimeField(_("expected arrival"), null=True, blank=True)
    failure_code = models.CharField(_("failure code"), max_length=255, blank=True)
    failure_message = models.TextField(_("failure message"), blank=True)
    method = models.CharField(_("method"), max_length=32, blank=True)
    automatic = models.BooleanField(_("automatic"), default=True)
    created = models.DateTimeField(_("created at Stripe"), null=True, blank=True)
    # `created` of the event last applied: with the status's rank (`RANK`), what
    # keeps an older event delivered late from undoing a newer one.
    last_event_created = models.DateTimeField(null=True, blank=True, editable=False)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("payout")
        verbose_name_plural = _("payouts")
        ordering = ["-created", "-pk"]
        indexes = [
            models.Index(fields=["account", "status"], name="stripe_express_po_account"),
        ]
        constraints = [
            # One manual payout per reference and account (an account is one mode).
            models.UniqueConstraint(fields=["account", "reference"],
                                    condition=~models.Q(reference=""),
                                    name="stripe_express_po_reference"),
        ]

    def __str__(self) -> str:
        name = self.stripe_id or self.reference
        return f"{name}: {self.amount} {self.currency} ({self.get_status_display()})"

    def _key_kind(self) -> str:
        return "payout"

    def is_older_than(self, status: str, event_created: Any) -> bool:
        """Whether this row already knows more than an event saying ``status`` at
        ``event_created`` (so that event changes nothing)."""
        mine, theirs = _PAYOUT_RANK.get(self.status, 0), _PAYOUT_RANK.get(status, 0)
        if mine != theirs:
            return mine > theirs
        return self.last_event_created is not None and bool(
            event_created < self.last_event_created)


#: How far along a payout is. Stripe moves a payout forward only; a paid payout
#: may still fail (the bank returns it days later), so ``failed`` outranks
#: ``paid``. An event of a lower rank is older news.
_PAYOUT_RANK: dict[str, int] = {
    "pending": 0, "in_transit": 1, "paid": 2, "failed": 3, "canceled": 3,
}


def record_payout(
    account: ExpressAccount, values: Mapping[str, Any], event_created: Any
) -> tuple[Payout | None, str, list[str]]:
    """Apply a payout event's ``values`` (see `webhooks.rules`) to its row and to
    ``account`` (locked by the caller): ``(row, signal, account fields)``.

    The row is None when the event is older than what is stored; ``signal`` is
    ``"paid"`` or ``"failed"`` when the payout just became so; the fields are
    those of ``account`` to save (its payout failure set or cleared).
    """
    rows = Payout.objects.using(database_alias())
    payout = rows.filter(stripe_id=values["stripe_id"]).first()
    if payout is not None and payout.is_older_than(values["status"], event_created):
        return None, "", []
    before = payout.status if payout is not None else ""
    if payout is None:
        payout = Payout(account=account, stripe_id=values["stripe_id"])
    for name, value in values.items():
        setattr(payout, name, value)
    payout.livemode = account.livemode
    payout.last_event_created = event_created
    payout.save()
    signal = payout.status if payout.status != before and payout.status in (
        Payout.Status.PAID, Payout.Status.FAILED) else ""
    return payout, signal, _payout_failure(account, payout, event_created, rows)


def _payout_failure(
    account: ExpressAccount, payout: Payout, event_created: Any, rows: Any
) -> list[str]:
    """Set or clear the account's payout failure for this payout's news."""
    failed_at = account.payout_failed_at
    if payout.status == Payout.Status.FAILED:
        if failed_at is not None and event_created < failed_at:
            return []  # a newer failure is shown
        later_paid = payout.created is not None and rows.filter(
            account=account, status=Payout.Status.PAID, created__gt=payout.created
        ).exists()
        if later_paid:
            return []  # a payout made after this one went through: the bank works
        account.payout_failure_code = payout.failure_code
        account.payout_failed_at = event_created
        return ["payout_failure_code", "payout_failed_at", "updated_at"]
    if (
        payout.status == Payout.Status.PAID and failed_at is not None
        and payout.created is not None and payout.created > failed_at
    ):
        return account.clear_payout_failure()
    return []


def database_alias() -> str:
    """The database the app writes to, as ``DATABASE_ROUTERS`` decide.

    Transactions name it (``transaction.atomic(using=...)``) so that they
    cover the queries they wrap wherever a router sends the app's models.
    Check E013 keeps all the app's models on one database.
    """
    return router.db_for_write(ExpressAccount)


# The model fields that mirror Stripe's Account object.
STRIPE_FIELDS = (
    "charges_enabled",
    "payouts_enabled",
    "details_submitted",
    "requirements",
    "future_requirements",
    "capabilities",
    "capability_details",
    "country",
    "email",
    "business_type",
    "default_currency",
    "disabled_reason",
)

# What `ExpressAccount.apply` may change, for `save(update_fields=...)` and `bulk_update`.
UPDATE_FIELDS = (*STRIPE_FIELDS, "status", "synced_at", "updated_at")

#: All a row holds of its Stripe account: what another account replacing it resets.
_ACCOUNT_STATE = (
    *STRIPE_FIELDS, "accounts_api", "synced_at", "last_event_created", "capability_event_created",
    "payout_failure_code", "payout_failed_at",
)

#: Text fields, each with a column length.
_TEXT_FIELDS = ("country", "email", "business_type", "default_currency", "disabled_reason")

#: JSON fields: Stripe's structures, made storable before they are written.
_JSON_FIELDS = ("requirements", "future_requirements", "capabilities", "capability_details")


def stripe_values(data: Mapping[str, Any] | stripe.StripeObject) -> dict[str, Any]:
    """The model's values for a Stripe Account object (a dict or StripeObject)."""
    return _values(data)[0]


def _values(data: Mapping[str, Any] | stripe.StripeObject) -> tuple[dict[str, Any], list[str]]:
    """`stripe_values`, and the text fields whose value is longer than the column.

    Every value is one the database stores (see `storable`); a text too long
    is left empty rather than cut: a cut email address is someone else's.
    """
    data = as_dict(data)
    values = (v2 if v2.is_v2(data) else v1).values(data)
    for name in _JSON_FIELDS:
        values[name] = storable_json(values[name])[0]
    too_long = []
    for name in _TEXT_FIELDS:
        value = values[name]
        text = storable_text(str(value))[0] if value else ""
        if len(text) > _max_length(name):
            too_long.append(name)
            text = ""
        values[name] = text
    return values, too_long


def _max_length(name: str) -> int:
    field = ExpressAccount._meta.get_field(name)
    assert isinstance(field, CharField)
    assert field.max_length is not None
    return field.max_length


def accounts_api(name: str) -> AccountsApi:
    """The module that speaks Accounts API ``name`` (``"v1"`` or ``"v2"``): one
    strategy per API, each with the same functions."""
    return v2 if name == ACCOUNTS_V2 else v1


def retrieve_account(
    stripe_id: str, api: str, client: stripe.StripeClient | None = None, context: str = ""
) -> Any:
    """The account as Stripe sees it now, read with the API that created it (one
    call); raises `stripe.StripeError`. The flows, the webhooks, the admin's
    refresh and the sync command all read through here."""
    return accounts_api(api).retrieve(client or get_client(), stripe_id, context)


_signals_logger = logging.getLogger("django_stripe_express.signals")


def disconnect_deleted_user(sender: Any, instance: Any, using: str, **kwargs: Any) -> None:
    """``pre_delete`` of the user model: disconnect the user's accounts, keep the rows.

    The rows outlive the user (``user`` becomes NULL, "deleted user" in the
    admin) because their transfers and history are evidence of money moved.
    An OAuth connection is deauthorized at Stripe, so the platform stops acting
    for an account nobody on the platform answers for; an account the platform
    created is only marked disconnected (it stays the person's at Stripe).
    Stripe failing must not block deleting a user (a GDPR erasure, say): the
    account then stays connected, logged, for staff to disconnect in the admin.
    """
    accounts = ExpressAccount.objects.using(using).filter(
        user=instance, deauthorized_at__isnull=True
    )
    for account in accounts:
        try:
            account.disconnect(via_oauth=account.via_oauth)
        except (stripe.StripeError, AttributeError) as exc:
            logger.error(
                "Deleting user %s: could not disconnect Stripe account %s (%s); it stays "
                "connected, without a user: disconnect it in the admin",
                instance.pk, account.stripe_id, type(exc).__name__,
            )
        else:
            logger.info("Deleting user %s: disconnected Stripe account %s",
                        instance.pk, account.stripe_id)


def notify(signal: Signal, about: str, **kwargs: Any) -> None:
    """Send `signal` about a change already stored, logging receivers' errors.

    Every signal of this app goes out this way. A receiver's bug cannot undo
    what is stored; raising it would only turn a finished onboarding into a
    500 for the user, a webhook into a redelivery, or stop a sync half-way.
    `about` says what the signal was for, in the log line.
    """
    for receiver, response in signal.send_robust(**kwargs):
        if isinstance(response, Exception):
            name = next((n for n, v in vars(signals).items() if v is signal), "signal")
            _signals_logger.error(
                "%s receiver %r failed for %s", name, receiver, about, exc_info=response,
            )
