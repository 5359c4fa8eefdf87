"""A partial index of the send-log rows that still hold a body, for
retention's body stripping (``docs/performance.md``, *Growth*): without it,
each run read every row it had stripped on earlier runs to find the few new
ones, years of the send log at 10,000,000 rows.

On PostgreSQL it is built with ``CREATE INDEX CONCURRENTLY`` (hence
``atomic = False``), as ``0008_failed_email_indexes`` does: workers keep
writing the send log meanwhile. Other databases build it as ``AddIndex`` does.
"""

from django.db import migrations, models

INDEX = models.Index(
    condition=~models.Q(("body_html", ""), ("body_text", "")),
    fields=["id"],
    name="order_mail_with_body_idx",
)


def _index(action: str):
    def run(apps, schema_editor):
        model = apps.get_model("django_order_mail", "OutboxEmail")
        concurrently = {"concurrently": True} if schema_editor.connection.vendor == "postgresql" else {}
        getattr(schema_editor, action)(model, INDEX, **concurrently)

    return run


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("django_order_mail", "0009_high_value_thresholds_in_other_currencies"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.AddIndex(model_name="outboxemail", index=INDEX)],
            database_operations=[migrations.RunPython(_index("add_index"), _index("remove_index"))],
        ),
    ]
