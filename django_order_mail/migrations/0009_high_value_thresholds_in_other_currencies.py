"""High-value orders in more currencies than one: a threshold per currency
(``docs/staff-guide.rst``, *Staff notifications*). A new, empty table; the
rows' own threshold and currency stay as they are."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("django_order_mail", "0008_failed_email_indexes"),
    ]

    operations = [
        migrations.AlterField(
            model_name="staffnotification",
            name="currency",
            field=models.CharField(
                blank=True,
                help_text="The threshold's currency (EUR, NOK, USD...). An order in another currency is compared only with a threshold of its own currency, below.",
                max_length=3,
                verbose_name="currency",
            ),
        ),
        migrations.CreateModel(
            name="HighValueThreshold",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("currency", models.CharField(max_length=3, verbose_name="currency")),
                ("threshold", models.DecimalField(decimal_places=2, max_digits=12, verbose_name="threshold")),
                (
                    "notification",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="other_thresholds",
                        to="django_order_mail.staffnotification",
                        verbose_name="staff notification",
                    ),
                ),
            ],
            options={
                "verbose_name": "threshold in another currency",
                "verbose_name_plural": "thresholds in other currencies",
                "ordering": ("currency",),
                "constraints": [
                    models.UniqueConstraint(
                        fields=("notification", "currency"), name="order_mail_one_threshold_per_currency"
                    )
                ],
            },
        ),
    ]
