"""Which template an email uses: an edited one from the database or a file.

Lookup order for event ``E``, language ``L`` (base language ``B``, e.g. ``pt``
for ``pt-br``) and sales channel ``C`` — the first that exists wins:

1. database template (E, L, C)
2. database template (E, B, C)
3. file ``django_order_mail/email/C/E.email``
4. database template (E, L, all channels)
5. database template (E, B, all channels)
6. file ``django_order_mail/email/E.email``

Channel-specific beats generic at every step: a marketplace's own wording
(say, Amazon's rules for review requests) is never replaced by an edit of
the generic template. Only *active* database templates count; a template
exists in one language, so a customer in another language gets the file
template, which is translated.

A database template stores the bodies of four blocks of ``base.email``
(subject, preview text, HTML body, plain-text body); :func:`assemble` turns
it back into a full django-templated-email template that extends the file
template it replaces (:func:`parent_template`), and it is rendered through
the same engine and block semantics as a file.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import cast

from django.template import TemplateDoesNotExist, engines
from django.template.backends.django import DjangoTemplates
from django.template.backends.django import Template as BackendTemplate
from django.template.base import DebugLexer, TokenType
from django.template.loader import get_template

from ..memo import memoized
from .models import TEMPLATE_FIELDS, EmailTemplate
from .sandbox import PARTIALS_DIR, PRELOADED, check_source

TEMPLATE_DIR = PARTIALS_DIR
BASE_TEMPLATE = TEMPLATE_DIR + "base.email"
#: Model field -> block of base.email it fills.
FIELD_BLOCKS = {
    "subject": "subject",
    "preheader": "preheader",
    "html_body": "html_body",
    "plain_body": "plain_body",
}


@dataclass(frozen=True)
class Choice:
    """The template an email is rendered with."""

    db_template: EmailTemplate | None
    file_names: tuple[str, ...]
    step: int  # 1-6, the step of the lookup order above

    @property
    def is_db(self) -> bool:
        return self.db_template is not None


def file_name(event: str, channel: str = "") -> str:
    return f"{TEMPLATE_DIR}{channel + '/' if channel else ''}{event}.email"


def file_exists(name: str) -> bool:
    try:
        get_template(name)
    except TemplateDoesNotExist:
        return False
    return True


def language_candidates(language: str) -> list[str]:
    lang = (language or "").lower()
    base = lang.split("-")[0]
    return [lang, base] if base and base != lang else [lang]


def choose(event: str, language: str, channel: str = "") -> Choice:
    """Apply the lookup order (one query for the database candidates; once
    per send batch, :mod:`django_order_mail.memo`)."""
    return memoized(("template", event, language, channel), lambda: _choose(event, language, channel))


def _choose(event: str, language: str, channel: str) -> Choice:
    langs = language_candidates(language)
    channels = [channel, ""] if channel else [""]
    found = {
        (t.language, t.channel): t
        for t in EmailTemplate.objects.filter(
            event=event, language__in=langs, channel__in=channels, is_active=True
        )
    }
    step = 0
    if channel:
        for lang in langs:
            step += 1
            if (lang, channel) in found:
                return Choice(found[(lang, channel)], (), step)
        if file_exists(file_name(event, channel)):
            return Choice(None, (file_name(event, channel),), 3)
    step = 3
    for lang in langs:
        step += 1
        if (lang, "") in found:
            return Choice(found[(lang, "")], (), step)
    return Choice(None, (file_name(event),), 6)


_EXTENDS = re.compile(r"\{%\s*extends\s")


def parent_template(event: str, channel: str = "") -> str:
    """What an edited template extends: the file template it replaces when
    that one extends a layout (so blocks staff do not edit, such as the HTML
    title, extra CSS or footer note, stay as packaged), else ``base.email``
    (a file that writes its whole ``html`` and ``plain`` blocks itself has
    no body blocks to fill)."""
    names = [file_name(event, channel), file_name(event)] if channel else [file_name(event)]
    for name in names:
        try:
            source = _file_source(name)
        except TemplateDoesNotExist:
            continue
        return name if _EXTENDS.search(source) else BASE_TEMPLATE
    return BASE_TEMPLATE


def _file_source(name: str) -> str:
    """The source of file template ``name``; raises ``TemplateDoesNotExist``."""
    # get_template() is typed for any backend; the email files are
    # DjangoTemplates' (a backend template wrapping the engine's Template).
    return cast(BackendTemplate, get_template(name)).template.source


def assemble(fields: dict[str, str], parent: str = BASE_TEMPLATE) -> str:
    """The full template source of an edited template's fields."""
    parts = ['{% extends "' + parent + '" %}' + PRELOADED]
    for name in TEMPLATE_FIELDS:
        parts.append(f"{{% block {FIELD_BLOCKS[name]} %}}{fields.get(name) or ''}{{% endblock %}}")
    return "\n".join(parts)


def _django_backend() -> DjangoTemplates:
    for backend in engines.all():
        if isinstance(backend, DjangoTemplates):
            return backend
    raise TemplateDoesNotExist("no DjangoTemplates backend is configured")


@lru_cache(maxsize=256)
def compile_source(source: str):
    """A backend template of ``source`` (cached: the same text compiles once)."""
    return _django_backend().from_string(source)


def compile_fields(fields: dict[str, str], parent: str = BASE_TEMPLATE):
    """The template of an edited template's fields inside its layout.

    Every field passes the sandbox first (:func:`.sandbox.check_source`,
    cached), at render time too: a row that reached the database around the
    admin's validation is refused here with :class:`.sandbox.UnsafeTemplateError`.
    """
    for name in TEMPLATE_FIELDS:
        check_source(fields.get(name) or "")
    return compile_source(assemble(fields, parent))


# -- the packaged defaults, for "new template" and "reset to default" -----------
#: The tag tokens of ``{% content %}`` (:mod:`.content`), left out of the
#: packaged text the template editor starts from: the sandbox does not know
#: the tag, and a template edited as code replaces the text fields anyway.
_CONTENT_TAGS = re.compile(r"\{%\s*(?:content\s[^%]*|endcontent)\s*%\}")


def strip_content_tags(source: str) -> str:
    """``source`` without its ``{% content %}`` / ``{% endcontent %}`` tags."""
    return _CONTENT_TAGS.sub("", source)


def extract_blocks(source: str) -> dict[str, str]:
    """The source of every ``{% block %}`` of a template, keyed by block name."""
    blocks: dict[str, str] = {}
    stack: list[tuple[str, int]] = []
    for token in DebugLexer(source).tokenize():
        if token.token_type != TokenType.BLOCK:
            continue
        assert token.position is not None  # DebugLexer gives every token its position
        bits = token.split_contents()
        if bits[0] == "block" and len(bits) > 1:
            stack.append((bits[1], token.position[1]))
        elif bits[0] == "endblock" and stack:
            name, start = stack.pop()
            blocks[name] = source[start : token.position[0]]
    return blocks


def default_fields(event: str, channel: str = "") -> dict[str, str]:
    """The editable fields of the file template an event would use without an
    edited one (the channel's file, else the generic file), as source text."""
    names = [file_name(event, channel), file_name(event)] if channel else [file_name(event)]
    for name in names:
        try:
            source = _file_source(name)
        except TemplateDoesNotExist:
            continue
        blocks = extract_blocks(source)
        return {field: strip_content_tags(blocks.get(block, "")) for field, block in FIELD_BLOCKS.items()}
    return dict.fromkeys(TEMPLATE_FIELDS, "")
