"""The reason fields under an order-page button whose email gives a reason:
a choice of the event's preset reasons (shown to the customer in the email's
language, :mod:`django_order_mail.lifecycle.reasons`) and an optional note,
free text sent as typed."""

from __future__ import annotations

import inspect

from django import forms
from django.utils.translation import gettext_lazy as _

from ..lifecycle.reasons import presets, reason_choices


class TransitionReasonForm(forms.Form):
    """Prefixed with the transition's name, so every button has its own fields."""

    reason_code = forms.ChoiceField(
        label=_("Reason"),
        required=False,
        help_text=_("Shown to the customer in the language of the email."),
    )
    note = forms.CharField(
        label=_("Note to the customer (optional)"),
        required=False,
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 2, "cols": 28}),
        help_text=_("Free text, sent as typed, not translated."),
    )

    def __init__(self, event: str, *args, with_reason=True, with_note=True, **kwargs):
        kwargs.setdefault("auto_id", "order-mail-%s")
        super().__init__(*args, **kwargs)
        choices = reason_choices(event) if with_reason and event else []
        if choices:
            field = self.fields["reason_code"]
            assert isinstance(field, forms.ChoiceField)  # declared above; narrows Field for mypy
            field.choices = [("", _("(no reason given)")), *choices]
        else:
            del self.fields["reason_code"]
        if not with_note:
            del self.fields["note"]


def reason_form(order, name: str, data=None) -> TransitionReasonForm | None:
    """The fields of ``order.<name>()``: the presets of its email when it takes
    ``reason_code``, the note when it takes ``note``; None when neither."""
    method = getattr(order, name)
    events = getattr(order, "mail_transitions", {}).get(name, ())
    event = next((str(e) for e in events if presets(e)), "")
    form = TransitionReasonForm(
        event,
        data,
        prefix=name,
        with_reason=_accepts(method, "reason_code"),
        with_note=_accepts(method, "note"),
    )
    return form if form.fields else None


def _accepts(method, name: str) -> bool:
    try:
        parameters = inspect.signature(method).parameters.values()
    except (TypeError, ValueError):
        return False
    return any(p.name == name or p.kind is p.VAR_KEYWORD for p in parameters)
