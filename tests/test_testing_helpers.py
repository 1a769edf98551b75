"""What `django_stripe_express.testing` gives a host project's tests on the
default path: an onboarded v2 account in one line, the thin event that account
really receives, and task mode that runs during a test."""

from __future__ import annotations

import pytest

from django_stripe_express.models import ExpressAccount, WebhookEvent

from .factories import UserFactory

pytestmark = pytest.mark.django_db

REQUIREMENTS = "v2.core.account[requirements].updated"


def test_connected_account_is_an_onboarded_v2_account_as_the_flow_stores_it(fake_stripe):
    user = UserFactory(email="ann@example.com")

    account = fake_stripe.connected_account(user)

    stored = ExpressAccount.objects.get(user=user)
    assert stored.pk == account.pk
    assert (stored.accounts_api, stored.connected_via, stored.status) == (
        "v2", "account_links", "enabled"
    )
    assert stored.payouts_enabled
    assert fake_stripe.accounts[stored.stripe_id]["contact_email"] == "ann@example.com"


def test_connected_account_not_onboarded_and_v1(fake_stripe):
    assert fake_stripe.connected_account(UserFactory(), onboarded=False).status == "onboarding"
    v1 = fake_stripe.connected_account(UserFactory(), accounts_api="v1")
    assert (v1.accounts_api, v1.status) == ("v1", "enabled")


def test_the_thin_event_of_a_v2_account_restricts_it(client, fake_stripe):
    account = fake_stripe.connected_account(UserFactory())
    fake_stripe.require_verification(account.stripe_id)
    event = fake_stripe.build_thin_event(REQUIREMENTS, account=account.stripe_id)

    assert fake_stripe.post_event(client, event).status_code == 200

    account.refresh_from_db()
    assert account.status == "restricted"


@pytest.fixture
def project_in_task_mode(settings):
    """A project's own settings: task mode with a database queue (no worker in tests)."""
    settings.STRIPE_EXPRESS = {**settings.STRIPE_EXPRESS, "WEBHOOK_PROCESSING": "task"}
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}


def test_task_mode_runs_the_task_during_a_test(project_in_task_mode, client, fake_stripe, settings):
    assert settings.TASKS["default"]["BACKEND"].endswith(".immediate.ImmediateBackend")
    account = fake_stripe.connected_account(UserFactory())
    fake_stripe.require_verification(account.stripe_id)
    event = fake_stripe.build_thin_event(REQUIREMENTS, account=account.stripe_id)

    assert fake_stripe.deliver(client, event).status_code == 200

    account.refresh_from_db()
    assert account.status == "restricted"
    assert WebhookEvent.objects.get().status == WebhookEvent.Status.PROCESSED


def test_inline_mode_keeps_the_projects_tasks(settings, fake_stripe):
    # Django 6.0+ has a default TASKS (the ImmediateBackend); the backport none.
    # Either way, in inline mode the fixture leaves it as the project had it.
    from django.conf import global_settings

    assert getattr(settings, "TASKS", None) == getattr(global_settings, "TASKS", None)


def test_no_test_reads_files_outside_the_repository():
    # Every install has stripe's typed classes; nobody has ../shared.
    from pathlib import Path

    here = Path(__file__).resolve()
    outside = ('"shared" / "stripe"', "../shared", '"shared" /')
    offenders = [
        f"{path.name}: {marker}"
        for path in here.parent.rglob("*.py") if path != here
        for marker in outside if marker in path.read_text()
    ]
    assert offenders == []


def test_the_platforms_own_calls_use_the_apps_client(fake_stripe):
    # docs/settings.md shows host code the public way to the configured client.
    from pathlib import Path

    from django_stripe_express.stripe_api import get_client

    doc = (Path(__file__).resolve().parent.parent / "docs" / "settings.md").read_text()
    assert "from django_stripe_express.stripe_api import get_client" in doc
    account = fake_stripe.connected_account(UserFactory())
    # The same keys, timeouts and fake as the app's own calls.
    assert get_client().v1.accounts.retrieve(account.stripe_id).id == account.stripe_id
