"""The *Email texts* form: one plain-text field per text field of an email,
in one language, validated at save (:mod:`django_order_mail.rendering.content_validation`)."""

from __future__ import annotations

import hashlib

from django import forms
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext

from ..rendering.content_slots import Slot
from ..rendering.content_validation import MAX_LENGTH, PARAGRAPH_MAX_LENGTH, validate_texts
from ..rendering.models import EmailContent


def saved_texts(event: str, language: str) -> dict[str, EmailContent]:
    return {row.slot: row for row in EmailContent.objects.filter(event=event, language=language)}


def fingerprint(rows: dict[str, EmailContent]) -> str:
    """What the form was loaded with, to notice a save by someone else meanwhile."""
    data = "\n".join(f"{slot}={rows[slot].text}" for slot in sorted(rows))
    return hashlib.sha256(data.encode()).hexdigest()[:32]


class EmailContentForm(forms.Form):
    """The fields of ``slots`` of ``event`` in ``language``; empty = packaged text."""

    loaded = forms.CharField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args, event: str, language: str, slots: list[Slot], **kwargs):
        self.event, self.language, self.slots = event, language, slots
        self.saved = saved_texts(event, language)
        kwargs["initial"] = {slot.name: row.text for slot in slots if (row := self.saved.get(slot.name))}
        kwargs["initial"]["loaded"] = fingerprint(self.saved)
        super().__init__(*args, **kwargs)
        for slot in slots:
            rows = 4 if slot.paragraphs else 2
            self.fields[slot.name] = forms.CharField(
                label=slot.label,
                required=False,
                max_length=MAX_LENGTH.get(slot.name, PARAGRAPH_MAX_LENGTH),
                widget=forms.Textarea(
                    attrs={
                        "rows": rows,
                        "class": "order-mail-content-field vLargeTextField",
                        "data-content-field": slot.name,
                        "spellcheck": "true",
                        "lang": language,
                    }
                ),
            )

    def texts(self) -> dict[str, str]:
        return {slot.name: self.cleaned_data.get(slot.name) or "" for slot in self.slots}

    def clean(self):
        data = super().clean()
        if fingerprint(saved_texts(self.event, self.language)) != data.get("loaded"):
            raise ValidationError(
                gettext(
                    "Someone else saved these texts meanwhile. Copy your changes, open the page "
                    "again and apply them there."
                ),
                code="stale",
            )
        texts = {slot: text for slot, text in self.texts().items() if text and slot not in self.errors}
        for slot, reasons in validate_texts(texts, self.event, language=self.language).items():
            for reason in reasons:
                self.add_error(slot, reason)
        return data

    def cleared_pks(self) -> list[int]:
        """The saved fields this form clears (back to the packaged text)."""
        return [row.pk for slot, row in self.saved.items() if not self.texts().get(slot, row.text)]

    def save(self, *, by: str) -> list[tuple[str, EmailContent | None, EmailContent | None]]:
        """Write what changed; ``(field, row before, row after)`` per changed field
        (``None`` before: added; ``None`` after: back to the packaged text)."""
        changes: list[tuple[str, EmailContent | None, EmailContent | None]] = []
        with transaction.atomic():
            for slot, text in self.texts().items():
                before = self.saved.get(slot)
                if text == (before.text if before else ""):
                    continue
                if before is not None and not text:  # cleared: the packaged text again
                    EmailContent.objects.filter(pk=before.pk).delete()
                    changes.append((slot, before, None))
                    continue
                row, _created = EmailContent.objects.update_or_create(
                    event=self.event,
                    language=self.language,
                    slot=slot,
                    defaults={"text": text, "updated_by": by[:150]},
                )
                changes.append((slot, before, row))
        return changes
