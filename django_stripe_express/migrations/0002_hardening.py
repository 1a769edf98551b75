"""Hardening (issue 15): the OAuth state is stored as a keyed hash only, and
reassigning an account to another user has its own permission and record.

The column is renamed ``state`` -> ``state_hash`` and every stored state is
replaced by ``state_hash.hash_state(state)`` (HMAC-SHA256 with SECRET_KEY), so
an attempt that was pending when you upgraded still completes: the callback
hashes the state Stripe sends back and finds it. Going back (``migrate
django_stripe_express 0001``) cannot restore the states: those pending
attempts then fail as unknown ("start again"), nothing else changes.
"""

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models

from django_stripe_express.models import hash_state

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
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
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
        migrations.AlterModelOptions(
            name='expressaccount',
            options={'ordering': ['-connected_at'], 'permissions': [('reassign_expressaccount', 'Can reassign an Express account to another user')], 'verbose_name': 'Express account', 'verbose_name_plural': 'Express accounts'},
        ),
        migrations.CreateModel(
            name='AccountReassignment',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('stripe_id', models.CharField(max_length=255, verbose_name='Stripe account id')),
                ('summary', models.CharField(max_length=1024, verbose_name='summary')),
                ('reason', models.TextField(verbose_name='reason')),
                ('created_at', models.DateTimeField(default=django.utils.timezone.now, verbose_name='at')),
                ('account', models.ForeignKey(null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='reassignments', to='django_stripe_express.expressaccount', verbose_name='Express account')),
                ('by', models.ForeignKey(null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='by')),
                ('from_user', models.ForeignKey(null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='from user')),
                ('to_user', models.ForeignKey(null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='to user')),
            ],
            options={
                'verbose_name': 'account reassignment',
                'verbose_name_plural': 'account reassignments',
                'ordering': ['-created_at', '-pk'],
            },
        ),
    ]
