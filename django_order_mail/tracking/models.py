"""Models of delivery tracking, suppression and subject-line A/B tests.

The tracking app's own models (app label ``order_mail_tracking``).
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from ..events import COMMERCIAL_EVENTS, event_choices, get_event
from ..outbox.addresses import normalize_address
from ..outbox.models import OutboxEmail
from ..rendering.i18n import resolve_language
from ..rendering.sandbox import UnsafeTemplateError, check_source


class TrackingEvent(models.Model):
    """One ESP webhook event, stored once.

    ``(esp, event_id)`` is unique: a webhook the ESP delivers twice is
    recognised and ignored. ESPs that give no event id (Postmark's deliveries
    and opens) get a fallback id, a hash of the whole payload, which is the
    same for a resent webhook and differs between two real opens.
    """

    esp = models.CharField(_("ESP"), max_length=40)
    event_id = models.CharField(_("event id"), max_length=255)
    event_type = models.CharField(_("event"), max_length=20, db_index=True)
    email = models.ForeignKey(
        OutboxEmail,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="tracking_events",
        verbose_name=_("email"),
    )
    message_id = models.CharField(_("ESP message id"), max_length=255, blank=True, db_index=True)
    recipient = models.CharField(_("recipient"), max_length=254, blank=True)
    occurred_at = models.DateTimeField(_("reported time"), null=True, blank=True)
    received_at = models.DateTimeField(_("received at"), default=timezone.now, db_index=True)
    reject_reason = models.CharField(_("reject reason"), max_length=20, blank=True)
    description = models.TextField(_("detail"), blank=True)
    click_url = models.TextField(_("clicked link"), blank=True)

    class Meta:
        verbose_name = _("tracking event")
        verbose_name_plural = _("tracking events")
        ordering = ("-received_at", "-id")
        constraints = [
            models.UniqueConstraint(fields=["esp", "event_id"], name="order_mail_tracking_event_uniq"),
        ]

    def __str__(self):
        return f"{self.esp} {self.event_type} {self.message_id}"


def scope_choices() -> list[tuple[str, Any]]:
    """What a suppression entry may stop: all mail, commercial mail, or one
    registered commercial event (a callable, so an event registered by
    another app or the shop needs no migration here)."""
    only = []
    for name in COMMERCIAL_EVENTS:
        event = get_event(name)
        label = event.label if event is not None else name
        only.append((name, format_lazy(_("Only: {label}"), label=label)))
    return [*Suppression.Scope.choices, *only]


class Suppression(models.Model):
    """An address that must not get (some) email.

    A hard bounce suppresses everything; a spam complaint and an unsubscribe
    suppress commercial email only (``COMMERCIAL_EVENTS``) or one commercial
    event: order confirmations and shipping emails still go to the customer.
    One row per (address, scope); what a row stops is decided by
    :func:`django_order_mail.tracking.suppression.blocks`.
    """

    class Reason(models.TextChoices):
        HARD_BOUNCE = "hard_bounce", _("Hard bounce")
        COMPLAINT = "complaint", _("Spam complaint")
        UNSUBSCRIBE = "unsubscribe", _("Unsubscribed")
        MANUAL = "manual", _("Added by staff")

    class Scope(models.TextChoices):
        ALL = "all", _("All emails")
        COMMERCIAL = "commercial", _("Commercial emails (abandoned cart, feedback requests)")
        # Besides these two, one registered commercial event: scope_choices().

    address = models.EmailField(_("address"), max_length=254, db_index=True)
    reason = models.CharField(_("reason"), max_length=20, choices=Reason.choices, default=Reason.MANUAL)
    scope = models.CharField(_("applies to"), max_length=40, choices=scope_choices, default=Scope.ALL)
    source = models.CharField(
        _("source"), max_length=100, blank=True, help_text=_("Where it came from (webhook, link, staff).")
    )
    note = models.TextField(_("note"), blank=True)
    email = models.ForeignKey(
        OutboxEmail,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="suppressions",
        verbose_name=_("caused by email"),
    )
    created_at = models.DateTimeField(_("since"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("suppressed address")
        verbose_name_plural = _("suppression list")
        ordering = ("-created_at", "-id")
        constraints = [
            models.UniqueConstraint(fields=["address", "scope"], name="order_mail_suppression_uniq"),
        ]

    def __str__(self):
        return f"{self.address} ({self.get_scope_display()})"

    def save(self, *args, **kwargs):
        self.address = normalize_address(self.address)
        super().save(*args, **kwargs)

    def clean(self):
        # Before the unique (address, scope) check of forms, not only on save.
        self.address = normalize_address(self.address)

    def covers(self, event: str) -> bool:
        from .suppression import blocks

        return blocks(self, event)

    def describe(self) -> str:
        """One line for the send log (English, like the rest of the log)."""
        from .suppression import effective_scope

        source = f", {self.source}" if self.source else ""
        return (
            f"address suppressed ({self.reason.replace('_', ' ')}{source}, "
            f"since {self.created_at:%Y-%m-%d}; applies to: {effective_scope(self)})"
        )


def validate_subject_template(value: str) -> None:
    if "\n" in value or "\r" in value:
        raise ValidationError(_("A subject must be one line."))
    try:
        check_source(value, allow_include=False)  # the sandbox of every staff text
    except UnsafeTemplateError as exc:
        raise ValidationError(_("Template syntax error: %(error)s"), params={"error": exc}) from exc


class SubjectTest(models.Model):
    """A subject-line A/B test for one mail event in one language.

    While active, each email of the event gets one of the variants by weight
    (the choice is stored on the outbox row). Promoting a winner sends every
    later email with the winning subject until the test is switched off.
    """

    name = models.CharField(_("name"), max_length=100)
    event = models.CharField(_("event"), max_length=40, choices=event_choices)
    language = models.CharField(
        _("language"),
        max_length=15,
        blank=True,
        help_text=_(
            "The language the variants are written in (e.g. 'nb'): only emails in this language "
            "take part. Empty: the site's default language."
        ),
    )
    active = models.BooleanField(_("active"), default=True)
    winner = models.ForeignKey(
        "SubjectVariant",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("promoted winner"),
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    promoted_at = models.DateTimeField(_("winner promoted at"), null=True, blank=True)

    class Meta:
        verbose_name = _("subject A/B test")
        verbose_name_plural = _("subject A/B tests")
        ordering = ("-created_at", "-id")

    def __str__(self):
        return self.name

    def effective_language(self) -> str:
        """The language the variants are written in: the test's own, else
        the site's default. A test never applies to emails in another
        language, so no customer gets a subject in a language that is not
        the email's (``docs/tracking.rst``)."""
        return resolve_language(self.language or settings.LANGUAGE_CODE).lower()

    def clean(self):
        self.language = self.language or settings.LANGUAGE_CODE
        if self.active and self.event:
            others = SubjectTest.objects.filter(active=True, event=self.event).exclude(pk=self.pk)
            if any(t.effective_language() == self.effective_language() for t in others):
                raise ValidationError(
                    _("Another active test already covers this event and language; switch it off first.")
                )
        if self.winner_id and self.pk and self.winner.test_id != self.pk:
            raise ValidationError({"winner": _("The winner must be one of this test's variants.")})


class SubjectVariant(models.Model):
    """One subject line of a test: a one-line Django template rendered with
    the email's context (``{{ order_number }}``, ``{{ customer_name }}``...)."""

    test = models.ForeignKey(SubjectTest, on_delete=models.CASCADE, related_name="variants")
    label = models.CharField(_("label"), max_length=20, help_text=_("A, B, ..."))
    subject = models.CharField(_("subject"), max_length=300, validators=[validate_subject_template])
    weight = models.PositiveSmallIntegerField(
        _("weight"), default=1, help_text=_("Share of the traffic relative to the other variants.")
    )

    class Meta:
        verbose_name = _("subject variant")
        verbose_name_plural = _("subject variants")
        ordering = ("test", "label", "id")

    def __str__(self):
        return f"{self.test.name} · {self.label}"


class SubjectAssignment(models.Model):
    """The subject variant an outbox email was given (:mod:`.ab`): kept with
    the email, so a retry or a re-render uses the same subject, and counted
    per variant for the test's results."""

    email = models.OneToOneField(
        OutboxEmail,
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="subject_assignment",
        verbose_name=_("email"),
    )
    variant = models.ForeignKey(
        SubjectVariant,
        on_delete=models.CASCADE,
        related_name="assignments",
        verbose_name=_("subject variant"),
    )

    class Meta:
        verbose_name = _("subject assignment")
        verbose_name_plural = _("subject assignments")

    def __str__(self):
        return f"{self.email_id} → {self.variant_id}"


class EmailAttribution(models.Model):
    """An order credited to the email whose link its customer clicked last
    before placing it (:mod:`.attribution`): one per order, with the email's
    subject variant and the order's total in its currency. No address is
    stored: the order and the email say whose it is."""

    order_type = models.ForeignKey(ContentType, on_delete=models.CASCADE, related_name="+")
    order_id = models.CharField(_("order id"), max_length=64)
    order_reference = models.CharField(_("order number"), max_length=64, blank=True)
    email = models.ForeignKey(
        OutboxEmail,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="attributions",
        verbose_name=_("credited email"),
    )
    #: Kept apart from the email, which retention or erasure may delete.
    event = models.CharField(_("email"), max_length=40, db_index=True)
    variant = models.ForeignKey(
        SubjectVariant,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="attributions",
        verbose_name=_("subject variant"),
    )
    click = models.ForeignKey(
        TrackingEvent,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("click"),
    )
    clicked_at = models.DateTimeField(_("clicked at"))
    placed_at = models.DateTimeField(_("order placed at"), db_index=True)
    revenue = models.DecimalField(_("revenue"), max_digits=14, decimal_places=2, null=True, blank=True)
    currency = models.CharField(_("currency"), max_length=3, blank=True)

    class Meta:
        verbose_name = _("order attributed to an email")
        verbose_name_plural = _("orders attributed to emails")
        ordering = ("-placed_at", "-id")
        constraints = [
            models.UniqueConstraint(fields=["order_type", "order_id"], name="order_mail_attribution_uniq"),
        ]

    def __str__(self):
        return f"{self.order_reference or self.order_id} → {self.event}"


class EmailAnalytics(OutboxEmail):
    """Admin entry of the analytics page (no table of its own)."""

    class Meta:
        proxy = True
        verbose_name = _("email analytics")
        verbose_name_plural = _("email analytics")
