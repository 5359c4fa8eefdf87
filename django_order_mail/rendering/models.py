"""Email templates and branding that staff edit in the admin.

* :class:`EmailTemplate` - one edited template per (mail event, language,
  optional sales channel). It overrides the packaged file template (see
  :mod:`django_order_mail.rendering.db_loader` for the lookup order) while it
  is active; "reset to default" deactivates it, so the packaged template,
  including later upgrades of it, is used again.
* :class:`EmailTemplateVersion` - every save of a template, so staff can see
  who changed what, compare two versions and revert.
* :class:`Branding` - one record (pk 1) that, once saved, replaces
  ``ORDER_MAIL["BRANDING"]`` for every email.
* :class:`EmailContent` - one text field (headline, introduction, button
  label, ...) of one email in one language, written by staff as plain text
  in *Email texts*: it replaces only that field of the packaged template
  (:mod:`django_order_mail.rendering.content`).
"""

from __future__ import annotations

from django.core.validators import FileExtensionValidator, RegexValidator
from django.db import models, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from ..events import event_choices

#: The template fields staff edit, in the order the editor shows them.
TEMPLATE_FIELDS = ("subject", "preheader", "html_body", "plain_body")

#: The text fields staff edit without template code (Email texts), in the
#: order the editor shows them. A packaged template marks each with
#: ``{% content "<name>" %}packaged text{% endcontent %}``.
CONTENT_SLOTS = {
    "subject": _("Subject"),
    "preheader": _("Preview text"),
    "headline": _("Headline"),
    "intro": _("Introduction"),
    "button": _("Button label"),
    "closing": _("Closing paragraph"),
    "footer_note": _("Footer note"),
}
#: Fields written as paragraphs (a blank line starts a new one); the others
#: are one line.
PARAGRAPH_SLOTS = frozenset({"intro", "closing", "footer_note"})

hex_colour = RegexValidator(r"^#[0-9a-fA-F]{6}$", _("Enter a colour as #rrggbb, e.g. #2563eb."))


class EmailTemplate(models.Model):
    """An edited email template; its fields are Django template source.

    Each field is the body of one block of the packaged ``base.email``
    layout (``subject``, ``preheader``, ``html_body``, ``plain_body``), so an
    edited template keeps the shop's header, footer, support box and
    mobile layout and only changes the wording in between.
    """

    event = models.CharField(_("email"), max_length=40, choices=event_choices)
    language = models.CharField(_("language"), max_length=15)
    channel = models.CharField(
        _("sales channel"),
        max_length=40,
        blank=True,
        help_text=_("Leave empty to use this template for every sales channel."),
    )
    subject = models.TextField(_("subject"))
    preheader = models.TextField(
        _("preview text"),
        blank=True,
        help_text=_("The grey line inbox lists show after the subject."),
    )
    html_body = models.TextField(_("HTML body"))
    plain_body = models.TextField(
        _("plain-text body"),
        blank=True,
        help_text=_("What customers see whose email program shows no HTML."),
    )
    is_active = models.BooleanField(
        _("in use"),
        default=True,
        help_text=_("Unticked: customers get the packaged default template instead."),
    )
    version = models.PositiveIntegerField(_("version"), default=0, editable=False)
    updated_at = models.DateTimeField(_("changed at"), auto_now=True)
    updated_by = models.CharField(_("changed by"), max_length=150, blank=True, editable=False)

    class Meta:
        verbose_name = _("email template")
        verbose_name_plural = _("email templates")
        ordering = ("event", "language", "channel")
        constraints = [
            models.UniqueConstraint(
                fields=["event", "language", "channel"], name="order_mail_template_unique"
            )
        ]

    def __str__(self):
        label = f"{self.get_event_display()} · {self.language}"
        return f"{label} · {self.channel}" if self.channel else label

    def field_values(self) -> dict[str, str]:
        return {name: getattr(self, name) for name in TEMPLATE_FIELDS}

    def save_with_version(self, *, by: str = "", note: str = "") -> EmailTemplateVersion:
        """Save and record the saved state as the next version, atomically.

        The template row is locked while the number is taken, so two staff
        members saving at once get versions n and n+1, never two n.
        """
        with transaction.atomic():
            if self.pk:
                current = EmailTemplate.objects.select_for_update().only("version").get(pk=self.pk)
                self.version = current.version + 1
            else:
                self.version = 1
            self.updated_by = by[:150]
            self.save()
            return EmailTemplateVersion.objects.create(
                template=self,
                number=self.version,
                is_active=self.is_active,
                created_by=self.updated_by,
                note=note[:200],
                **self.field_values(),
            )


class EmailTemplateVersion(models.Model):
    """The state of a template after one save (never changed afterwards)."""

    template = models.ForeignKey(
        EmailTemplate, on_delete=models.CASCADE, related_name="versions", verbose_name=_("template")
    )
    number = models.PositiveIntegerField(_("version"))
    subject = models.TextField(_("subject"))
    preheader = models.TextField(_("preview text"), blank=True)
    html_body = models.TextField(_("HTML body"))
    plain_body = models.TextField(_("plain-text body"), blank=True)
    is_active = models.BooleanField(_("in use"), default=True)
    created_at = models.DateTimeField(_("saved at"), default=timezone.now)
    created_by = models.CharField(_("saved by"), max_length=150, blank=True)
    note = models.CharField(_("note"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("email template version")
        verbose_name_plural = _("email template versions")
        ordering = ("-number",)
        constraints = [
            models.UniqueConstraint(fields=["template", "number"], name="order_mail_template_version_unique")
        ]

    def __str__(self):
        return f"{self.template} v{self.number}"

    def field_values(self) -> dict[str, str]:
        return {name: getattr(self, name) for name in TEMPLATE_FIELDS}


class Branding(models.Model):
    """The shop's look and contact details in every email (one record, pk 1).

    Once this record exists it is used for every field it has, even an
    empty one (a cleared phone number is not shown); ``ORDER_MAIL["BRANDING"]``
    only provides the values the admin form starts with.
    """

    SINGLETON_PK = 1

    name = models.CharField(_("store name"), max_length=120, blank=True)
    logo = models.FileField(
        _("logo"),
        upload_to="django_order_mail/branding/",
        blank=True,
        validators=[FileExtensionValidator(["png", "jpg", "jpeg", "gif"])],
        help_text=_("PNG, JPEG or GIF, about 80 px high. Many email programs do not show SVG."),
    )
    logo_url = models.URLField(
        _("logo address"),
        max_length=500,
        blank=True,
        help_text=_("Used when no logo file is uploaded: the full https:// address of the image."),
    )
    website_url = models.URLField(_("shop website"), max_length=500, blank=True)
    primary_color = models.CharField(
        _("header colour"), max_length=7, default="#1f2937", validators=[hex_colour]
    )
    accent_color = models.CharField(
        _("button and link colour"), max_length=7, default="#2563eb", validators=[hex_colour]
    )
    background_color = models.CharField(
        _("background colour"), max_length=7, default="#f3f4f6", validators=[hex_colour]
    )
    text_color = models.CharField(_("text colour"), max_length=7, default="#111827", validators=[hex_colour])
    sender_name = models.CharField(
        _("sender name"),
        max_length=120,
        blank=True,
        help_text=_(
            "Shown as the sender in the inbox. Empty: the name in the settings' sender address, "
            "else the store name."
        ),
    )
    sender_email = models.EmailField(
        _("sender address"),
        blank=True,
        help_text=_(
            "Empty: the address from the settings. Use only an address of a domain your email "
            "service is set up to send from, or emails land in spam."
        ),
    )
    support_email = models.EmailField(_("support email"), blank=True)
    support_phone = models.CharField(_("support phone"), max_length=40, blank=True)
    help_url = models.URLField(_("help page"), max_length=500, blank=True)
    returns_url = models.URLField(_("returns page"), max_length=500, blank=True)
    warranty_url = models.URLField(_("warranty page"), max_length=500, blank=True)
    returns_policy = models.TextField(_("returns policy (short)"), blank=True)
    postal_address = models.TextField(
        _("postal address"),
        blank=True,
        help_text=_("Shown in the footer; the law requires it in many countries."),
    )
    social_links = models.JSONField(_("social links"), default=list, blank=True)
    updated_at = models.DateTimeField(_("changed at"), auto_now=True)
    updated_by = models.CharField(_("changed by"), max_length=150, blank=True, editable=False)

    class Meta:
        verbose_name = _("branding")
        verbose_name_plural = _("branding")

    def __str__(self):
        return str(_("Email branding"))

    def save(self, *args, **kwargs):
        self.pk = self.SINGLETON_PK
        super().save(*args, **kwargs)


class EmailContent(models.Model):
    """One field of one email in one language, written by staff as plain
    text with ``{{ variables }}``.

    Only that field changes: every other field of the email keeps the
    packaged text, translated into the email's language. A row exists only
    for an edited field; clearing the field deletes it. Who changed it is
    kept here and in the admin's log (``LogEntry``) with the field's name.
    """

    event = models.CharField(_("email"), max_length=40, choices=event_choices)
    language = models.CharField(_("language"), max_length=15)
    slot = models.CharField(_("field"), max_length=20, choices=list(CONTENT_SLOTS.items()))
    text = models.TextField(_("text"))
    updated_at = models.DateTimeField(_("changed at"), auto_now=True)
    updated_by = models.CharField(_("changed by"), max_length=150, blank=True, editable=False)

    class Meta:
        verbose_name = _("email text")
        verbose_name_plural = _("email texts")
        ordering = ("event", "language", "slot")
        constraints = [
            models.UniqueConstraint(fields=["event", "language", "slot"], name="order_mail_content_unique")
        ]

    def __str__(self):
        # Codes, not labels: the admin log keeps this text, and the editor
        # finds a field's history by it whatever the staff member's language.
        return f"{self.event} · {self.language} · {self.slot}"
