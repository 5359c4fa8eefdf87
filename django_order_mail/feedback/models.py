"""What customers answered, and what staff did about it.

One :class:`SurveyResponse` per order: a later click or form post updates it
rather than adding a second opinion of the same customer about the same
order. The response points at the order generically (content type + id, as
the outbox does) and at the outbox email whose link was used, so the token in
the link never needs to carry anything but that email's id.

Every change is also kept as a :class:`SurveyAnswer` (the answer history),
so a complaint that is later overwritten - a 2/5 with a comment, then a
click on 4 - is still there for staff, and a response that was ever low is
a ``complaint`` that stays in the follow-up queue until staff resolve it.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Scale(models.TextChoices):
    CSAT = "csat", _("Satisfaction (1-5)")
    NPS = "nps", _("Net Promoter Score (0-10)")


#: Lowest and highest score of each scale.
SCALE_RANGE: dict[str, tuple[int, int]] = {Scale.CSAT: (1, 5), Scale.NPS: (0, 10)}


class FollowUpStatus(models.TextChoices):
    NEW = "new", _("New")
    CONTACTED = "contacted", _("Contacted")
    RESOLVED = "resolved", _("Resolved")


class SurveyResponse(models.Model):
    """A customer's answer to the feedback request of one order."""

    content_type = models.ForeignKey(ContentType, on_delete=models.PROTECT, verbose_name=_("object type"))
    object_id = models.CharField(_("object id"), max_length=64)
    order = GenericForeignKey("content_type", "object_id")
    reference = models.CharField(_("order number"), max_length=64, blank=True, db_index=True)
    channel = models.CharField(_("sales channel"), max_length=40, blank=True, db_index=True)
    language = models.CharField(_("language"), max_length=15, blank=True)
    email = models.ForeignKey(
        "django_order_mail.OutboxEmail",
        null=True,
        blank=True,
        # The send log may be pruned; the customer's answer stays.
        on_delete=models.SET_NULL,
        related_name="survey_responses",
        verbose_name=_("feedback email"),
    )

    scale = models.CharField(_("scale"), max_length=8, choices=Scale.choices, default=Scale.CSAT)
    score = models.PositiveSmallIntegerField(_("score"))
    comment = models.TextField(_("comment"), blank=True)
    answers = models.JSONField(
        _("answers"), default=dict, blank=True, help_text=_("Optional questions: question id -> answer.")
    )
    is_low = models.BooleanField(
        _("low score"),
        default=False,
        db_index=True,
        help_text=_("At or below ORDER_MAIL['FEEDBACK_LOW_SCORE'] when last answered."),
    )
    complaint = models.BooleanField(
        _("complaint"),
        default=False,
        db_index=True,
        help_text=_(
            "A low score was given at some point: the case stays in the follow-up queue, "
            "whatever the score is now."
        ),
    )
    created_at = models.DateTimeField(_("answered at"), default=timezone.now, db_index=True)
    updated_at = models.DateTimeField(_("last changed"), auto_now=True)

    follow_up_status = models.CharField(
        _("follow-up"), max_length=12, choices=FollowUpStatus.choices, default=FollowUpStatus.NEW
    )
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="order_mail_follow_ups",
        verbose_name=_("assignee"),
    )
    staff_notes = models.TextField(
        _("staff notes"), blank=True, help_text=_("Internal: never shown to the customer.")
    )

    class Meta:
        verbose_name = _("survey response")
        verbose_name_plural = _("survey responses")
        ordering = ("-created_at", "-id")
        constraints = [
            models.UniqueConstraint(fields=["content_type", "object_id"], name="order_mail_one_response"),
        ]
        indexes = [
            models.Index(fields=["scale", "created_at"], name="order_mail_response_scale_idx"),
        ]

    def __str__(self):
        return f"{self.reference or self.object_id} · {self.score}/{self.scale_max}"

    @property
    def scale_max(self) -> int:
        return SCALE_RANGE.get(self.scale, (1, 5))[1]


class AnswerSource(models.TextChoices):
    CLICK = "click", _("rating link")
    FORM = "form", _("survey form")


class SurveyAnswer(models.Model):
    """One recorded state of a response: what it was after each change."""

    response = models.ForeignKey(
        SurveyResponse, on_delete=models.CASCADE, related_name="history", verbose_name=_("survey response")
    )
    recorded_at = models.DateTimeField(_("answered at"), default=timezone.now)
    via = models.CharField(_("via"), max_length=8, choices=AnswerSource.choices, blank=True)
    scale = models.CharField(_("scale"), max_length=8, choices=Scale.choices, default=Scale.CSAT)
    score = models.PositiveSmallIntegerField(_("score"))
    comment = models.TextField(_("comment"), blank=True)
    answers = models.JSONField(_("answers"), default=dict, blank=True)
    is_low = models.BooleanField(_("low score"), default=False)
    email = models.ForeignKey(
        "django_order_mail.OutboxEmail",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("feedback email"),
    )

    class Meta:
        verbose_name = _("recorded answer")
        verbose_name_plural = _("answer history")
        ordering = ("recorded_at", "id")

    def __str__(self):
        return f"{self.score}/{self.scale_max}"

    @property
    def scale_max(self) -> int:
        return SCALE_RANGE.get(self.scale, (1, 5))[1]


class FollowUp(SurveyResponse):
    """The complaints (responses that were ever low), as the admin's
    follow-up queue (same table)."""

    class Meta:
        proxy = True
        verbose_name = _("low-score follow-up")
        verbose_name_plural = _("low-score follow-ups")


class FeedbackSchedule(models.Model):
    """When the feedback request goes, and its reminder (one record, pk 1).

    Saved by staff in the admin; while nobody did, ``FEEDBACK_DELAY_DAYS``
    and ``REVIEWS_REMINDER_DELAY_DAYS`` apply. Read when an email is
    written: requests and reminders already scheduled keep their time.
    """

    SINGLETON_PK = 1

    delay_days = models.PositiveSmallIntegerField(
        _("days after delivery"),
        default=7,
        validators=[MaxValueValidator(365, _("Enter at most 365 days."))],
        help_text=_(
            "Days after the parcel was delivered before the feedback request goes out. A sales channel's "
            "own delay (marketplace rules) still wins."
        ),
    )
    reminder_delay_days = models.PositiveSmallIntegerField(
        _("reminder after (days)"),
        null=True,
        blank=True,
        default=7,
        validators=[
            MinValueValidator(1, _("Enter at least one day, or leave it empty for no reminder.")),
            MaxValueValidator(365, _("Enter at most 365 days.")),
        ],
        help_text=_(
            "Days after the request before the one reminder to review the products (product-review app). "
            "Empty: no reminder. Never sent once the customer reviewed."
        ),
    )
    updated_at = models.DateTimeField(_("last changed"), auto_now=True)
    updated_by = models.CharField(_("changed by"), max_length=150, blank=True, editable=False)

    class Meta:
        verbose_name = _("feedback schedule")
        verbose_name_plural = _("feedback schedule")

    def __str__(self):
        return str(_("Feedback request schedule"))


def saved_schedule() -> FeedbackSchedule | None:
    """Staff's schedule, or None while nobody saved one."""
    return FeedbackSchedule.objects.filter(pk=FeedbackSchedule.SINGLETON_PK).first()
