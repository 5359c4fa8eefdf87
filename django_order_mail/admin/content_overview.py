"""What the *Email texts* pages show: each email's fields in each language,
and which of them are edited, packaged, or missing a translation.

A field of an email in a language is

* **edited** - staff wrote it in that language (:class:`EmailContent`);
* **packaged** - it uses the packaged text, translated into the language;
* **missing** - staff edited it in the default language (``LANGUAGE_CODE``),
  not in this one, so customers of this language still get the packaged
  text; or the package has no translation of it into this language (its
  packaged text is the English one).

A customer sees only the email's language: a field without an edit in that
language falls back to the packaged text *of that language*, never to
another language's edit (``docs/translating.rst``). When a template edited
as code is in use for the email and language, it wins and the fields are
not used: the overview says so.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

from django.conf import global_settings, settings
from django.utils.translation import to_language

from ..app_settings import app_settings
from ..rendering.content_slots import Slot, event_slots, source_text
from ..rendering.i18n import resolve_language
from ..rendering.models import EmailContent, EmailTemplate
from .forms import event_choices, language_choices

#: The language of the package's own source text.
SOURCE_LANGUAGE = "en"

EDITED, PACKAGED, MISSING = "edited", "packaged", "missing"


def default_language() -> str:
    """The shop's default language: ``LANGUAGE_CODE``, as the emails resolve it."""
    return resolve_language(settings.LANGUAGE_CODE, default=settings.LANGUAGE_CODE)


def shipped_languages() -> list[str]:
    """Languages the package has a catalogue for (``en``, ``de``, ``zh-hans``, ...)."""
    locale = Path(__file__).resolve().parent.parent / "locale"
    return sorted(to_language(p.name) for p in locale.iterdir() if (p / "LC_MESSAGES").is_dir())


def overview_languages(extra: set[str] | frozenset[str] = frozenset()) -> list[tuple[str, str]]:
    """``(code, name)`` of the languages the overview shows, the default first.

    The shop's languages (``ORDER_MAIL["LANGUAGES"]`` or ``LANGUAGES``); a
    project that never set ``LANGUAGES`` has Django's list of about a
    hundred, so it gets the languages the package is translated into, plus
    any language that already has an edit (``extra``).
    """
    choices = language_choices()
    names = dict(choices)
    own_list = bool(app_settings.LANGUAGES) or (list(settings.LANGUAGES) != list(global_settings.LANGUAGES))
    codes = list(names) if own_list else [c for c in shipped_languages() if c in names]
    default = default_language()
    wanted = [default, *codes, *sorted(c for c in extra if c in names)]
    return [(code, str(names.get(code, code))) for code in dict.fromkeys(wanted)]


@dataclass
class FieldState:
    slot: Slot
    status: str  # EDITED, PACKAGED or MISSING
    text: str  # the edit, "" when packaged
    packaged: str  # the packaged text in this language
    reason: str = ""  # why MISSING: "default-edited" or "untranslated"


@dataclass
class Cell:
    """One email in one language."""

    event: str
    language: str
    fields: list[FieldState] = field(default_factory=list)
    code_template: EmailTemplate | None = None

    def _with(self, status):
        return [f for f in self.fields if f.status == status]

    @property
    def edited(self) -> list[FieldState]:
        return self._with(EDITED)

    @property
    def missing(self) -> list[FieldState]:
        return self._with(MISSING)


class Overview:
    """Every field's state, read with two queries for all emails and languages."""

    def __init__(self, events: list[str] | None = None):
        self.events = events if events is not None else [value for value, _label in event_choices()]
        self.default = default_language()
        rows = EmailContent.objects.filter(event__in=self.events)
        self.edits: dict[tuple[str, str], dict[str, EmailContent]] = {}
        for row in rows:
            if row.text.strip():
                self.edits.setdefault((row.event, row.language), {})[row.slot] = row
        self.code = {
            (t.event, t.language): t
            for t in EmailTemplate.objects.filter(event__in=self.events, channel="", is_active=True)
        }
        self._slots: dict[str, list[Slot]] = {}
        self._packaged: dict[tuple[str, str], dict[str, str]] = {}

    @cached_property
    def edited_languages(self) -> set[str]:
        return {language for _event, language in self.edits}

    def slots(self, event: str) -> list[Slot]:
        if event not in self._slots:
            self._slots[event] = event_slots(event)
        return self._slots[event]

    def packaged(self, event: str, language: str) -> dict[str, str]:
        key = (event, language)
        if key not in self._packaged:
            self._packaged[key] = {s.name: source_text(s, language) for s in self.slots(event)}
        return self._packaged[key]

    def code_template(self, event: str, language: str) -> EmailTemplate | None:
        """The template edited as code customers of ``language`` get, if any
        (the language's own, else its base language's: the lookup order of
        ``docs/template-lookup.rst`` for every sales channel)."""
        base = language.split("-")[0]
        return self.code.get((event, language)) or self.code.get((event, base))

    def cell(self, event: str, language: str) -> Cell:
        edits = self.edits.get((event, language), {})
        default_edits = self.edits.get((event, self.default), {}) if language != self.default else {}
        packaged = self.packaged(event, language)
        source = self.packaged(event, SOURCE_LANGUAGE) if language.split("-")[0] != SOURCE_LANGUAGE else {}
        cell = Cell(event, language, code_template=self.code_template(event, language))
        for slot in self.slots(event):
            text = packaged.get(slot.name, "")
            if slot.name in edits:
                state = FieldState(slot, EDITED, edits[slot.name].text, text)
            elif slot.name in default_edits:
                state = FieldState(slot, MISSING, "", text, "default-edited")
            elif text and source and source.get(slot.name) == text:
                state = FieldState(slot, MISSING, "", text, "untranslated")
            else:
                state = FieldState(slot, PACKAGED, "", text)
            cell.fields.append(state)
        return cell
