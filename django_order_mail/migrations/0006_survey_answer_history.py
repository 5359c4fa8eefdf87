"""The answer history of survey responses, and complaints that stay in the
follow-up queue until staff resolve them.

A response that is low today is a complaint already. Earlier answers of
existing responses were overwritten and cannot be restored; their history
starts with the state they have now (recorded the first time they change).
"""

import django.db.models.deletion
import django.utils.timezone
from django.db import migrations, models


def mark_low_responses_as_complaints(apps, schema_editor):
    SurveyResponse = apps.get_model("django_order_mail", "SurveyResponse")
    SurveyResponse.objects.using(schema_editor.connection.alias).filter(is_low=True).update(complaint=True)


class Migration(migrations.Migration):
    dependencies = [
        ("django_order_mail", "0005_subject_test_language"),
    ]

    operations = [
        migrations.AddField(
            model_name="surveyresponse",
            name="complaint",
            field=models.BooleanField(
                db_index=True,
                default=False,
                help_text="A low score was given at some point: the case stays in the follow-up queue, whatever the score is now.",
                verbose_name="complaint",
            ),
        ),
        migrations.CreateModel(
            name="SurveyAnswer",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "recorded_at",
                    models.DateTimeField(default=django.utils.timezone.now, verbose_name="answered at"),
                ),
                (
                    "via",
                    models.CharField(
                        blank=True,
                        choices=[("click", "rating link"), ("form", "survey form")],
                        max_length=8,
                        verbose_name="via",
                    ),
                ),
                (
                    "scale",
                    models.CharField(
                        choices=[("csat", "Satisfaction (1-5)"), ("nps", "Net Promoter Score (0-10)")],
                        default="csat",
                        max_length=8,
                        verbose_name="scale",
                    ),
                ),
                ("score", models.PositiveSmallIntegerField(verbose_name="score")),
                ("comment", models.TextField(blank=True, verbose_name="comment")),
                ("answers", models.JSONField(blank=True, default=dict, verbose_name="answers")),
                ("is_low", models.BooleanField(default=False, verbose_name="low score")),
                (
                    "email",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to="django_order_mail.outboxemail",
                        verbose_name="feedback email",
                    ),
                ),
                (
                    "response",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="history",
                        to="django_order_mail.surveyresponse",
                        verbose_name="survey response",
                    ),
                ),
            ],
            options={
                "verbose_name": "recorded answer",
                "verbose_name_plural": "answer history",
                "ordering": ("recorded_at", "id"),
            },
        ),
        migrations.RunPython(mark_low_responses_as_complaints, migrations.RunPython.noop, elidable=True),
    ]
