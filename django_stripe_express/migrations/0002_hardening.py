"""Hardening (issue 15): the OAuth state is stored as a keyed hash only.

The column is renamed ``state`` -> ``state_hash`` and every stored state is
replaced by ``state_hash.hash_state(state)`` (HMAC-SHA256 with SECRET_KEY), so
an attempt that was pending when you upgraded still completes: the callback
hashes the state Stripe sends back and finds it. Going back (``migrate
django_stripe_express 0001``) cannot restore the states: those pending
attempts then fail as unknown ("start again"), nothing else changes.
"""

from django.db import migrations, models

from django_stripe_express.state_hash import hash_state

BATCH = 500


def hash_stored_states(apps, schema_editor):
    ConnectAttempt = apps.get_model("django_stripe_express", "ConnectAttempt")
    attempts = ConnectAttempt.objects.using(schema_editor.connection.alias)
    batch = []
    for attempt in attempts.only("pk", "state_hash").order_by("pk").iterator(chunk_size=BATCH):
        attempt.state_hash = hash_state(attempt.state_hash)
        batch.append(attempt)
        if len(batch) == BATCH:
            attempts.bulk_update(batch, ["state_hash"])
            batch = []
    if batch:
        attempts.bulk_update(batch, ["state_hash"])


class Migration(migrations.Migration):

    dependencies = [
        ("django_stripe_express", "0001_initial"),
    ]

    operations = [
        migrations.RenameField(
            model_name="connectattempt",
            old_name="state",
            new_name="state_hash",
        ),
        migrations.RunPython(hash_stored_states, migrations.RunPython.noop, elidable=False),
        migrations.AlterField(
            model_name="connectattempt",
            name="state_hash",
            field=models.CharField(editable=False, max_length=64, unique=True, verbose_name="state hash"),
        ),
    ]
