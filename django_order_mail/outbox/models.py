"""The outbox: one row per customer email, written in the order's transaction.

The row is the source of truth for delivery (the broker message only says
"look at row N now") and it is also the send log staff read in the admin.
"""

from __future__ import annotations

import logging
import uuid

from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.db.models import Q
from django.db.models.functions import Upper
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from ..events import INTERNAL_EVENTS, event_choices, get_event
from .delivery_status import DeliveryStatus

logger = logging.getLogger("django_order_mail.outbox")


class Status(models.TextChoices):
    SCHEDULED = "scheduled", _("Scheduled")
    QUEUED = "queued", _("Queued")
    SENDING = "sending", _("Sending")
    SENT = "sent", _("Sent")
    FAILED = "failed", _("Failed")
    CANCELLED = "cancelled", _("Cancelled")
    SUPPRESSED = "suppressed", _("Suppressed")
    SKIPPED = "skipped", _("Skipped")


#: Statuses a row can still leave on its own (the sweep looks only at these).
ACTIVE_STATUSES = (Status.SCHEDULED, Status.QUEUED, Status.SENDING)
#: Statuses that are final.
FINAL_STATUSES = (
    Status.SENT,
    Status.FAILED,
    Status.CANCELLED,
    Status.SUPPRESSED,
    Status.SKIPPED,
)


class OutboxEmail(models.Model):
    """One email to one customer about one order (or cart) event."""

    idempotency_key = models.CharField(
        _("idempotency key"),
        max_length=255,
        help_text=_("(order, event, shipment): the same key is never sent twice."),
    )
    event = models.CharField(_("event"), max_length=40, choices=event_choices)
    status = models.CharField(_("status"), max_length=12, choices=Status.choices, default=Status.QUEUED)

    # Every index is paid for by each INSERT and each status change (a
    # status UPDATE is not HOT: it touches every index), so the table has
    # only the ones a query needs; see the indexes in Meta.
    content_type = models.ForeignKey(
        ContentType, on_delete=models.PROTECT, verbose_name=_("object type"), db_index=False
    )
    object_id = models.CharField(_("object id"), max_length=64)
    order = GenericForeignKey("content_type", "object_id")
    reference = models.CharField(_("order number"), max_length=64, blank=True)
    shipment = models.ForeignKey(
        "django_order_mail.Shipment",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="emails",
        verbose_name=_("shipment"),
        db_index=False,
    )
    channel = models.CharField(_("sales channel"), max_length=40, blank=True)
    language = models.CharField(_("language"), max_length=15, blank=True)
    recipient = models.EmailField(_("recipient"), max_length=254, blank=True)
    # For staff searching the send log by name (admin: search by part of a
    # name or address); the order's get_mail_customer_name() when written.
    customer_name = models.CharField(_("customer name"), max_length=200, blank=True, default="")

    extra = models.JSONField(
        _("event data"),
        default=dict,
        blank=True,
        help_text=_("Data the event adds to the email context (what changed, refund amount...)."),
    )

    send_after = models.DateTimeField(_("send after"), null=True, blank=True)
    enqueued_at = models.DateTimeField(_("last handed to the broker"), null=True, blank=True)
    claimed_at = models.DateTimeField(_("claimed at"), null=True, blank=True)
    claim_token = models.UUIDField(null=True, blank=True, editable=False)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now, db_index=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    last_error = models.TextField(_("last error"), blank=True)
    esp_message_id = models.CharField(_("ESP message id"), max_length=255, blank=True)
    # What the ESP's webhooks reported after accepting the message
    # (tracking.receivers); the delivery status never moves backwards.
    delivery_status = models.CharField(
        _("delivery status"), max_length=12, choices=DeliveryStatus.choices, blank=True, default=""
    )
    delivery_status_at = models.DateTimeField(_("delivery status at"), null=True, blank=True)
    delivered_at = models.DateTimeField(_("delivered at"), null=True, blank=True)
    opened_at = models.DateTimeField(_("first opened at"), null=True, blank=True)
    clicked_at = models.DateTimeField(_("first clicked at"), null=True, blank=True)
    open_count = models.PositiveIntegerField(_("opens"), default=0)
    click_count = models.PositiveIntegerField(_("clicks"), default=0)

    subject = models.CharField(_("subject"), max_length=998, blank=True)
    body_text = models.TextField(_("plain text as sent"), blank=True)
    body_html = models.TextField(_("HTML as sent"), blank=True)

    resend_of = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="resends",
        verbose_name=_("resend of"),
        db_index=False,
    )
    is_test = models.BooleanField(_("test email"), default=False)

    #: Not a field: the sender sets it on the instance once the ESP may have
    #: the message (an unexpected error after that leaves the row to the sweep).
    send_started: bool = False

    class Meta:
        verbose_name = _("email")
        verbose_name_plural = _("send log")
        ordering = ("-created_at", "-id")
        permissions = [("resend_outboxemail", _("Can resend, retry and cancel emails"))]
        constraints = [
            # A constraint, not unique=True: the same guarantee without the
            # extra varchar_pattern_ops index PostgreSQL would get for it.
            models.UniqueConstraint(fields=["idempotency_key"], name="order_mail_idempotency_key_uniq"),
        ]
        indexes = [
            models.Index(fields=["content_type", "object_id"], name="order_mail_order_idx"),
            # Exact lookups (webhooks by message id, the frequency cap and
            # suppression views by address, staff by order number): plain
            # B-trees, without the LIKE-pattern twins db_index=True adds.
            models.Index(fields=["esp_message_id"], name="order_mail_esp_id_idx"),
            models.Index(fields=["recipient"], name="order_mail_recipient_idx"),
            # One address, compared case-insensitively (``recipient__iexact``
            # is UPPER(recipient) = UPPER(%s)): the tracking app's click
            # attribution on every placed order, data requests. Without it
            # PostgreSQL answers through the search's trigram index: 0.3-1.6 s
            # per order at 10,000,000 rows (bench/growth.py), 0.04 ms with it.
            models.Index(Upper("recipient"), name="order_mail_recipient_ci_idx"),
            models.Index(fields=["reference"], name="order_mail_reference_idx"),
            # Foreign keys that are empty on almost every row: only the rows
            # that have one are indexed (what SET_NULL on delete looks up).
            models.Index(
                fields=["shipment"], condition=Q(shipment__isnull=False), name="order_mail_email_shipment_idx"
            ),
            models.Index(
                fields=["resend_of"], condition=Q(resend_of__isnull=False), name="order_mail_resend_idx"
            ),
            # The sweep and the dispatcher read only active rows; partial
            # indexes keep them tiny however large the send log grows.
            models.Index(
                fields=["send_after"],
                condition=Q(status="scheduled"),
                name="order_mail_scheduled_idx",
            ),
            models.Index(
                fields=["enqueued_at"],
                condition=Q(status="queued"),
                name="order_mail_queued_idx",
            ),
            models.Index(
                fields=["claimed_at"],
                condition=Q(status="sending"),
                name="order_mail_sending_idx",
            ),
            models.Index(fields=["status", "-created_at"], name="order_mail_status_idx"),
            models.Index(fields=["event", "-created_at"], name="order_mail_event_idx"),
            models.Index(fields=["channel", "-created_at"], name="order_mail_channel_idx"),
            # Failed emails by channel or event: the send log's filters staff
            # combine to find what went wrong (status alone has its index
            # above). Combined through the two full indexes, PostgreSQL
            # ANDs a bitmap of every row of the channel or event: 142 ms for
            # a page at 10,000,000 rows (docs/performance.md). Failed rows
            # are few, so these stay small.
            models.Index(
                fields=["channel", "-created_at"],
                condition=Q(status="failed"),
                name="order_mail_failed_channel_idx",
            ),
            models.Index(
                fields=["event", "-created_at"],
                condition=Q(status="failed"),
                name="order_mail_failed_event_idx",
            ),
            # Analytics read sent rows by week of sending.
            models.Index(fields=["sent_at"], condition=Q(status="sent"), name="order_mail_sent_idx"),
            # The rows that still hold the email as sent (the last
            # RETENTION["bodies"] days): retention strips bodies walking
            # these, not the years of rows it stripped before
            # (docs/performance.md, *Growth*). The sent row's UPDATE writes
            # its status, which is indexed, so it was never a HOT update:
            # this adds one index entry per email sent, none per email queued.
            models.Index(
                fields=["id"], condition=~Q(body_text="", body_html=""), name="order_mail_with_body_idx"
            ),
        ]

    def __str__(self):
        reference = self.reference or self.object_id
        return f"{self.event_label} · {reference} · {self.status_label}"

    @property
    def status_label(self) -> str:
        """``get_status_display()`` without its cost: Django hashes every
        choice's lazy label on each call, a fifth of a millisecond, twice
        per row of the send log's page (the status cell and the row's
        checkbox label)."""
        try:
            return str(Status(self.status).label)
        except ValueError:
            return self.status

    @property
    def event_label(self) -> str:
        """The event's label, looked up in the event registry: what
        ``get_event_display()`` says, without Django rebuilding the whole
        list of a callable ``choices`` on every call. On the send log's page
        of 50 rows (each row's label and its checkbox's) that was about 40 %
        of the page's time (``docs/performance.md``, *Growth*)."""
        event = get_event(self.event)
        return str(event.label) if event is not None else self.event

    @classmethod
    def for_order(cls, order) -> models.QuerySet[OutboxEmail]:
        """Every email of ``order``, newest first."""
        ct = ContentType.objects.get_for_model(order)
        return cls.objects.filter(content_type=ct, object_id=str(order.pk))

    @property
    def is_final(self) -> bool:
        return self.status in FINAL_STATUSES

    def current_recipient(self, order=None) -> str:
        """The one address the worker sends this row to: the order's current
        address (a typo fixed since is honoured by a retry or a resend), the
        row's own for a staff test email or a staff alert. Raises what the
        order's ``get_mail_recipient()`` raises."""
        if self.is_test or self.event in INTERNAL_EVENTS:
            return (self.recipient or "").strip()
        order = self.order if order is None else order
        current = order.get_mail_recipient() if order is not None else ""
        return (current or self.recipient or "").strip()

    def expected_recipient(self, order=None) -> str:
        """:meth:`current_recipient` for checks made before the send (the
        admin's resend message, the frequency cap): the row's stored address
        if the order's hook fails; the sender itself reports a broken hook."""
        try:
            return self.current_recipient(order)
        except Exception:
            logger.exception("get_mail_recipient() failed for email %s", self.pk)
            return (self.recipient or "").strip()

    def log(self, status: str, message: str = "") -> EmailLog:
        """Append a line to this row's status timeline."""
        return EmailLog.objects.create(email=self, status=status, message=message[:2000])


class EmailLog(models.Model):
    """One step of an email's status timeline (queued, retry, sent, ...)."""

    email = models.ForeignKey(
        OutboxEmail, on_delete=models.CASCADE, related_name="logs", verbose_name=_("email")
    )
    created_at = models.DateTimeField(_("at"), default=timezone.now)
    status = models.CharField(_("status"), max_length=20)
    message = models.TextField(_("detail"), blank=True)

    class Meta:
        verbose_name = _("email log entry")
        verbose_name_plural = _("email log entries")
        ordering = ("created_at", "id")

    def __str__(self):
        return f"{self.created_at:%Y-%m-%d %H:%M:%S} {self.status}"


def new_claim_token() -> uuid.UUID:
    return uuid.uuid4()
