"""The survey form: score, optional comment, optional questions.

The same form is the landing page after a one-click rating (score already
chosen) and the plain form for customers who cannot click the rating links
(score chosen here). It never has a field that names an order.
"""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from .models import Scale
from .survey import questions, score_range

COMMENT_MAX_LENGTH = 4000
TEXT_ANSWER_MAX_LENGTH = 500

CSAT_LABELS = {
    1: _("Very unhappy"),
    2: _("Unhappy"),
    3: _("Neutral"),
    4: _("Happy"),
    5: _("Very happy"),
}
NPS_LABELS = {0: _("Not at all likely"), 10: _("Extremely likely")}


def score_choices(scale: str) -> list[tuple[int, str]]:
    labels = NPS_LABELS if scale == Scale.NPS else CSAT_LABELS
    choices = []
    for score in score_range(scale):
        label = labels.get(score)
        choices.append((score, f"{score} – {label}" if label else str(score)))
    return choices


class SurveyForm(forms.Form):
    score = forms.TypedChoiceField(label=_("Your rating"), coerce=int, widget=forms.RadioSelect)
    comment = forms.CharField(
        label=_("Anything you would like to tell us? (optional)"),
        required=False,
        max_length=COMMENT_MAX_LENGTH,
        strip=True,
        widget=forms.Textarea(attrs={"rows": 5, "maxlength": COMMENT_MAX_LENGTH}),
    )

    def __init__(self, *args, scale: str, require_score: bool, **kwargs):
        super().__init__(*args, **kwargs)
        self.scale = scale
        field = self.fields["score"]
        assert isinstance(field, forms.TypedChoiceField)  # declared above; narrows Field for mypy
        field.choices = score_choices(scale)
        field.required = require_score
        if scale == Scale.NPS:
            field.label = _("How likely are you to recommend us to a friend or colleague?")
        self.questions = questions()
        for question in self.questions:
            name = f"q_{question['id']}"
            if question["type"] == "text":
                self.fields[name] = forms.CharField(
                    label=question["label"], required=False, max_length=TEXT_ANSWER_MAX_LENGTH
                )
            else:
                self.fields[name] = forms.ChoiceField(
                    label=question["label"],
                    required=False,
                    choices=question["choices"],
                    widget=forms.RadioSelect,
                )

    def question_fields(self):
        return [self[f"q_{q['id']}"] for q in self.questions]

    def clean_score(self):
        value = self.cleaned_data.get("score")
        return None if value in (None, "") else value

    def answers(self) -> dict:
        """The questions answered, by question id (unanswered ones left out)."""
        found = {}
        for question in self.questions:
            value = self.cleaned_data.get(f"q_{question['id']}")
            if value not in (None, ""):
                found[question["id"]] = value
        return found
