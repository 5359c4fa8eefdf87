"""Product reviews, their photos and their history.

One :class:`ProductReview` per product per order (unique on the order and
the product id): a later click or post of the same customer updates it
rather than adding a second opinion. It points at the order generically
(content type + id, as the outbox does) and at the email whose link was
used, so a link never needs to carry anything but that email's id.

Every change - the customer's and the moderators' - is kept as a
:class:`ReviewRevision`. Every review waits for moderation (``pending``),
whatever its rating: the app never filters, hides or orders reviews by
rating (``docs/reviews.rst``, "No review gating").
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

RATING_VALIDATORS = [MinValueValidator(1), MaxValueValidator(5)]
TITLE_MAX_LENGTH = 120
BODY_MAX_LENGTH = 5000
NAME_MAX_LENGTH = 60


class ReviewStatus(models.TextChoices):
    PENDING = "pending", _("Waiting for moderation")
    APPROVED = "approved", _("Published")
    REJECTED = "rejected", _("Rejected")


class ProductReview(models.Model):
    """A customer's review of one product of one order."""

    content_type = models.ForeignKey(ContentType, on_delete=models.PROTECT, verbose_name=_("object type"))
    object_id = models.CharField(_("object id"), max_length=64)
    order = GenericForeignKey("content_type", "object_id")
    product_id = models.CharField(_("product id"), max_length=128, db_index=True)
    product_name = models.CharField(_("product"), max_length=255, blank=True)
    reference = models.CharField(_("order number"), max_length=64, blank=True, db_index=True)
    channel = models.CharField(_("sales channel"), max_length=40, blank=True)
    language = models.CharField(_("language"), max_length=15, blank=True)
    email = models.ForeignKey(
        "django_order_mail.OutboxEmail",
        null=True,
        blank=True,
        # The send log may be pruned; the review stays.
        on_delete=models.SET_NULL,
        related_name="product_reviews",
        verbose_name=_("review email"),
    )
    rating = models.PositiveSmallIntegerField(_("rating"), validators=RATING_VALIDATORS)
    title = models.CharField(_("title"), max_length=TITLE_MAX_LENGTH, blank=True)
    body = models.TextField(_("review"), blank=True)
    display_name = models.CharField(_("shown name"), max_length=NAME_MAX_LENGTH, blank=True)
    verified_buyer = models.BooleanField(
        _("verified buyer"), default=True, help_text=_("The review came from the link in an order email.")
    )
    status = models.CharField(
        _("status"), max_length=10, choices=ReviewStatus.choices, default=ReviewStatus.PENDING, db_index=True
    )
    rejection_reason = models.TextField(
        _("reason for rejecting"), blank=True, help_text=_("Shown to the customer on their review page.")
    )
    public_reply = models.TextField(_("public reply"), blank=True)
    replied_at = models.DateTimeField(_("replied at"), null=True, blank=True)
    moderated_at = models.DateTimeField(_("moderated at"), null=True, blank=True)
    moderated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("moderated by"),
    )
    created_at = models.DateTimeField(_("written at"), default=timezone.now, db_index=True)
    changed_at = models.DateTimeField(
        _("changed by the customer"), default=timezone.now, help_text=_("The customer's last change.")
    )
    updated_at = models.DateTimeField(_("last changed"), auto_now=True)

    class Meta:
        verbose_name = _("product review")
        verbose_name_plural = _("product reviews")
        ordering = ("-created_at", "-id")
        permissions = [("moderate_productreview", _("Can approve and reject product reviews"))]
        constraints = [
            models.UniqueConstraint(
                fields=["content_type", "object_id", "product_id"], name="order_mail_one_review_per_product"
            ),
        ]
        indexes = [
            models.Index(fields=["product_id", "status", "created_at"], name="order_mail_review_product_idx"),
        ]

    def __str__(self):
        return (
            f"{self.product_name or self.product_id} · {self.rating}/5 · {self.reference or self.object_id}"
        )


def photo_path(instance, filename: str) -> str:
    """A random name: the customer's own file name never reaches the storage."""
    extension = filename.rsplit(".", 1)[-1].lower() if "." in filename else "jpg"
    return f"order_mail_reviews/{timezone.now():%Y/%m}/{uuid.uuid4().hex}.{extension}"


class ReviewPhoto(models.Model):
    """A photo of a review, re-encoded without its metadata (:mod:`.photos`)."""

    review = models.ForeignKey(
        ProductReview, on_delete=models.CASCADE, related_name="photos", verbose_name=_("product review")
    )
    image = models.FileField(_("photo"), upload_to=photo_path, max_length=255)
    mime_type = models.CharField(_("type"), max_length=20)
    width = models.PositiveIntegerField(_("width"))
    height = models.PositiveIntegerField(_("height"))
    size = models.PositiveIntegerField(_("size in bytes"))
    created_at = models.DateTimeField(_("added at"), default=timezone.now)

    class Meta:
        verbose_name = _("review photo")
        verbose_name_plural = _("review photos")
        ordering = ("id",)

    def __str__(self):
        return self.image.name


class RevisionSource(models.TextChoices):
    CLICK = "click", _("star link")
    FORM = "form", _("review form")
    MODERATION = "moderation", _("moderation")


class ReviewRevision(models.Model):
    """One recorded state of a review: what it was after each change."""

    review = models.ForeignKey(
        ProductReview, on_delete=models.CASCADE, related_name="history", verbose_name=_("product review")
    )
    recorded_at = models.DateTimeField(_("recorded at"), default=timezone.now)
    via = models.CharField(_("via"), max_length=12, choices=RevisionSource.choices)
    rating = models.PositiveSmallIntegerField(_("rating"))
    title = models.CharField(_("title"), max_length=TITLE_MAX_LENGTH, blank=True)
    body = models.TextField(_("review"), blank=True)
    display_name = models.CharField(_("shown name"), max_length=NAME_MAX_LENGTH, blank=True)
    photo_count = models.PositiveSmallIntegerField(_("photos"), default=0)
    status = models.CharField(_("status"), max_length=10, choices=ReviewStatus.choices)
    note = models.TextField(_("reason or reply"), blank=True)
    email = models.ForeignKey(
        "django_order_mail.OutboxEmail",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("review email"),
    )
    staff_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("staff member"),
    )

    class Meta:
        verbose_name = _("review revision")
        verbose_name_plural = _("review history")
        ordering = ("recorded_at", "id")

    def __str__(self):
        return f"{self.rating}/5 · {self.get_status_display()}"
