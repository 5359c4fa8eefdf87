"""A B-tree on UPPER(recipient): one address compared case-insensitively
(``recipient__iexact``), as the tracking app's click attribution does on
every placed order and data requests do.

Without it PostgreSQL answered such a lookup through the send log search's
trigram index (migration 0003): 0.3-1.6 s at 10,000,000 rows, inside the
order's transaction (``bench/growth.py``); with it 0.04 ms. Building it took
13 s at 7,500,000 rows on the bench machine, during which the send log takes
no writes: on a large log, create it first with ``CREATE INDEX CONCURRENTLY
order_mail_recipient_ci_idx ON django_order_mail_outboxemail
(UPPER(recipient::text));`` and then ``migrate --fake`` this migration
(docs/data-protection.rst).
"""

import django.db.models.functions.text
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("contenttypes", "0002_remove_content_type_name"),
        ("django_order_mail", "0006_email_content"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="outboxemail",
            index=models.Index(
                django.db.models.functions.text.Upper("recipient"), name="order_mail_recipient_ci_idx"
            ),
        ),
    ]
