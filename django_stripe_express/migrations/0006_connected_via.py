from django.db import migrations, models


def from_attempts(apps, schema_editor):
    """Each account's flow from its newest connected attempt (none: left empty,
    and the configured flow is assumed, as before)."""
    ExpressAccount = apps.get_model("django_stripe_express", "ExpressAccount")
    ConnectAttempt = apps.get_model("django_stripe_express", "ConnectAttempt")
    db = schema_editor.connection.alias
    rows = (
        ConnectAttempt.objects.using(db)
        .filter(outcome="connected", account__isnull=False)
        .order_by("account_id", "created_at")
        .values_list("account_id", "flow")
    )
    flows = dict(rows)  # the newest attempt wins
    for account in ExpressAccount.objects.using(db).filter(pk__in=flows):
        account.connected_via = flows[account.pk]
        account.save(update_fields=["connected_via"])


class Migration(migrations.Migration):
    dependencies = [("django_stripe_express", "0005_accounts_v2")]

    operations = [
        migrations.AddField(
            model_name="expressaccount",
            name="connected_via",
            field=models.CharField(
                blank=True,
                choices=[
                    ("oauth", "OAuth"),
                    ("account_links", "Account Links"),
                    ("embedded", "Embedded onboarding"),
                ],
                editable=False,
                max_length=16,
                verbose_name="connected through",
            ),
        ),
        migrations.RunPython(from_attempts, migrations.RunPython.noop),
    ]
