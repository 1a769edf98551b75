"""The OAuth state is stored as a keyed hash only, and the admin cannot probe it.

A pending state is a bearer token: whoever holds it can finish onboarding for
its user (and route the victim's payouts to an Express account of their own).
Nothing readable in the database, and no admin lookup, may give it away.
"""

from __future__ import annotations

import importlib
from types import SimpleNamespace

import pytest
from django.apps import apps
from django.urls import reverse

from django_stripe_express.models import (
    ConnectAttempt,
    ExpressAccount,
    candidate_hashes,
    hash_state,
)

from .admin_support import staff_client
from .factories import ConnectAttemptFactory, ExpressAccountFactory
from .oauth_support import back_to_app, callback, query_of, start, submit_hosted_page

CHANGELIST = "admin:django_stripe_express_connectattempt_changelist"


def test_the_database_never_holds_the_state(logged_in_client, fake_stripe):
    state = query_of(start(logged_in_client))["state"][0]

    row = ConnectAttempt.objects.values().get()
    assert not [name for name, value in row.items() if state in str(value)]
    assert row["state_hash"] == hash_state(state)
    assert len(row["state_hash"]) == 64
    # Once the flow ends, still only the hash.
    submitted = submit_hosted_page(start(logged_in_client))
    assert back_to_app(logged_in_client, submitted)["Location"] == "/dashboard/"
    final = query_of(submitted)["state"][0]
    row = ConnectAttempt.objects.values().get()
    assert row["outcome"] == ConnectAttempt.Outcome.CONNECTED
    assert not [name for name, value in row.items() if final in str(value)]


@pytest.mark.parametrize(
    "lookup",
    ["state__startswith", "state_hash__startswith", "state_hash__regex", "state_hash__gte"],
)
def test_view_only_staff_cannot_walk_a_state_out_of_the_admin(
    logged_in_client, fake_stripe, lookup
):
    # The attack: filter the changelist on a prefix, keep the character that
    # still lists the pending attempt, repeat. Right and wrong guesses must get
    # the same refusal, never a list.
    state = query_of(start(logged_in_client))["state"][0]
    stored = ConnectAttempt.objects.get().state_hash
    secret = stored if lookup.startswith("state_hash") else state
    right, wrong = secret[:1], "~" if secret[:1] != "~" else "!"
    staff = staff_client("view_connectattempt")

    answers = [staff.get(reverse(CHANGELIST), {lookup: guess}) for guess in (right, wrong)]

    assert answers[0].status_code == answers[1].status_code
    for answer in answers:
        assert answer.status_code in (302, 400), answer.status_code
        assert answer.status_code == 400 or "e=1" in answer["Location"]
        assert "cl" not in (answer.context or {})


def test_the_state_is_not_reachable_through_the_account_admin(user):
    ExpressAccountFactory(user=user)
    attempt = ConnectAttemptFactory(user=user)
    staff = staff_client("view_expressaccount")
    url = reverse("admin:django_stripe_express_expressaccount_changelist")
    answer = staff.get(url, {"attempts__state_hash__startswith": attempt.state_hash[:1]})
    assert answer.status_code == 400


def test_a_pending_state_keeps_working_across_a_secret_key_rotation(
    client, user, fake_stripe, settings
):
    old_key, new_key = "the-old-key-" + "x" * 40, "the-new-key-" + "y" * 40
    settings.SECRET_KEY = old_key
    client.force_login(user)
    location = submit_hosted_page(start(client))
    state = query_of(location)["state"][0]

    settings.SECRET_KEY = new_key
    settings.SECRET_KEY_FALLBACKS = []
    assert ConnectAttempt.objects.get().state_hash not in candidate_hashes(state)

    # Django's way to rotate: the old key in SECRET_KEY_FALLBACKS (sessions too).
    settings.SECRET_KEY_FALLBACKS = [old_key]
    assert back_to_app(client, location)["Location"] == "/dashboard/"
    assert ExpressAccount.objects.get().user == user


def test_the_migration_hashes_states_stored_before_it(logged_in_client, user, fake_stripe):
    """0002_hardening turns each stored state into its hash: an attempt that was
    pending during the upgrade still completes with the state Stripe sends back."""
    raw = "a-state-issued-before-the-upgrade-0123456789ab"
    attempt = ConnectAttemptFactory(user=user)
    ConnectAttempt.objects.filter(pk=attempt.pk).update(state_hash=raw)  # as 0001 stored it
    migration = importlib.import_module("django_stripe_express.migrations.0002_hardening")

    editor = SimpleNamespace(connection=SimpleNamespace(alias="default"))
    migration.hash_stored_states(apps, editor)

    assert ConnectAttempt.objects.get().state_hash == hash_state(raw)
    response = callback(logged_in_client, state=raw, code=fake_stripe.issue_code())
    assert response["Location"] == "/dashboard/"
    assert ConnectAttempt.objects.get().outcome == ConnectAttempt.Outcome.CONNECTED


@pytest.mark.django_db(transaction=True, databases=["default", "replica"])
def test_the_migration_runs_both_ways():
    from django.core.management import call_command

    call_command("migrate", "django_stripe_express", "0001", verbosity=0)
    call_command("migrate", "django_stripe_express", verbosity=0)
    assert [f.name for f in ConnectAttempt._meta.get_fields() if f.name.startswith("state")] == [
        "state_hash"
    ]
    assert ConnectAttempt.objects.count() == 0
