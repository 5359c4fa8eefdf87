"""Check an edited email template before it is saved.

Three levels, from :func:`validate_fields`:

* **errors** refuse the save: a Django template syntax error (with the field,
  the line and Django's reason), anything the sandbox refuses
  (:mod:`.sandbox`: ``extends``, ``block``, ``debug``, ``autoescape``, the
  ``safe`` filter, a ``load`` of a library outside its allow-list, an
  ``include`` outside the email partials), an empty subject, or a render of
  the sample order that fails;
* **warnings** need the editor to confirm: a variable the event's context
  does not have (``{{ shop.nmae }}``), no plain-text part, external CSS,
  scripts, HTML big enough for Gmail to clip;
* nothing: the template is saved.

The variable check walks the compiled template with the sample context of
:mod:`~django_order_mail.rendering.sample` and follows ``{% for %}``,
``{% with %}`` and ``{% blocktranslate with %}`` scopes, so
``{% for item in items %}{{ item.nmae }}`` is caught too.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.template.base import FilterExpression, NodeList, TokenType, Variable
from django.template.defaulttags import ForNode, IfNode, WithNode
from django.templatetags.i18n import BlockTranslateNode
from django.utils.translation import gettext

from .models import TEMPLATE_FIELDS
from .render import render_fields
from .sample import sample_context
from .sandbox import UnsafeTemplateError, check_source, staff_context, walk_nodes

GMAIL_CLIP_BYTES = 102 * 1024
#: Context values whose keys are open-ended (event data): not checked.
OPEN_KEYS = frozenset({"extra"})
_ALWAYS_KNOWN = frozenset({"forloop", "block", "True", "False", "None", "LANGUAGE_CODE"})
#: Node attributes through which tags assign a name (``... as name``).
_BINDING_ATTRS = ("asvar", "target_var", "variable", "var_name")
_UNKNOWN = object()
#: ``{% for key, value in addresses.items %}``: dict methods templates call.
_DICT_METHODS = frozenset({"items", "keys", "values"})

_EXTERNAL_CSS = re.compile(r"<link\b[^>]*\bstylesheet\b|@import\b", re.IGNORECASE)
_SCRIPT = re.compile(r"<script\b|\bjavascript:|\son[a-z]+\s*=", re.IGNORECASE)


@dataclass(frozen=True)
class Problem:
    level: str  # "error" or "warning"
    field: str  # a TEMPLATE_FIELDS name, or "" for the whole template
    line: int | None
    message: str

    def __str__(self):
        where = self.field.replace("_", " ")
        if self.line:
            where = gettext("%(field)s, line %(line)d") % {"field": where, "line": self.line}
        return f"{where}: {self.message}" if where else self.message


def parse_field(source: str):
    """Compile one field in the sandbox (same line numbers as the editor);
    raises :class:`~.sandbox.UnsafeTemplateError` with the line and the reason."""
    return check_source(source).nodelist


class _VariableChecker:
    """Walk a nodelist and report lookups the sample context cannot resolve."""

    def __init__(self, context: dict, bound: set[str]):
        self.scopes = [dict(context)]
        self.bound = bound
        self.problems: list[tuple[int | None, str]] = []

    def _get(self, name):
        for scope in reversed(self.scopes):
            if name in scope:
                return scope[name]
        return _UNKNOWN if name in self.bound or name in _ALWAYS_KNOWN else None

    def _has(self, name):
        return any(name in s for s in self.scopes) or name in self.bound or name in _ALWAYS_KNOWN

    def resolve(self, lookups, line):
        """The sample value of ``lookups``; reports the first missing part."""
        name = lookups[0]
        if not self._has(name):
            self.problems.append((line, self._unknown(".".join(lookups))))
            return _UNKNOWN
        value = self._get(name)
        for i, part in enumerate(lookups[1:], start=1):
            if value is _UNKNOWN or value is None or (name in OPEN_KEYS and i == 1):
                return _UNKNOWN
            if isinstance(value, dict):
                if not value or (part in _DICT_METHODS and part not in value):
                    return _UNKNOWN
                if part not in value:
                    self.problems.append((line, self._unknown(".".join(lookups[: i + 1]), value)))
                    return _UNKNOWN
                value = value[part]
            elif isinstance(value, (list, tuple)):
                if not part.isdigit():
                    self.problems.append((line, self._unknown(".".join(lookups[: i + 1]))))
                    return _UNKNOWN
                value = value[int(part)] if int(part) < len(value) else _UNKNOWN
            else:
                return _UNKNOWN  # a date, a number, a string: their attributes are fine
        return value

    @staticmethod
    def _unknown(path, known=None):
        text = gettext("“%(name)s” is not a variable of this email, so it prints nothing.") % {"name": path}
        if known:
            text += " " + gettext("Did you mean one of: %(names)s?") % {"names": ", ".join(sorted(known))}
        return text

    def expression(self, fe, line):
        if isinstance(fe, FilterExpression):
            value = self.expression(fe.var, line)
            for _func, args in fe.filters:
                for is_lookup, arg in args:
                    if is_lookup:
                        self.expression(arg, line)
            return value
        if isinstance(fe, Variable) and fe.lookups:
            return self.resolve(fe.lookups, line)
        return _UNKNOWN

    def condition(self, cond, line):
        if cond is None:
            return
        if hasattr(cond, "value"):  # TemplateLiteral
            self.expression(cond.value, line)
        for side in ("first", "second"):
            if getattr(cond, side, None) is not None:
                self.condition(getattr(cond, side), line)

    def walk(self, nodelist):
        for node in nodelist:
            line = getattr(getattr(node, "token", None), "lineno", None)
            if isinstance(node, ForNode):
                seq = self.expression(node.sequence, line)
                item = seq[0] if isinstance(seq, (list, tuple)) and seq else _UNKNOWN
                if len(node.loopvars) > 1:
                    scope = dict.fromkeys(node.loopvars, _UNKNOWN)
                else:
                    scope = {node.loopvars[0]: item}
                self.scopes.append(scope)
                self.walk(node.nodelist_loop)
                self.scopes.pop()
                self.walk(node.nodelist_empty)
            elif isinstance(node, (WithNode, BlockTranslateNode)):
                scope = {k: self.expression(v, line) for k, v in node.extra_context.items()}
                if isinstance(node, BlockTranslateNode):
                    if node.counter is not None:
                        scope[node.countervar] = self.expression(node.counter, line)
                    self.scopes.append(scope)
                    for token in [*node.singular, *(node.plural or [])]:
                        if token.token_type == TokenType.VAR:
                            self.resolve(token.contents.split("."), token.lineno or line)
                    self.scopes.pop()
                else:
                    self.scopes.append(scope)
                    self.walk(node.nodelist)
                    self.scopes.pop()
            elif isinstance(node, IfNode):
                for cond, inner in node.conditions_nodelists:
                    self.condition(cond, line)
                    self.walk(inner)
            else:
                self._generic(node, line)

    def _generic(self, node, line):
        """Any other tag: check every expression it holds, walk its nodelists."""
        for attr, value in vars(node).items():
            if attr in ("token", "origin"):
                continue
            items = value.values() if isinstance(value, dict) else value
            if isinstance(value, NodeList):
                self.walk(value)
            elif isinstance(value, (FilterExpression, Variable)):
                self.expression(value, line)
            elif isinstance(value, (list, tuple, dict)):
                for item in items:
                    if isinstance(item, (FilterExpression, Variable)):
                        self.expression(item, line)
                    elif isinstance(item, NodeList):
                        self.walk(item)


def _bound_names(nodelists) -> set[str]:
    names = set()
    for nodelist in nodelists:
        for node in walk_nodes(nodelist):
            for attr in _BINDING_ATTRS:
                value = getattr(node, attr, None)
                if isinstance(value, str) and value:
                    names.add(value)
    return names


def _html_warnings(fields: dict[str, str], html: str) -> list[Problem]:
    problems = []
    if not (fields.get("plain_body") or "").strip():
        problems.append(
            Problem(
                "warning",
                "plain_body",
                None,
                gettext("There is no plain-text part: some email programs and spam filters need it."),
            )
        )
    source = fields.get("html_body") or ""
    if _EXTERNAL_CSS.search(source):
        problems.append(
            Problem(
                "warning",
                "html_body",
                None,
                gettext('External stylesheets are ignored by Gmail and Outlook: use <style> or style="".'),
            )
        )
    if _SCRIPT.search(source):
        problems.append(
            Problem(
                "warning",
                "html_body",
                None,
                gettext("Email programs remove scripts and event handlers (onclick=...); they will not run."),
            )
        )
    size = len(html.encode())
    if size > GMAIL_CLIP_BYTES:
        problems.append(
            Problem(
                "warning",
                "html_body",
                None,
                gettext("The HTML is %(kb)d KB: Gmail cuts off emails above about 102 KB.")
                % {"kb": size // 1024},
            )
        )
    return problems


def validate_fields(
    fields: dict[str, str], event: str, *, language: str = "", channel: str = ""
) -> list[Problem]:
    """Every problem of an edited template, errors first."""
    errors: list[Problem] = []
    nodelists = {}
    for name in TEMPLATE_FIELDS:
        source = fields.get(name) or ""
        try:
            nodelists[name] = parse_field(source)
        except UnsafeTemplateError as exc:
            errors.append(Problem("error", name, exc.line, str(exc)))
    if not (fields.get("subject") or "").strip():
        errors.append(Problem("error", "subject", None, gettext("The subject is empty.")))
    if errors:
        return errors

    context = sample_context(event, channel=channel or "web")
    try:
        rendered = render_fields(fields, context, event=event, language=language, channel=channel)
    except Exception as exc:  # noqa: BLE001 - shown to the editor, nothing is saved
        return [
            Problem(
                "error",
                "",
                None,
                gettext("The sample order cannot be rendered: %(error)s")
                % {"error": f"{type(exc).__name__}: {exc}"},
            )
        ]
    if not rendered.subject:
        errors.append(
            Problem("error", "subject", None, gettext("The subject renders empty for the sample order."))
        )

    warnings = []
    visible = staff_context(context)
    bound = _bound_names(nodelists.values())
    for name, nodelist in nodelists.items():
        checker = _VariableChecker(visible, bound)
        checker.walk(nodelist)
        seen = set()
        for line, message in checker.problems:
            if (line, message) not in seen:
                seen.add((line, message))
                warnings.append(Problem("warning", name, line, message))
    return errors + warnings + _html_warnings(fields, rendered.html)


def describe_context(context: dict) -> list[tuple[str, str]]:
    """``(variable, sample value)`` rows for the editor's variables panel."""
    rows = []

    def sample(value):
        text = str(value)
        return text if len(text) <= 60 else text[:59] + "…"

    for key in sorted(staff_context(context)):
        value = context[key]
        if isinstance(value, dict):
            rows.append((key, ""))
            rows += [(f"{key}.{k}", sample(v)) for k, v in value.items() if not isinstance(v, (dict, list))]
            rows += [(f"{key}.{k}", "…") for k, v in value.items() if isinstance(v, (dict, list))]
        elif isinstance(value, (list, tuple)):
            rows.append((key, gettext("list of %(n)d") % {"n": len(value)}))
            if value and isinstance(value[0], dict):
                rows += [(f"{key}.0.{k}", sample(v)) for k, v in value[0].items()]
        else:
            rows.append((key, sample(value)))
    return rows
