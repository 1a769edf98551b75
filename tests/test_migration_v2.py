"""Migration 0005_accounts_v2: accounts that exist before it were made by OAuth or the v1 flow."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from django_stripe_express.models import ExpressAccount

from .factories import UserFactory

APP = "django_stripe_express"


@pytest.mark.django_db(transaction=True)
def test_existing_accounts_become_v1_accounts():
    call_command("migrate", APP, "0004", verbosity=0)
    try:
        loader = MigrationExecutor(connection).loader
        old_apps = loader.project_state((APP, "0004_embedded_flow")).apps
        OldAccount = old_apps.get_model(APP, "ExpressAccount")
        user = UserFactory()
        OldAccount.objects.create(user_id=user.pk, stripe_id="acct_before", details_submitted=True)
    finally:
        call_command("migrate", APP, verbosity=0)

    account = ExpressAccount.objects.get(stripe_id="acct_before")
    assert account.accounts_api == "v1"
    assert account.capability_details == {}
    assert account.details_submitted is True
