"""Admin forms: the template editor (validated at save) and the branding form."""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import models
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from ..app_settings import app_settings
from ..events import DEFAULT_CHANNELS, registered_events
from ..rendering.logo import check_logo_file, check_logo_url
from ..rendering.models import TEMPLATE_FIELDS, Branding, EmailTemplate
from ..rendering.validation import validate_fields


def language_choices() -> list[tuple[str, str]]:
    configured = app_settings.LANGUAGES
    if configured:
        names = dict(settings.LANGUAGES)
        return [(code, names.get(code, code)) for code in configured]
    return list(settings.LANGUAGES)


def event_choices() -> list[tuple[str, str]]:
    """Customer emails; staff alerts are not edited here."""
    return [(e.name, e.label) for e in registered_events() if not e.internal]


def channel_choices() -> list[tuple[str, Any]]:
    names = dict.fromkeys([*DEFAULT_CHANNELS, *app_settings.CHANNELS])
    return [("", _("Every sales channel")), *((name, name) for name in names)]


class CodeTextarea(forms.Textarea):
    """A monospace textarea that keeps tabs and long lines as typed."""

    def __init__(self, rows=8):
        super().__init__(
            attrs={"rows": rows, "class": "order-mail-code vLargeTextField", "spellcheck": "false"}
        )


class EmailTemplateForm(forms.ModelForm):
    """Refuses syntax errors and bad tags; asks to confirm warnings."""

    event = forms.ChoiceField(label=_("email"), choices=event_choices)
    language = forms.ChoiceField(label=_("language"), choices=language_choices)
    channel = forms.ChoiceField(label=_("sales channel"), choices=channel_choices, required=False)
    loaded_version = forms.IntegerField(widget=forms.HiddenInput, required=False)
    confirm_warnings = forms.BooleanField(
        label=_("Save despite the warnings"),
        required=False,
        help_text=_("The warnings above do not stop the email; tick to save anyway."),
    )

    class Meta:
        model = EmailTemplate
        fields = ("event", "language", "channel", "is_active", *TEMPLATE_FIELDS)
        widgets = {
            "subject": CodeTextarea(rows=2),
            "preheader": CodeTextarea(rows=2),
            "html_body": CodeTextarea(rows=18),
            "plain_body": CodeTextarea(rows=12),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.problems = []
        self.warnings = []
        if self.instance.pk:
            # Which email a template is for is fixed once saved: the history
            # of versions belongs to that (event, language, channel).
            for name in ("event", "language", "channel"):
                self.fields[name].disabled = True
            self.fields["loaded_version"].initial = self.instance.version

    def clean(self):
        data = super().clean()
        if self.errors:
            return data
        loaded = data.get("loaded_version")
        if self.instance.pk and loaded is not None:
            current = (
                type(self.instance).objects.filter(pk=self.instance.pk).values_list("version", flat=True)
            )
            if current and current[0] != loaded:
                # Two people editing at once: do not silently overwrite.
                raise ValidationError(
                    gettext(
                        "Someone else saved this template meanwhile (version %(v)d). Copy your "
                        "changes, open the template again and apply them there."
                    )
                    % {"v": current[0]},
                    code="stale",
                )
        fields = {name: data.get(name) or "" for name in TEMPLATE_FIELDS}
        self.problems = validate_fields(
            fields, data["event"], language=data["language"], channel=data.get("channel") or ""
        )
        errors = [p for p in self.problems if p.level == "error"]
        self.warnings = [p for p in self.problems if p.level == "warning"]
        for problem in errors:
            message = str(problem) if not problem.field else _line_message(problem)
            self.add_error(problem.field or None, message)
        if not errors and self.warnings and not data.get("confirm_warnings"):
            raise ValidationError(
                gettext("Please check the warnings below, then tick “Save despite the warnings”."),
                code="warnings",
            )
        return data


def _line_message(problem) -> str:
    if problem.line:
        return gettext("Line %(line)d: %(message)s") % {"line": problem.line, "message": problem.message}
    return problem.message


class SocialLinksField(forms.CharField):
    """One link per line, ``Name https://...``, stored as a list of dicts."""

    widget = forms.Textarea(attrs={"rows": 3, "placeholder": "Instagram https://instagram.com/yourshop"})

    def prepare_value(self, value):
        if isinstance(value, list):
            return "\n".join(f"{link.get('name', '')} {link.get('url', '')}".strip() for link in value)
        return value

    def to_python(self, value):
        links = []
        validate = URLValidator(schemes=["http", "https"])
        for number, line in enumerate((value or "").splitlines(), start=1):
            line = line.strip()
            if not line:
                continue
            name, _sep, url = line.rpartition(" ")
            try:
                validate(url)
            except ValidationError:
                raise ValidationError(
                    gettext("Line %(line)d: write a name, a space and the https:// address.")
                    % {"line": number}
                ) from None
            links.append({"name": name.strip() or url, "url": url})
        return links


class ColourInput(forms.TextInput):
    input_type = "color"


def https_urls(field, **kwargs):
    """Form fields for Branding: addresses typed without a scheme get https."""
    if isinstance(field, models.URLField):
        kwargs.setdefault("assume_scheme", "https")
    return field.formfield(**kwargs)


class BrandingForm(forms.ModelForm):
    """Also refuses an SVG logo, as a file or an address (:mod:`..rendering.logo`)."""

    social_links = SocialLinksField(
        label=_("Social links"),
        required=False,
        help_text=_("One per line: the name, a space, the address."),
    )

    class Meta:
        model = Branding
        formfield_callback = https_urls
        fields = (
            "name",
            "website_url",
            "logo",
            "logo_url",
            "primary_color",
            "accent_color",
            "background_color",
            "text_color",
            "sender_name",
            "sender_email",
            "support_email",
            "support_phone",
            "help_url",
            "returns_url",
            "warranty_url",
            "returns_policy",
            "postal_address",
            "social_links",
        )
        widgets = {
            "primary_color": ColourInput(),
            "accent_color": ColourInput(),
            "background_color": ColourInput(),
            "text_color": ColourInput(),
            "returns_policy": forms.Textarea(attrs={"rows": 3}),
            "postal_address": forms.Textarea(attrs={"rows": 3}),
        }

    def clean_logo(self):
        logo = self.cleaned_data.get("logo")
        if logo and logo is not getattr(self.instance, "logo", None):  # a new upload
            check_logo_file(logo)
        return logo

    def clean_logo_url(self):
        url = self.cleaned_data.get("logo_url") or ""
        check_logo_url(url)
        return url
