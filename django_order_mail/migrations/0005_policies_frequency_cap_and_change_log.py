"""The core's staff-edited sending policies: the commercial frequency cap
(one record) and the log of policy changes (``django_order_mail.policies``)."""

import django.core.validators
import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("contenttypes", "0002_remove_content_type_name"),
        ("django_order_mail", "0004_staff_notification"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="FrequencyCap",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "enabled",
                    models.BooleanField(
                        default=True,
                        help_text="Off: no limit on commercial email per customer (transactional email is never capped).",
                        verbose_name="cap commercial email",
                    ),
                ),
                (
                    "max_emails",
                    models.PositiveSmallIntegerField(
                        default=1,
                        help_text="Commercial emails one address may get within the window.",
                        validators=[
                            django.core.validators.MinValueValidator(
                                1, "The cap must allow at least one email."
                            )
                        ],
                        verbose_name="at most (emails)",
                    ),
                ),
                (
                    "hours",
                    models.PositiveSmallIntegerField(
                        default=24,
                        validators=[
                            django.core.validators.MinValueValidator(
                                1, "The window must be at least one hour."
                            ),
                            django.core.validators.MaxValueValidator(
                                744, "The window can be at most 31 days (744 hours)."
                            ),
                        ],
                        verbose_name="within (hours)",
                    ),
                ),
                (
                    "defer",
                    models.JSONField(
                        blank=True,
                        default=list,
                        help_text="Emails of these kinds wait until the cap allows them; any other commercial email over the cap is skipped.",
                        verbose_name="postpone instead of skipping",
                    ),
                ),
                ("updated_at", models.DateTimeField(auto_now=True, verbose_name="last changed")),
                (
                    "updated_by",
                    models.CharField(blank=True, editable=False, max_length=150, verbose_name="changed by"),
                ),
            ],
            options={
                "verbose_name": "commercial frequency cap",
                "verbose_name_plural": "commercial frequency cap",
            },
        ),
        migrations.CreateModel(
            name="SettingChange",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("object_id", models.CharField(max_length=64, verbose_name="record id")),
                ("object_repr", models.CharField(max_length=200, verbose_name="record")),
                ("field", models.CharField(max_length=100, verbose_name="field")),
                ("field_label", models.CharField(max_length=200, verbose_name="what")),
                ("old_value", models.TextField(blank=True, verbose_name="before")),
                ("new_value", models.TextField(blank=True, verbose_name="after")),
                ("changed_by_name", models.CharField(blank=True, max_length=150, verbose_name="changed by")),
                (
                    "changed_at",
                    models.DateTimeField(
                        db_index=True, default=django.utils.timezone.now, verbose_name="changed at"
                    ),
                ),
                (
                    "changed_by",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="staff user",
                    ),
                ),
                (
                    "content_type",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="+",
                        to="contenttypes.contenttype",
                        verbose_name="record type",
                    ),
                ),
            ],
            options={
                "verbose_name": "settings change",
                "verbose_name_plural": "settings changes",
                "ordering": ("-changed_at", "-id"),
                "indexes": [
                    models.Index(fields=["content_type", "object_id"], name="order_mail_change_obj_idx")
                ],
            },
        ),
    ]
