"""Two small partial B-trees for the send log's filters on failed emails by
channel or by event (``docs/performance.md``, *Growth*).

Combined through the full status, channel and event indexes, PostgreSQL
ANDs a bitmap of every row of the channel or event: 142 ms for the page of
failed ``amazon_fbm`` emails at 10,000,000 rows. Only failed rows are
indexed here, so they stay small however large the log grows.

On PostgreSQL they are built with ``CREATE INDEX CONCURRENTLY`` (hence
``atomic = False``): the table is read once, and workers keep writing the
send log meanwhile. Other databases build them as ``AddIndex`` does.
"""

from django.db import migrations, models

INDEXES = [
    models.Index(
        condition=models.Q(("status", "failed")),
        fields=["channel", "-created_at"],
        name="order_mail_failed_channel_idx",
    ),
    models.Index(
        condition=models.Q(("status", "failed")),
        fields=["event", "-created_at"],
        name="order_mail_failed_event_idx",
    ),
]


def _each_index(action: str):
    """A ``RunPython`` function that runs the schema editor's ``action``
    (``add_index`` or ``remove_index``) for each index, concurrently on
    PostgreSQL."""

    def run(apps, schema_editor):
        model = apps.get_model("django_order_mail", "OutboxEmail")
        concurrently = {"concurrently": True} if schema_editor.connection.vendor == "postgresql" else {}
        for index in INDEXES:
            getattr(schema_editor, action)(model, index, **concurrently)

    return run


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("contenttypes", "0002_remove_content_type_name"),
        ("django_order_mail", "0007_recipient_case_insensitive_index"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AddIndex(model_name="outboxemail", index=index) for index in INDEXES
            ],
            database_operations=[migrations.RunPython(_each_index("add_index"), _each_index("remove_index"))],
        ),
    ]
