"""The review form of the landing page: rating, title, text, shown name,
photos. Labels and errors follow the active language (the email's)."""

from __future__ import annotations

from typing import cast

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from .app_settings import app_settings
from .links import STARS
from .models import BODY_MAX_LENGTH, NAME_MAX_LENGTH, TITLE_MAX_LENGTH
from .photos import ProcessedPhoto, process_photo


class MultipleFileInput(forms.FileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several files in one field (Django's documented pattern)."""

    def clean(self, data, initial=None):
        if isinstance(data, (list, tuple)):
            return [super(MultipleFileField, self).clean(item, initial) for item in data if item]
        return [super().clean(data, initial)] if data else []


def _star_label(stars: int) -> str:
    return ngettext("%(count)s star", "%(count)s stars", stars) % {"count": stars}


class ReviewForm(forms.Form):
    rating = forms.TypedChoiceField(
        label=_("Your rating"),
        coerce=int,
        widget=forms.RadioSelect,
        error_messages={"required": _("Choose 1 to 5 stars.")},
    )
    title = forms.CharField(label=_("Title (optional)"), max_length=TITLE_MAX_LENGTH, required=False)
    body = forms.CharField(
        label=_("Your review (optional)"),
        max_length=BODY_MAX_LENGTH,
        required=False,
        widget=forms.Textarea(attrs={"rows": 6}),
    )
    display_name = forms.CharField(
        label=_("Name shown with your review (optional)"),
        max_length=NAME_MAX_LENGTH,
        required=False,
        help_text=_("Leave it empty to be shown as “Customer”."),
    )
    photos = MultipleFileField(
        label=_("Photos (optional)"),
        required=False,
        widget=MultipleFileInput(attrs={"accept": "image/jpeg,image/png,image/webp"}),
    )
    remove_photos = forms.TypedMultipleChoiceField(
        label=_("Remove photos"), coerce=int, required=False, widget=forms.CheckboxSelectMultiple
    )

    def __init__(self, *args, existing_photos=(), **kwargs) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["rating"]).choices = [(s, _star_label(s)) for s in STARS]
        self.existing = list(existing_photos)
        cast(forms.ChoiceField, self.fields["remove_photos"]).choices = [
            (p.pk, str(p.pk)) for p in self.existing
        ]
        if not self.existing:
            del self.fields["remove_photos"]
        self.max_photos = max(0, int(app_settings.REVIEWS_MAX_PHOTOS))
        if not self.max_photos:
            del self.fields["photos"]
        else:
            self.fields["photos"].help_text = ngettext(
                "Up to %(count)d photo (JPEG, PNG or WebP).",
                "Up to %(count)d photos (JPEG, PNG or WebP).",
                self.max_photos,
            ) % {"count": self.max_photos}
        self.processed: list[ProcessedPhoto] = []

    def clean_title(self):
        return self.cleaned_data["title"].strip()

    def clean_body(self):
        return self.cleaned_data["body"].replace("\r\n", "\n").strip()

    def clean_display_name(self):
        return self.cleaned_data["display_name"].strip()

    def clean(self):
        data = super().clean()
        if "photos" not in self.fields:
            return data
        uploads = list(data.get("photos") or [])
        removed = set(data.get("remove_photos") or [])
        kept = len([p for p in self.existing if p.pk not in removed])
        if kept + len(uploads) > self.max_photos:
            self.add_error(
                "photos",
                ngettext(
                    "You can add at most %(count)d photo.",
                    "You can add at most %(count)d photos.",
                    self.max_photos,
                )
                % {"count": self.max_photos},
            )
            return data
        for upload in uploads:
            try:
                self.processed.append(process_photo(upload))
            except ValidationError as error:
                self.add_error("photos", error)
        return data
