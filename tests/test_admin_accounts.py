"""The Express account admin, as support staff with only the permissions given."""

from __future__ import annotations

import datetime

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from django_stripe_express.models import ConnectAttempt, ExpressAccount
from django_stripe_express.signals import account_deauthorized

from .admin_support import action_names, messages_of, staff_client, superuser_client
from .factories import ConnectAttemptFactory, ExpressAccountFactory, UserFactory

pytestmark = pytest.mark.django_db

CHANGELIST = "admin:django_stripe_express_expressaccount_changelist"


def change_url(account: ExpressAccount) -> str:
    return reverse("admin:django_stripe_express_expressaccount_change", args=[account.pk])


def post_action(client, action: str, accounts, **extra):
    data = {"action": action, "_selected_action": [a.pk for a in accounts], **extra}
    return client.post(reverse(CHANGELIST), data, follow=True)


def stripe_account(fake, **local) -> ExpressAccount:
    """An account both at the fake (not onboarded) and stored locally."""
    data = fake.create_account()
    return ExpressAccountFactory(stripe_id=data["id"], onboarding=True, **local)


class TestChangelist:
    def test_view_only_staff_sees_the_columns_but_no_actions(self):
        account = ExpressAccountFactory(restricted=True, user__username="grace")
        client = staff_client("view_expressaccount")

        response = client.get(reverse(CHANGELIST))

        assert response.status_code == 200
        html = response.content.decode()
        assert account.stripe_id in html
        assert "grace" in html
        assert "stripe-express-status-restricted" in html  # the badge
        assert "requirements.past_due" in html
        assert action_names(response) == []
        assert "Add Express account" not in html

    def test_columns_show_mode_and_items_currently_due(self):
        ExpressAccountFactory(onboarding=True, livemode=True)
        client = staff_client("view_expressaccount")

        response = client.get(reverse(CHANGELIST))

        cl = response.context["cl"]
        (row,) = cl.result_list
        admin_ = cl.model_admin
        assert admin_.mode(row) == "live"
        assert admin_.currently_due_count(row) == 2

    @pytest.mark.parametrize(
        ("query", "expected"),
        [
            ("status__exact=restricted", {"restricted"}),
            ("livemode__exact=1", {"live"}),
            ("country=FR", {"french"}),
            (
                "capability=transfers:active",
                {"enabled", "restricted", "live", "french", "disconnected"},
            ),
            ("capability=transfers:inactive", {"onboarding"}),
            ("capability=card_payments:active", {"french"}),
            ("capability=nonsense:active", set()),
            ("disconnected=yes", {"disconnected"}),
            ("disconnected=no", {"enabled", "restricted", "onboarding", "live", "french"}),
            ("q=grace", {"restricted"}),
            ("q=grace%40example.com", {"restricted"}),
            ("q=contact%40shop.fr", {"french"}),
        ],
    )
    def test_filters_and_search(self, query, expected):
        accounts = {
            "enabled": ExpressAccountFactory(),
            "restricted": ExpressAccountFactory(restricted=True, user__username="grace"),
            "onboarding": ExpressAccountFactory(onboarding=True),
            "live": ExpressAccountFactory(livemode=True),
            "french": ExpressAccountFactory(
                country="FR",
                email="contact@shop.fr",
                capabilities={"transfers": "active", "card_payments": "active"},
            ),
            "disconnected": ExpressAccountFactory(disconnected=True),
        }
        client = staff_client("view_expressaccount")

        response = client.get(reverse(CHANGELIST) + "?" + query)

        assert response.status_code == 200
        shown = {a.pk for a in response.context["cl"].result_list}
        assert {name for name, a in accounts.items() if a.pk in shown} == expected

    def test_search_by_stripe_id(self):
        account, _other = ExpressAccountFactory(), ExpressAccountFactory()
        client = staff_client("view_expressaccount")

        response = client.get(reverse(CHANGELIST), {"q": account.stripe_id})

        assert list(response.context["cl"].result_list) == [account]

    def test_query_count_does_not_grow_with_rows(self):
        client = staff_client("view_expressaccount")
        ExpressAccountFactory.create_batch(3, restricted=True)
        with CaptureQueriesContext(connection) as few:
            assert client.get(reverse(CHANGELIST)).status_code == 200

        users = get_user_model().objects.bulk_create(
            get_user_model()(username=f"bulk{i}") for i in range(300)
        )
        ExpressAccount.objects.bulk_create(
            ExpressAccount(
                user=u, stripe_id=f"acct_bulk{i}", requirements={"currently_due": ["x"]}
            )
            for i, u in enumerate(users)
        )
        with CaptureQueriesContext(connection) as many:
            response = client.get(reverse(CHANGELIST))
        assert len(response.context["cl"].result_list) == 100  # a full page
        assert len(many) == len(few), [q["sql"] for q in many]
        print(f"\nExpressAccount changelist: {len(few)} queries for 3 rows, {len(many)} for 303")


class TestChangePage:
    def test_shows_requirements_capabilities_and_dashboard_link(self):
        deadline = datetime.datetime(2030, 5, 17, 12, tzinfo=datetime.timezone.utc)
        account = ExpressAccountFactory(
            restricted=True,
            requirements={
                "currently_due": ["individual.verification.document"],
                "eventually_due": ["individual.verification.document", "individual.ssn_last_4"],
                "past_due": ["individual.verification.document"],
                "pending_verification": ["individual.id_number"],
                "errors": [
                    {
                        "requirement": "individual.verification.document",
                        "code": "verification_document_expired",
                        "reason": "The document is <expired>.",
                    }
                ],
                "disabled_reason": "requirements.past_due",
                "current_deadline": int(deadline.timestamp()),
            },
            capabilities={"transfers": "inactive", "card_payments": "pending"},
        )
        client = staff_client("view_expressaccount")

        response = client.get(change_url(account))

        assert response.status_code == 200
        html = response.content.decode()
        for text in (
            "Past due",
            "Currently due",
            "Eventually due",
            "Pending verification",
            "individual.ssn_last_4",
            "individual.id_number",
            "verification_document_expired",
            "The document is &lt;expired&gt;.",  # Stripe's text is escaped
            "May 17, 2030",
            "<code>card_payments</code>: pending",
            f"https://dashboard.stripe.com/test/connect/accounts/{account.stripe_id}",
        ):
            assert text in html, text
        assert "<expired>" not in html

    def test_enabled_with_deadlines_shows_them_and_future_requirements(self):
        now_due = datetime.datetime(2031, 3, 1, tzinfo=datetime.timezone.utc)
        future_due = datetime.datetime(2031, 1, 15, tzinfo=datetime.timezone.utc)
        account = ExpressAccountFactory(
            requirements={
                "currently_due": ["external_account"],
                "past_due": [],
                "current_deadline": int(now_due.timestamp()),
            },
            future_requirements={
                "currently_due": ["company.tax_id"],
                "eventually_due": ["company.tax_id", "company.address.city"],
                "past_due": [],
                "current_deadline": int(future_due.timestamp()),
            },
        )
        client = staff_client("view_expressaccount")

        page = client.get(change_url(account)).content.decode()
        listed = client.get(reverse(CHANGELIST)).content.decode()

        assert account.status == ExpressAccount.Status.ENABLED
        future = page[page.index("Future requirements"):]
        for text in ("company.tax_id", "company.address.city", "Jan. 15, 2031"):
            assert text in future, text
        assert "March 1, 2031" in page
        assert "Jan. 15, 2031" in listed  # the deadline column: the earliest one

    @pytest.mark.parametrize(
        ("reason", "past_due", "words"),
        [
            ("rejected.platform_fraud", [], "Rejected by this platform: fraud."),
            ("other", ["business_profile.url"], "the user can resolve it"),
            ("action_required.requested_capabilities", [], "the platform must request one"),
        ],
    )
    def test_says_who_disabled_the_account_and_what_lifts_it(self, reason, past_due, words):
        account = ExpressAccountFactory(
            disabled_reason=reason,
            requirements={"past_due": past_due, "disabled_reason": reason},
        )
        page = staff_client("view_expressaccount").get(change_url(account)).content.decode()
        assert f"<code>{reason}</code>: " in page
        assert words in page

    def test_live_accounts_link_to_the_live_dashboard(self):
        account = ExpressAccountFactory(livemode=True)
        response = staff_client("view_expressaccount").get(change_url(account))
        assert (
            f'href="https://dashboard.stripe.com/connect/accounts/{account.stripe_id}"'
            in response.content.decode()
        )

    def test_view_only_staff_cannot_post(self):
        account = ExpressAccountFactory()
        response = staff_client("view_expressaccount").post(change_url(account), {})
        assert response.status_code == 403

    def test_nothing_is_edited_on_the_change_page_even_with_change(self):
        # Stripe owns the fields, and the user changes only through "Reassign"
        # (its own permission: tests/test_admin_reassign.py).
        account = ExpressAccountFactory(onboarding=True)
        new_owner = UserFactory()
        client = staff_client("view_expressaccount", "change_expressaccount")

        page = client.get(change_url(account))
        assert page.status_code == 200
        assert list(page.context["adminform"].form.fields) == []
        assert 'name="_save"' not in page.content.decode()

        response = client.post(
            change_url(account),
            {"user": new_owner.pk, "charges_enabled": "on", "status": "enabled"},
        )
        assert response.status_code == 403
        account.refresh_from_db()
        assert account.user != new_owner
        assert not account.charges_enabled
        assert account.status == ExpressAccount.Status.ONBOARDING

    def test_no_one_adds_accounts_by_hand(self):
        url = reverse("admin:django_stripe_express_expressaccount_add")
        assert superuser_client().get(url).status_code == 403


class TestRefreshAction:
    def test_needs_the_change_permission(self, fake_stripe):
        account = stripe_account(fake_stripe)
        fake_stripe.complete_onboarding(account.stripe_id)
        client = staff_client("view_expressaccount")

        response = post_action(client, "refresh_from_stripe", [account])

        assert response.status_code == 200
        assert fake_stripe.requests == []
        account.refresh_from_db()
        assert account.status == ExpressAccount.Status.ONBOARDING

    def test_refreshes_each_account_and_reports_failures_one_by_one(self, fake_stripe):
        good = stripe_account(fake_stripe)
        fake_stripe.complete_onboarding(good.stripe_id)
        broken = stripe_account(fake_stripe)
        fake_stripe.fail_next(f"GET /v1/accounts/{broken.stripe_id}", status=400,
                              code="parameter_invalid_empty", message="Boom.")
        client = staff_client("view_expressaccount", "change_expressaccount")

        response = post_action(client, "refresh_from_stripe", [good, broken])

        assert response.status_code == 200
        assert "refresh_from_stripe" in action_names(response)
        msgs = messages_of(response)
        assert f"Account {good.stripe_id} is now Enabled." in msgs
        assert "Refreshed 1 account(s) from Stripe." in msgs
        assert (
            f"Could not refresh account {broken.stripe_id}: Boom. (parameter_invalid_empty)"
        ) in msgs
        assert len(fake_stripe.requests_to("/v1/accounts/", "GET")) == 2  # one per account
        good.refresh_from_db()
        assert good.status == ExpressAccount.Status.ENABLED

    @pytest.mark.parametrize("how", ["deleted", "deauthorized", "unknown"])
    def test_an_account_stripe_no_longer_lets_us_reach_is_marked_disconnected(
        self, fake_stripe, capture_signal, how
    ):
        account = stripe_account(fake_stripe)
        if how == "deleted":
            del fake_stripe.accounts[account.stripe_id]
        elif how == "deauthorized":
            fake_stripe.deauthorize(account.stripe_id)
        else:
            account = ExpressAccountFactory(stripe_id="acct_neverknown")
        deauthorized = capture_signal(account_deauthorized)
        client = staff_client("view_expressaccount", "change_expressaccount")

        response = post_action(client, "refresh_from_stripe", [account])

        assert messages_of(response) == [
            f"Account {account.stripe_id} is now Disconnected.",
            "Refreshed 1 account(s) from Stripe.",
        ]
        account.refresh_from_db()
        assert account.status == ExpressAccount.Status.DISCONNECTED
        assert [kw["account"].pk for kw in deauthorized] == [account.pk]

    def test_unreachable_stripe_is_a_message_not_a_500(self, fake_stripe):
        account = stripe_account(fake_stripe)
        client = staff_client("view_expressaccount", "change_expressaccount")

        with fake_stripe.refuse_connections():
            response = post_action(client, "refresh_from_stripe", [account])

        assert response.status_code == 200
        assert messages_of(response) == [
            f"Could not refresh account {account.stripe_id}: Stripe could not be reached."
        ]


@pytest.fixture
def deauthorized(capture_signal):
    return capture_signal(account_deauthorized)


class TestDisconnectAction:
    def test_not_offered_without_the_delete_permission(self, fake_stripe):
        account = stripe_account(fake_stripe)
        client = staff_client("view_expressaccount", "change_expressaccount")

        response = post_action(client, "disconnect_accounts", [account], post="yes")

        assert "disconnect_accounts" not in action_names(response)
        assert not fake_stripe.is_deauthorized(account.stripe_id)
        account.refresh_from_db()
        assert account.is_connected

    def test_oauth_account_is_confirmed_then_deauthorized_at_stripe(
        self, fake_stripe, deauthorized
    ):
        account = stripe_account(fake_stripe)
        ConnectAttemptFactory(
            user=account.user, account=account, outcome=ConnectAttempt.Outcome.CONNECTED
        )
        client = staff_client("view_expressaccount", "delete_expressaccount")

        page = post_action(client, "disconnect_accounts", [account])

        assert page.templates[0].name.endswith("disconnect_confirmation.html")
        assert "access will be revoked at Stripe" in page.content.decode()
        account.refresh_from_db()
        assert account.is_connected
        assert fake_stripe.requests == []

        response = post_action(client, "disconnect_accounts", [account], post="yes")

        assert "Disconnected 1 account(s)." in messages_of(response)
        assert fake_stripe.is_deauthorized(account.stripe_id)
        (call,) = fake_stripe.requests_to("/oauth/deauthorize")
        assert call.form["stripe_user_id"] == account.stripe_id
        account.refresh_from_db()
        assert account.deauthorized_at is not None
        assert account.status == ExpressAccount.Status.DISCONNECTED
        assert [d["account"].pk for d in deauthorized] == [account.pk]
        assert deauthorized[0]["event"] is None

    def test_account_links_account_is_disconnected_locally_only(
        self, fake_stripe, deauthorized
    ):
        account = stripe_account(fake_stripe)
        # What the Account Links flow records when it connects the account.
        account.connected_via = ConnectAttempt.Flow.ACCOUNT_LINKS
        account.save()
        client = staff_client("view_expressaccount", "delete_expressaccount")

        page = post_action(client, "disconnect_accounts", [account])
        assert "marked disconnected here only" in page.content.decode()

        post_action(client, "disconnect_accounts", [account], post="yes")

        assert fake_stripe.requests == []
        assert not fake_stripe.is_deauthorized(account.stripe_id)
        account.refresh_from_db()
        assert account.status == ExpressAccount.Status.DISCONNECTED
        assert len(deauthorized) == 1

    def test_stripe_refusal_leaves_the_account_connected(self, fake_stripe, deauthorized):
        account = stripe_account(fake_stripe)
        fake_stripe.fail_next(
            "/oauth/deauthorize", status=401, code="invalid_client",
            message="No such application: 'ca_fake'",
        )
        client = staff_client("view_expressaccount", "delete_expressaccount")

        response = post_action(client, "disconnect_accounts", [account], post="yes")

        assert response.status_code == 200
        assert messages_of(response) == [
            f"Could not disconnect account {account.stripe_id}: No such application: 'ca_fake' "
            "(invalid_client)"
        ]
        account.refresh_from_db()
        assert account.is_connected
        assert deauthorized == []

    def test_unreachable_stripe_leaves_the_account_connected(self, fake_stripe):
        account = stripe_account(fake_stripe)
        client = staff_client("view_expressaccount", "delete_expressaccount")

        with fake_stripe.refuse_connections():
            response = post_action(client, "disconnect_accounts", [account], post="yes")

        assert messages_of(response) == [
            f"Could not disconnect account {account.stripe_id}: Stripe could not be reached."
        ]
        account.refresh_from_db()
        assert account.is_connected

    def test_a_missing_secret_key_is_a_message_not_a_500(self, fake_stripe, settings):
        account = stripe_account(fake_stripe)
        settings.STRIPE_EXPRESS = {**settings.STRIPE_EXPRESS, "SECRET_KEY": ""}
        client = staff_client("view_expressaccount", "delete_expressaccount")

        response = post_action(client, "disconnect_accounts", [account], post="yes")

        assert response.status_code == 200
        (message,) = messages_of(response)
        assert message.startswith(f"Could not disconnect account {account.stripe_id}: ")
        assert "SECRET_KEY" in message
        account.refresh_from_db()
        assert account.is_connected

    def test_already_disconnected_at_stripe_is_marked_here(self, fake_stripe, deauthorized):
        # A missed account.application.deauthorized event: Stripe says "not
        # connected", which the action takes as done.
        account = ExpressAccountFactory(stripe_id="acct_notatstripe")
        client = staff_client("view_expressaccount", "delete_expressaccount")

        response = post_action(client, "disconnect_accounts", [account], post="yes")

        assert messages_of(response) == ["Disconnected 1 account(s)."]
        account.refresh_from_db()
        assert not account.is_connected
        assert len(deauthorized) == 1

    def test_already_disconnected_accounts_are_skipped(self, fake_stripe):
        account = ExpressAccountFactory(disconnected=True)
        client = staff_client("view_expressaccount", "delete_expressaccount")

        response = post_action(client, "disconnect_accounts", [account], post="yes")

        assert messages_of(response) == [f"Account {account.stripe_id} was already disconnected."]
        assert fake_stripe.requests == []


# -- issue 24: the delete permission disconnects, it never deletes ----------------------


@pytest.mark.django_db
def test_the_delete_permission_cannot_hard_delete_an_account():
    from django.urls import reverse

    from django_stripe_express.models import ExpressAccount

    from .admin_support import staff_client
    from .factories import ExpressAccountFactory

    account = ExpressAccountFactory()
    client = staff_client("view_expressaccount", "delete_expressaccount")
    delete_url = reverse("admin:django_stripe_express_expressaccount_delete", args=[account.pk])
    changelist = reverse("admin:django_stripe_express_expressaccount_changelist")

    assert client.post(delete_url, {"post": "yes"}).status_code == 403
    page = client.get(changelist).content.decode()
    assert 'value="delete_selected"' not in page
    assert 'value="disconnect_accounts"' in page
    client.post(changelist, {"action": "delete_selected", "_selected_action": [account.pk],
                             "post": "yes"})
    assert ExpressAccount.objects.filter(pk=account.pk).exists()
