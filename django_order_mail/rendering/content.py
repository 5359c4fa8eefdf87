"""Text fields staff edit without template code: the ``{% content %}`` tag.

A packaged email template marks each part a shop manager may want to
reword - subject, preview text, headline, introduction, button label,
closing paragraph, footer note (:data:`~.models.CONTENT_SLOTS`) - with
``{% content "<field>" %}packaged text{% endcontent %}``. Without an edit
the tag renders what it encloses: the packaged text, translated into the
email's language, exactly as before. With an edit
(:class:`~.models.EmailContent` for the email's event and language) it
renders the staff member's text instead, and only there.

**One rendering path.** Staff text is rendered by
:func:`.sandbox.render_string`, as every other piece of staff text: it sees
the email's context as plain, read-only data, and the sandbox refuses
unsafe tags and filters. On top of that a text field takes only text and
``{{ variables }}`` (:func:`check_text`): no tags, no comments, no HTML. It
is rendered with autoescape off and escaped once, whole, for the HTML part,
so what staff typed and what the customer typed both reach the HTML as
text (``<script>`` arrives as ``&lt;script&gt;``), never as markup. The same
check runs when the text is saved (:mod:`.content_validation`, with the
variables of the event) and again when it is rendered, so a row written
around the admin cannot slip past it; a text that fails at render time is
logged and the packaged text is used, so the customer still gets the email.

**Precedence and languages** (``docs/templates.rst``): a template edited as
code (:class:`~.models.EmailTemplate`) for the email wins over the text
fields, which are then not used. An edit applies to its own language only:
a German email uses the German edit, else the packaged German text, never
the English edit (:func:`content_for`).
"""

from __future__ import annotations

import logging
import re

from django.template import Node, TemplateSyntaxError
from django.template.base import Lexer, TokenType
from django.utils.html import escape, linebreaks
from django.utils.safestring import mark_safe
from django.utils.translation import gettext

from ..memo import memoized
from .db_loader import language_candidates
from .models import CONTENT_SLOTS, PARAGRAPH_SLOTS, EmailContent
from .sandbox import UnsafeTemplateError, check_source, render_string

logger = logging.getLogger("django_order_mail.rendering")

#: Where a render's text fields travel in the template context. A template
#: cannot name a variable that starts with "_", so only the tag reads it.
CONTENT_KEY = "_order_mail_content"

#: ``{order_number}`` or ``{ order_number }``: one brace where two belong.
_SINGLE_BRACE = re.compile(r"(?<!\{)\{\s*([A-Za-z_][\w.]*)\s*\}(?!\})")
#: Something that looks like an HTML tag: ``<p>``, ``</b>``, ``<script src=...>``.
_HTML_TAG = re.compile(r"</?[A-Za-z!][^<>]*>")

#: A broken placeholder with the word it belongs to: "{{ order_number".
_BROKEN_FRAGMENT = re.compile(r"\S*\s?(?:\{\{|\}\}|\{%|%\}|\{#|#\})\s?\S*")


def check_text(text: str) -> None:
    """Refuse what a text field may not hold, with the reason: template tags
    and comments, broken or one-brace placeholders, HTML tags, and whatever
    the sandbox refuses (:func:`.sandbox.check_source`). Raises
    :class:`~.sandbox.UnsafeTemplateError`."""
    for token in Lexer(text).tokenize():
        if token.token_type == TokenType.BLOCK:
            name = (token.split_contents() or [""])[0]
            raise UnsafeTemplateError(
                gettext(
                    "“{%% %(tag)s %%}”: tags cannot be used in text fields, only text and "
                    "{{ variables }}. Tags belong in the template editor (Email templates)."
                )
                % {"tag": name}
            )
        if token.token_type == TokenType.COMMENT:
            raise UnsafeTemplateError(gettext("Comments ({# ... #}) cannot be used in text fields."))
        if token.token_type != TokenType.TEXT:
            continue
        broken = _BROKEN_FRAGMENT.search(token.contents)
        if broken:
            raise UnsafeTemplateError(
                gettext(
                    "“%(fragment)s” has a broken placeholder: write a variable with two braces on "
                    "each side, e.g. {{ order_number }}."
                )
                % {"fragment": broken.group(0)[:40]}
            )
        single = _SINGLE_BRACE.search(token.contents)
        if single:
            raise UnsafeTemplateError(
                gettext("“%(fragment)s”: write a variable with two braces on each side: {{ %(name)s }}.")
                % {"fragment": single.group(0), "name": single.group(1)}
            )
        tag = _HTML_TAG.search(token.contents)
        if tag:
            raise UnsafeTemplateError(
                gettext(
                    "“%(tag)s”: text fields take plain text, not HTML. Start a new paragraph with "
                    "an empty line; the layout adds the formatting."
                )
                % {"tag": tag.group(0)[:40]}
            )
    check_source(text, allow_include=False)


def render_slot(slot: str, text: str, context: dict, *, html: bool) -> str:
    """Render the text of field ``slot`` with ``context`` through the sandbox.

    For the HTML part the result is escaped as a whole and a paragraph
    field becomes ``<p>`` paragraphs (one line break: ``<br>``); a one-line
    field has its white space collapsed. Raises
    :class:`~.sandbox.UnsafeTemplateError` for text :func:`check_text` refuses.
    """
    check_text(text)
    visible = {key: value for key, value in context.items() if not key.startswith("_")}
    output = str(render_string(text, visible, autoescape=False))
    if slot in PARAGRAPH_SLOTS:
        lines = "\n".join(line.strip() for line in output.strip().splitlines())
        output = re.sub(r"\n{3,}", "\n\n", lines)
        return mark_safe(linebreaks(output, autoescape=True)) if html else output
    output = " ".join(output.split())
    return mark_safe(escape(output)) if html else output


def content_for(event: str, language: str) -> dict[str, str]:
    """The edited fields of ``event`` in ``language`` (``{slot: text}``).

    Only the email's own language counts: the exact code, then its base
    language (``pt-br``, then ``pt``). Never another language's edit: a
    German customer whose field has no German edit gets the packaged German
    text, not the English edit (``docs/translating.rst``). One query, once
    per send batch (:mod:`django_order_mail.memo`).
    """
    return memoized(("content", event, language), lambda: _content_for(event, language))


def _content_for(event: str, language: str) -> dict[str, str]:
    candidates = language_candidates(language)
    rows = EmailContent.objects.filter(event=event, language__in=candidates).values_list(
        "language", "slot", "text"
    )
    found: dict[str, str] = {}
    for lang in reversed(candidates):  # the exact code last: it wins
        for row_language, slot, text in rows:
            if row_language == lang and text.strip():
                found[slot] = text
    return found


class ContentNode(Node):
    """``{% content "<field>" %}packaged text{% endcontent %}``."""

    child_nodelists = ("nodelist",)

    def __init__(self, slot: str, nodelist):
        self.slot = slot
        self.nodelist = nodelist

    def render(self, context):
        overrides = context.get(CONTENT_KEY)
        text = overrides.get(self.slot) if overrides else None
        if text:
            try:
                output = render_slot(self.slot, text, context.flatten(), html=bool(context.autoescape))
                # A field whose packaged text is empty adds a paragraph: in
                # the plain part it needs the blank line the HTML's <p> gives.
                adds = not context.autoescape and self.slot in PARAGRAPH_SLOTS and output
                if adds and not self.nodelist.render(context).strip():
                    output = "\n\n" + output
                return output
            except Exception:  # a bad edit must not cost the customer the email
                logger.exception(
                    "Edited text %r of %s could not be rendered; using the packaged text",
                    self.slot,
                    context.get("event"),
                )
        return self.nodelist.render(context)


def do_content(parser, token) -> ContentNode:
    """Compile ``{% content "<field>" %}...{% endcontent %}``."""
    bits = token.split_contents()
    name = bits[1][1:-1] if len(bits) == 2 and bits[1][:1] in "\"'" and bits[1][:1] == bits[1][-1:] else ""
    if name not in CONTENT_SLOTS:
        raise TemplateSyntaxError(
            f"{{% content %}} takes one quoted field name, one of: {', '.join(CONTENT_SLOTS)}"
        )
    nodelist = parser.parse(("endcontent",))
    parser.delete_first_token()
    return ContentNode(name, nodelist)
