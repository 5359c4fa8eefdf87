"""Check a text field before it is saved, and offer its variables.

A text field (:mod:`.content`) is refused at save, with the reason, when

* it holds anything but text and ``{{ variables }}``: a tag (``{% load %}``),
  a comment, HTML (``<script>``), a broken placeholder (``{{ order_number``,
  ``{order_number}``), or what the sandbox refuses (``|safe``);
* a placeholder names a variable this email does not offer
  (``{{ order.customer.password }}``, ``{{ shipment.tracking_number }}`` in
  an order confirmation), or uses a filter outside :data:`ALLOWED_FILTERS`;
* the email's own rules refuse it (a feature app's ``check``, registered
  with :func:`.content_registry.register_text_fields`: the feedback
  request's honest-review wording);
* it cannot be rendered for the sample order.

Unlike the template editor, which warns about an unknown variable, a text
field refuses it: its staff write text, not code, and a placeholder that
prints nothing is a mistake they cannot see. The variables offered are
those of the event's sample context (:mod:`.sample`), the same data the
email has at send time, as plain values with the filter that formats them
(an amount with ``|money:currency``, a date with ``|localdate``).
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from decimal import Decimal

from django.template.base import FilterExpression, Variable, VariableNode
from django.utils import translation
from django.utils.translation import gettext

from ..templatetags.order_mail import register as order_mail_filters
from . import sandbox
from .content import check_text, render_slot
from .content_registry import text_fields
from .sample import sample_context
from .sandbox import UnsafeTemplateError, check_source, staff_context, walk_nodes

#: Filters a text field may use: formatting, nothing that writes markup.
ALLOWED_FILTERS = frozenset(
    {"money", "localdate", "reason_text", "default", "upper", "lower", "title", "capfirst"}
)
#: Variables a filter may take as its argument (``|money:currency``,
#: ``|reason_text:event``) without being offered as text themselves.
ARGUMENT_VARIABLES = frozenset({"currency", "event"})
#: Context keys not offered: codes, lists, the order's internals. A feature
#: app hides its own keys (``register_text_fields(hidden=...)``).
HIDDEN_KEYS = frozenset(
    {
        "event",
        "channel",
        "order",
        "currency",
        "items",
        "shipments",
        "addresses",
        "recommended_products",
        "referral",
    }
)
#: Keys of a dict not offered (``shop.primary_color``, ``shipment.id``).
HIDDEN_SUFFIXES = ("_color", "_colour")
HIDDEN_PATHS = frozenset({"shipment.id", "shipment.carrier", "shop.logo_url", "extra.reason"})
MAX_LENGTH = {"subject": 200, "preheader": 250, "headline": 200, "button": 60}
PARAGRAPH_MAX_LENGTH = 3000

_FILTER_NAMES = {
    id(function): name
    for library in (sandbox.register, order_mail_filters)
    for name, function in library.filters.items()
}


@dataclass(frozen=True)
class Chip:
    """A variable staff insert with one click."""

    path: str  # what it is, e.g. "totals.total"
    expression: str  # what is inserted between the braces, e.g. "totals.total|money:currency"
    sample: str  # its value for the sample order

    @property
    def placeholder(self) -> str:
        return "{{ " + self.expression + " }}"

    @property
    def group(self) -> str:
        return self.path.split(".")[0] if "." in self.path else ""

    @property
    def label(self) -> str:
        """The name under its group's heading: ``tracking_number`` under "Parcel"."""
        return self.path.split(".", 1)[1] if self.group else self.path


def _expression(path: str, value) -> str | None:
    if isinstance(value, (bool, list, tuple, dict)) or value is None:
        return None  # a flag, a list, or nothing this email has
    if value == "" and not path.startswith("shop."):
        return None  # another email's variable (extra.note of a cancellation, feedback_url)
    if path == "extra.reason_code":
        return "extra.reason_code|reason_text:event"
    if isinstance(value, Decimal):
        return f"{path}|money:currency"
    if isinstance(value, (datetime.date, datetime.datetime)):
        return f"{path}|localdate"
    return path


def _hidden(path: str, own: frozenset[str] = frozenset()) -> bool:
    return path in HIDDEN_PATHS or path in own or path.endswith(HIDDEN_SUFFIXES)


def offered_variables(event: str, language: str = "") -> list[Chip]:
    """The variables of ``event`` a text field may use, with sample values
    rendered in ``language``: those with a value for the sample order (the
    sample of each event fills what its email is about), and every field of
    the shop's branding, which the shop may still fill in."""
    context = sample_context(event)
    visible = staff_context(context)
    own = text_fields(event).hidden
    chips = []
    for key in sorted(visible):
        if key in HIDDEN_KEYS or key in own or key.startswith("_") or key in ("True", "False", "None"):
            continue
        value = visible[key]
        entries = (
            [(f"{key}.{sub}", item) for sub, item in value.items()]
            if isinstance(value, dict)
            else [(key, value)]
        )
        for path, item in entries:
            expression = _expression(path, item)
            if expression is None or _hidden(path, own):
                continue
            chips.append(Chip(path, expression, ""))
    with translation.override(language or None):
        return [Chip(c.path, c.expression, _sample(c, context)) for c in chips]


def _sample(chip: Chip, context: dict) -> str:
    try:
        text = render_slot("headline", chip.placeholder, context, html=False)
    except Exception:  # noqa: BLE001 - a sample is only a hint
        return ""
    return text if len(text) <= 60 else text[:59] + "…"


def _path(variable) -> str | None:
    if isinstance(variable, Variable) and variable.lookups:
        return ".".join(variable.lookups)
    return None


def _placeholder_problems(text: str, offered: set[str]) -> list[str]:
    problems = []
    for node in walk_nodes(check_source(text, allow_include=False).nodelist):
        if not isinstance(node, VariableNode):
            continue
        expression: FilterExpression = node.filter_expression
        path = _path(expression.var)
        if path is not None and path not in offered:
            problems.append(
                gettext(
                    "“{{ %(name)s }}” is not a variable of this email. Insert one of the variables "
                    "offered for it."
                )
                % {"name": path}
            )
        for function, arguments in expression.filters:
            name = _FILTER_NAMES.get(id(function), getattr(function, "__name__", "?"))
            if name not in ALLOWED_FILTERS:
                problems.append(
                    gettext("The filter “|%(filter)s” cannot be used in text fields; these can: %(allowed)s.")
                    % {"filter": name, "allowed": ", ".join(sorted(ALLOWED_FILTERS))}
                )
            for is_lookup, argument in arguments:
                argument_path = _path(argument) if is_lookup else None
                if argument_path is not None and argument_path not in offered | ARGUMENT_VARIABLES:
                    problems.append(
                        gettext("“%(name)s” is not a variable of this email.") % {"name": argument_path}
                    )
    return problems


def validate_text(
    slot: str,
    text: str,
    event: str,
    *,
    language: str = "",
    offered: set[str] | None = None,
    context: dict | None = None,
) -> list[str]:
    """Why ``text`` cannot be saved as field ``slot`` of ``event`` (``[]``: it can)."""
    text = text or ""
    limit = MAX_LENGTH.get(slot, PARAGRAPH_MAX_LENGTH)
    if len(text) > limit:
        return [
            gettext("Keep it to %(limit)d characters (it has %(count)d).")
            % {"limit": limit, "count": len(text)}
        ]
    try:
        check_text(text)
    except UnsafeTemplateError as exc:
        return [str(exc)]
    if offered is None:
        offered = {chip.path for chip in offered_variables(event)}
    problems = _placeholder_problems(text, offered)
    check = text_fields(event).check
    if not problems and check is not None:
        problems = [str(reason) for reason in check(slot, text, language) or ()]
    if problems:
        return list(dict.fromkeys(problems))
    try:
        with translation.override(language or None):
            render_slot(slot, text, context if context is not None else sample_context(event), html=True)
    except Exception as exc:  # noqa: BLE001 - shown to the editor, nothing is saved
        return [
            gettext("It cannot be rendered for the sample order: %(error)s")
            % {"error": f"{type(exc).__name__}: {exc}"}
        ]
    return []


def validate_texts(fields: dict[str, str], event: str, *, language: str = "") -> dict[str, list[str]]:
    """``{field: [reasons]}`` for every field of ``fields`` that cannot be saved."""
    offered = {chip.path for chip in offered_variables(event)}
    with translation.override(language or None):
        context = sample_context(event)
    problems = {}
    for slot, text in fields.items():
        reasons = validate_text(slot, text, event, language=language, offered=offered, context=context)
        if reasons:
            problems[slot] = reasons
    return problems
