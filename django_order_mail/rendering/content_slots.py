"""Which text fields an email has, and their packaged text in each language.

The fields of an event are the ``{% content %}`` tags of the file template
it would be rendered with (``django_order_mail/email/<event>.email`` and the
layouts it extends), so a template, the package's or a shop's own, decides
what staff can edit without template code: nothing is declared twice.

The packaged text of a field is read from the tag's contents in a
language: ``{% translate %}`` and ``{% blocktranslate %}`` become their
translation, with each ``{{ variable }}`` written back as a placeholder
(``blocktranslate with shop=shop.name`` gives ``{{ shop.name }}``), so staff
see, copy and compare the text exactly as they would write it, e.g.
"Ihre Bestellung {{ order_number }} ist unterwegs". Where the packaged text
has variants (``{% if customer_name %}...{% else %}...{% endif %}``) the
last one is shown: the one without optional details, which fits every order.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.template import Context, TemplateDoesNotExist, TemplateSyntaxError
from django.template.base import Node, NodeList, TextNode, VariableNode
from django.template.defaulttags import IfNode
from django.template.loader import get_template
from django.template.loader_tags import BlockNode, ExtendsNode
from django.templatetags.i18n import BlockTranslateNode, TranslateNode
from django.utils import translation
from django.utils.html import strip_tags
from django.utils.translation import gettext, ngettext, npgettext, pgettext

from .content import ContentNode
from .db_loader import file_name
from .models import CONTENT_SLOTS, PARAGRAPH_SLOTS

#: Blocks of the plain-text part (and the subject); a field's packaged text
#: is read from the HTML part where it has one.
PLAIN_BLOCKS = frozenset({"subject", "plain", "plain_body", "plain_greeting", "plain_support"})


@dataclass(frozen=True)
class Slot:
    name: str
    nodelist: NodeList  # the tag's contents: the packaged text

    @property
    def label(self) -> str:
        return str(CONTENT_SLOTS[self.name])

    @property
    def paragraphs(self) -> bool:
        return self.name in PARAGRAPH_SLOTS

    @property
    def has_variants(self) -> bool:
        """The packaged text differs by case (with or without the customer's
        name, the amount; one item or several): an edit replaces every variant."""
        return any(
            isinstance(node, IfNode) or (isinstance(node, BlockTranslateNode) and node.plural)
            for node in self.nodelist
        )


def _engine_template(name: str):
    # get_template() gives the backend's wrapper; its .template is the
    # compiled django.template.Template.
    return getattr(get_template(name), "template", None)


def _walk(nodelist, block: str, found: list, skip_blocks: frozenset[str]) -> None:
    for node in nodelist:
        current = block
        if isinstance(node, BlockNode):
            if node.name in skip_blocks:
                continue
            current = node.name
        if isinstance(node, ContentNode):
            found.append((node, current))
            continue  # no field inside a field
        for attr in getattr(node, "child_nodelists", ()):
            _walk(getattr(node, attr, None) or [], current, found, skip_blocks)
        if isinstance(node, IfNode):
            for _condition, inner in node.conditions_nodelists:
                _walk(inner, current, found, skip_blocks)


def event_slots(event: str) -> list[Slot]:
    """The text fields of ``event``'s generic file template, in the editor's
    order; ``[]`` when it has none (or no file template)."""
    found: list[tuple[ContentNode, str]] = []
    overridden: set[str] = set()
    seen = set()
    name: str | None = file_name(event)
    while name is not None and name not in seen:
        seen.add(name)
        try:
            template = _engine_template(name)
        except (TemplateDoesNotExist, TemplateSyntaxError):
            # No file, or a shop's broken one: no fields to offer (the
            # send log and check E008 report the template itself).
            return []
        _walk(template.nodelist, "", found, frozenset(overridden))
        overridden |= {node.name for node in template.nodelist.get_nodes_by_type(BlockNode)}
        extends = template.nodelist.get_nodes_by_type(ExtendsNode)
        parent = extends[0].parent_name.var if extends else None
        name = parent if isinstance(parent, str) else None
    first: dict[str, tuple[NodeList, bool]] = {}
    for node, block in found:  # the HTML part's occurrence first, else the first one
        in_plain = block in PLAIN_BLOCKS
        if node.slot not in first or (first[node.slot][1] and not in_plain):
            first[node.slot] = (node.nodelist, in_plain)
    return [Slot(name, first[name][0]) for name in CONTENT_SLOTS if name in first]


def _placeholder(expression: str) -> str:
    return "{{ " + expression + " }}"


def _blocktranslate_source(node: BlockTranslateNode) -> str:
    msgid, names = node.render_token_list(node.singular)
    context = node.message_context.resolve(Context()) if node.message_context else None
    if node.plural and node.countervar:
        # A plural entry's singular, looked up as one (count 1): plain
        # gettext() finds it on Python 3.11+ only.
        plural, plural_names = node.render_token_list(node.plural)
        names = list(dict.fromkeys([*names, *plural_names]))
        translated = npgettext(context, msgid, plural, 1) if context else ngettext(msgid, plural, 1)
    else:
        translated = pgettext(context, msgid) if context else gettext(msgid)
    mapping = {}
    for name in names:
        expression = node.counter if name == node.countervar else node.extra_context.get(name)
        mapping[name] = _placeholder(expression.token if expression is not None else name)
    try:
        return translated % mapping
    except (KeyError, ValueError, TypeError):
        return msgid % mapping


def _source(nodelist) -> str:
    parts = []
    for node in nodelist:
        if isinstance(node, TextNode):
            parts.append(node.s)
        elif isinstance(node, TranslateNode):
            parts.append(node.render(Context(autoescape=False)))
        elif isinstance(node, BlockTranslateNode):
            parts.append(_blocktranslate_source(node))
        elif isinstance(node, VariableNode):
            parts.append(_placeholder(node.filter_expression.token))
        elif isinstance(node, IfNode):
            branches = node.conditions_nodelists
            otherwise = [inner for condition, inner in branches if condition is None]
            parts.append(_source(otherwise[0] if otherwise else branches[-1][1]))
        elif isinstance(node, Node):
            for attr in getattr(node, "child_nodelists", ()):
                parts.append(_source(getattr(node, attr, None) or []))
    return "".join(parts)


def source_text(slot: Slot, language: str) -> str:
    """The packaged text of ``slot`` in ``language``, as staff would write it."""
    with translation.override(language):
        raw = _source(slot.nodelist)
    raw = re.sub(r"</p>\s*<p[^>]*>", "\n\n", raw)
    raw = re.sub(r"<br\s*/?>", "\n", raw)
    text = strip_tags(raw)
    if slot.paragraphs:
        lines = "\n".join(" ".join(line.split()) for line in text.strip().splitlines())
        return re.sub(r"\n{3,}", "\n\n", lines)
    return " ".join(text.split())


def packaged_texts(event: str, language: str) -> dict[str, str]:
    """``{field: packaged text}`` of every field of ``event`` in ``language``."""
    return {slot.name: source_text(slot, language) for slot in event_slots(event)}
