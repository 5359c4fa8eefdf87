"""The marketplace sync log and the per-marketplace cursor.

Every item of a marketplace feed leaves exactly one :class:`MarketplaceOrderUpdate`
row (a repeat of the same payload finds its row and adds nothing), written in
the same transaction as the order change it caused. So the log answers "did
this update reach the order, and if not, why?" for staff, and it is also what
makes the sync idempotent and ordered: the applier reads it to recognise
repeats and stale updates.

The log keeps what the sync decided from (status, timestamp, tracking
numbers, amounts) but never the buyer's name, login or address.
"""

from __future__ import annotations

from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Outcome(models.TextChoices):
    APPLIED = "applied", _("Applied")
    IGNORED = "ignored", _("Ignored")
    FAILED = "failed", _("Failed")


class Problem(models.TextChoices):
    """Why an update was not applied, for the counts and the filter."""

    STALE = "stale", _("Stale")
    MALFORMED = "malformed", _("Malformed")
    CONFLICT = "conflict", _("Conflict or error")


class MarketplaceSyncRun(models.Model):
    """One sync of one marketplace: what it read and what came of it.

    Written by the sync only (read-only in the admin). Each entry of the
    update log points to the run that last looked at it, so a run's
    malformed lines can be read with their reasons.
    """

    marketplace = models.CharField(_("marketplace"), max_length=40)
    source = models.CharField(
        _("read from"), max_length=255, blank=True, help_text=_("Feed files or the page source.")
    )
    started_at = models.DateTimeField(_("started at"), default=timezone.now, db_index=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    pages = models.PositiveIntegerField(_("pages"), default=0)
    applied = models.PositiveIntegerField(_("applied"), default=0)
    stale = models.PositiveIntegerField(
        _("stale"), default=0, help_text=_("Older than what the order already reflects: ignored.")
    )
    ignored = models.PositiveIntegerField(
        _("ignored"), default=0, help_text=_("Every ignored update, the stale ones and repeats included.")
    )
    repeats = models.PositiveIntegerField(_("repeats"), default=0)
    malformed = models.PositiveIntegerField(
        _("malformed"), default=0, help_text=_("Lines or items the sync could not read.")
    )
    failed = models.PositiveIntegerField(
        _("failed"), default=0, help_text=_("Every failed update, the malformed ones included.")
    )
    source_error = models.TextField(
        _("feed stopped"), blank=True, help_text=_("Why the feed could not be read to its end.")
    )

    class Meta:
        verbose_name = _("marketplace sync run")
        verbose_name_plural = _("marketplace sync runs")
        ordering = ("-started_at", "-id")
        indexes = [models.Index(fields=["marketplace", "-started_at"], name="order_mail_mkt_run_idx")]

    def __str__(self):
        return f"{self.marketplace} {self.started_at:%Y-%m-%d %H:%M}"

    @property
    def ok(self) -> bool:
        return not self.failed and not self.source_error


class OrderMatchRule(models.Model):
    """Which field of the shop's orders holds a marketplace's order number.

    The common case of the order resolver, set up by staff in the admin: an
    update of marketplace ``marketplace`` goes to the order whose
    ``field_name`` equals the marketplace's order id. The Python resolver
    (``ORDER_MAIL["MARKETPLACE_ORDER_RESOLVER"]``) wins when it is set.
    """

    marketplace = models.CharField(
        _("marketplace"), max_length=40, unique=True, help_text=_("The feed's name, as the sync knows it.")
    )
    content_type = models.ForeignKey(ContentType, on_delete=models.CASCADE, verbose_name=_("order type"))
    field_name = models.CharField(_("order number field"), max_length=100)
    enabled = models.BooleanField(_("enabled"), default=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("order matching rule")
        verbose_name_plural = _("order matching rules")
        ordering = ("marketplace",)

    def __str__(self):
        return f"{self.marketplace} → {self.content_type.model}.{self.field_name}"


class MarketplaceOrderUpdate(models.Model):
    """One update of one marketplace order, as read from a feed."""

    marketplace = models.CharField(_("marketplace"), max_length=40)
    external_order_id = models.CharField(
        _("marketplace order id"),
        max_length=64,
        blank=True,
        help_text=_("Empty when the item was too malformed to name its order."),
    )
    status = models.CharField(_("marketplace status"), max_length=64, blank=True)
    target_state = models.CharField(_("target state"), max_length=32, blank=True)
    sequence = models.DateTimeField(
        _("marketplace timestamp"),
        null=True,
        blank=True,
        help_text=_("When the marketplace last modified the order (AliExpress gmt_update)."),
    )
    payload_hash = models.CharField(
        _("payload hash"),
        max_length=64,
        help_text=_("SHA-256 of the item: a repeat of the same item is recognised by it."),
    )
    outcome = models.CharField(_("outcome"), max_length=10, choices=Outcome.choices)
    reason = models.TextField(_("reason"), blank=True)
    transitions = models.JSONField(
        _("transitions run"), default=list, blank=True, help_text=_("In the order they ran.")
    )
    details = models.JSONField(
        _("details"),
        default=dict,
        blank=True,
        help_text=_("What the sync read from the item (no buyer data)."),
    )
    attempts = models.PositiveIntegerField(_("attempts"), default=1)
    problem = models.CharField(_("problem"), max_length=10, choices=Problem.choices, blank=True, default="")
    run = models.ForeignKey(
        MarketplaceSyncRun,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="updates",
        verbose_name=_("last sync run"),
    )

    content_type = models.ForeignKey(
        ContentType, on_delete=models.SET_NULL, null=True, blank=True, verbose_name=_("order type")
    )
    object_id = models.CharField(_("order id"), max_length=64, blank=True)
    order = GenericForeignKey("content_type", "object_id")

    created_at = models.DateTimeField(_("created at"), default=timezone.now, db_index=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("marketplace order update")
        verbose_name_plural = _("marketplace order updates")
        ordering = ("-created_at", "-id")
        constraints = [
            models.UniqueConstraint(
                fields=["marketplace", "external_order_id", "payload_hash"],
                name="order_mail_mkt_update_once",
            )
        ]
        indexes = [
            models.Index(
                fields=["marketplace", "external_order_id", "outcome", "sequence"],
                name="order_mail_mkt_update_seq",
            ),
            models.Index(fields=["outcome", "created_at"], name="order_mail_mkt_update_outcome"),
        ]

    def __str__(self):
        return f"{self.marketplace} {self.external_order_id or '?'} {self.status}: {self.outcome}"


class MarketplaceSyncCursor(models.Model):
    """How far the sync of one marketplace got.

    A page source (an API client) receives ``since=last_sequence`` so it can
    ask the marketplace only for orders modified since then (AliExpress:
    ``modified_date_start``). Failed items do not hold the cursor back: they
    stay in the log, and the repeat of the same item is retried.
    """

    marketplace = models.CharField(_("marketplace"), max_length=40, unique=True)
    last_sequence = models.DateTimeField(_("newest timestamp seen"), null=True, blank=True)
    last_run_at = models.DateTimeField(_("last run at"), null=True, blank=True)
    last_summary = models.JSONField(_("last summary"), default=dict, blank=True)

    class Meta:
        verbose_name = _("marketplace sync cursor")
        verbose_name_plural = _("marketplace sync cursors")

    def __str__(self):
        return f"{self.marketplace}: {self.last_sequence or '-'}"
