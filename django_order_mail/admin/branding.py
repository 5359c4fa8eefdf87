"""Branding in the admin: one record, edited with a live preview.

The permission ``change_branding`` is all it takes to create and edit the
record; it cannot be deleted (empty fields mean "not shown").
"""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.db import models
from django.http import JsonResponse
from django.urls import path, reverse
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from ..app_settings import app_settings
from ..events import ALL_EVENTS, MailEvent, registered_events
from ..rendering.branding import (
    BRANDING_DEFAULTS,
    branding_record_values,
    from_email,
    merge_branding,
    settings_branding,
)
from ..rendering.models import Branding
from ..rendering.render import render_event
from ..rendering.sample import sample_context
from .forms import BrandingForm
from .policies import SingletonAdminMixin
from .preview import rendered_json
from .templates import MEDIA_CSS, MEDIA_JS

SINGLETON = Branding.SINGLETON_PK


@admin.register(Branding)
class BrandingAdmin(SingletonAdminMixin, admin.ModelAdmin):
    form = BrandingForm
    formfield_overrides = {
        models.URLField: {"assume_scheme": "https", "widget": forms.URLInput(attrs={"class": "vURLField"})}
    }
    change_form_template = "admin/django_order_mail/branding/change_form.html"
    fieldsets = (
        (None, {"fields": ("name", "website_url", ("logo", "logo_url"))}),
        (
            _("Colours"),
            {"fields": (("primary_color", "accent_color", "background_color", "text_color"),)},
        ),
        (_("Sender"), {"fields": ("sender_name", "sender_email")}),
        (
            _("Customer service"),
            {"fields": ("support_email", "support_phone", "help_url", "returns_url", "warranty_url")},
        ),
        (_("Footer"), {"fields": ("returns_policy", "postal_address", "social_links")}),
    )

    class Media:
        js = (MEDIA_JS,)
        css = {"all": (MEDIA_CSS,)}

    # -- one record (SingletonAdminMixin) ----------------------------------------
    from_settings_message = _("The branding comes from the settings; nobody has edited it yet.")

    def initial_from_settings(self) -> dict:
        # The form starts from the settings as written (derived values such
        # as the sender name = store name stay derived).
        return {**BRANDING_DEFAULTS, **app_settings.BRANDING}

    def saved_message(self) -> str:
        return gettext("Every email uses the new branding now.")

    # -- live preview ------------------------------------------------------------
    def get_urls(self):
        return [
            path(
                "preview/",
                self.admin_site.admin_view(require_POST(self.preview_view)),
                name="django_order_mail_branding_preview",
            ),
            *super().get_urls(),
        ]

    def preview_view(self, request):
        """Render an email with the form's unsaved branding (nothing is saved)."""
        if not self.has_view_or_change_permission(request):
            raise PermissionDenied
        record = Branding.objects.filter(pk=SINGLETON).first() or Branding()
        form = BrandingForm(request.POST, instance=record)
        form.is_valid()  # builds the instance from the valid fields; never saved
        overrides = branding_record_values(form.instance)
        event = request.POST.get("preview_event") or MailEvent.ORDER_CONFIRMATION
        if event not in ALL_EVENTS:
            event = MailEvent.ORDER_CONFIRMATION
        context = sample_context(event)
        context["shop"] = merge_branding(overrides)
        try:
            rendered = render_event(event, context, channel="web")
        except Exception as exc:  # noqa: BLE001 - the packaged template is missing or broken
            return JsonResponse({"ok": False, "problems": [{"level": "error", "text": str(exc)}]})
        answer = rendered_json(
            rendered,
            sender=from_email(overrides),
            recipient=context["recipient"],
            label=gettext("sample order"),
        )
        answer["problems"] = [
            {"level": "error", "text": f"{form.fields[name].label}: {' '.join(errors)}"}
            for name, errors in form.errors.items()
            if name in form.fields
        ]
        return JsonResponse(answer)

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        record = obj or Branding()
        overrides = branding_record_values(record) if obj else settings_branding()
        sample = sample_context(MailEvent.ORDER_CONFIRMATION)
        sample["shop"] = merge_branding(overrides)
        try:
            rendered = render_event(MailEvent.ORDER_CONFIRMATION, sample, channel="web")
            preview = rendered_json(
                rendered,
                sender=from_email(overrides),
                recipient=sample["recipient"],
                label=gettext("sample order"),
            )
        except Exception:  # noqa: BLE001 - no preview rather than no branding page
            preview = None
        context.update(
            {
                "preview": preview,
                "preview_url": reverse("admin:django_order_mail_branding_preview"),
                "preview_events": [(e.name, e.label) for e in registered_events() if e.sample is None],
                "can_edit": self.has_change_permission(request),
            }
        )
        return super().render_change_form(request, context, add, change, form_url, obj)
