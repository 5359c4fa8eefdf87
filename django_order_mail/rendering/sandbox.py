"""The one rendering path for staff-editable text.

Everything staff type into the admin and the app renders as a template —
edited email templates, subject-line A/B variants, and anything added later —
goes through this module, and nothing else renders staff text. It enforces
two rules (``docs/security.rst``):

**What the text may say.** :func:`check_source` compiles the text with a
locked-down template engine (:func:`sandbox_engine`): only the libraries of
:data:`ALLOWED_LIBRARIES` can be loaded (the email tags and filters, i18n, l10n
and tz; never ``cache``, ``log``, ``static`` or a shop's own library), the tags
of :data:`FORBIDDEN_TAGS` (``debug``, ``extends``, ``block``, ``autoescape``,
``load`` of anything else) and the filters of :data:`FORBIDDEN_FILTERS`
(``safe``, ``safeseq``: customer text is always escaped) do not exist, and
``{% include %}`` takes only a quoted name of a packaged email partial. The
same check runs when the text is saved (with the line and the reason) and
again, cached, every time it is rendered, so a row written around the admin
(a fixture, a data migration, an old release) cannot slip past it.

**What the text may see.** :func:`staff_context` turns an email's context
into plain data: dicts, tuples, strings, numbers, booleans, dates and
Decimals. A model instance, a manager, a queryset or any other object is left
out, at any depth, so no lookup can walk from the email to other customers'
rows, and nothing a template can call has a side effect: the dicts refuse
``clear``/``pop``/``update`` (Django's ``alters_data``) and lists become
tuples. ``order`` becomes ``{"state": ...}`` (the packaged shipping emails
read ``order.state``).

Packaged and project *file* templates are written by developers and are not
sandboxed; they keep the full context (``docs/templates.rst``).
"""

from __future__ import annotations

import datetime
import re
from decimal import Decimal
from functools import lru_cache
from typing import ClassVar

from django.template import (
    Context,
    Engine,
    Library,
    TemplateSyntaxError,
    defaultfilters,
    defaulttags,
    loader_tags,
)
from django.template.base import FilterExpression, Lexer, TokenType
from django.template.defaulttags import IfNode
from django.template.loader_tags import IncludeNode
from django.utils.functional import Promise
from django.utils.translation import gettext, gettext_noop

from ..exceptions import OrderMailError
from ..lifecycle.states import order_state

__all__ = [
    "ALLOWED_LIBRARIES",
    "FORBIDDEN_FILTERS",
    "FORBIDDEN_TAGS",
    "PARTIALS_DIR",
    "PRELOADED",
    "UnsafeTemplateError",
    "check_source",
    "render_string",
    "staff_context",
    "to_plain",
    "walk_nodes",
]

#: Where the email partials live; the only templates staff text may include.
PARTIALS_DIR = "django_order_mail/email/"
#: Tag libraries staff text may use (and ``{% load %}``), by load name.
ALLOWED_LIBRARIES = {
    "i18n": "django.templatetags.i18n",
    "l10n": "django.templatetags.l10n",
    "tz": "django.templatetags.tz",
    "order_mail": "django_order_mail.templatetags.order_mail",
}
#: Loaded for every piece of staff text, so editors never need ``{% load %}``.
PRELOADED = "{% load i18n order_mail %}"
#: Built-in tags that do not exist in staff text, with the reason shown.
FORBIDDEN_TAGS = {
    "debug": gettext_noop("{% debug %} is not allowed in an email."),
    "extends": gettext_noop("{% extends %} and {% block %} are not allowed here."),
    "block": gettext_noop("{% extends %} and {% block %} are not allowed here."),
    "autoescape": gettext_noop("{% autoescape %} is not allowed: customer text is always escaped."),
    "lorem": gettext_noop("{% lorem %} is not allowed in an email."),
}
#: Filters whose argument sets an output size: only a literal argument, at
#: most this large, so no text can make a render allocate gigabytes.
SIZED_FILTERS = {"ljust": 200, "rjust": 200, "center": 200, "stringformat": 200, "floatformat": 20}
_SIZED_USE = re.compile(
    r"(?:\||\bfilter\s)\s*(" + "|".join(SIZED_FILTERS) + r""")\s*:\s*("[^"]*"|'[^']*'|[^\s|}%]+)"""
)
#: Built-in filters that do not exist in staff text.
FORBIDDEN_FILTERS = frozenset({"safe", "safeseq"})


class UnsafeTemplateError(TemplateSyntaxError, OrderMailError):
    """Staff text that the sandbox refuses; ``line`` is 1-based or None."""

    def __init__(self, message: str, line: int | None = None):
        super().__init__(message)
        self.line = line


# -- the engine ---------------------------------------------------------------
#: The sandbox's built-in tags and filters: Django's own, minus the forbidden
#: ones. Engine(builtins=[...]) takes module paths, so this module is one.
register = Library()
for _library in (defaulttags.register, loader_tags.register):
    register.tags.update({n: t for n, t in _library.tags.items() if n not in FORBIDDEN_TAGS})
register.filters.update(
    {n: f for n, f in defaultfilters.register.filters.items() if n not in FORBIDDEN_FILTERS}
)


class _SandboxEngine(Engine):
    # Engine() always adds Django's full built-ins before the ones it is
    # given; the sandbox gives its own reduced copy instead.
    default_builtins: ClassVar[list[str]] = []


@lru_cache(maxsize=1)
def sandbox_engine() -> Engine:
    """A template engine that knows only the sandbox's tags, filters and
    libraries and loads no template from disk (staff text is parsed here;
    an edited email template is then rendered inside its packaged layout)."""
    return _SandboxEngine(
        loaders=[],
        libraries=ALLOWED_LIBRARIES,
        builtins=[__name__],
        autoescape=True,
    )


def _line_of(exc: Exception) -> int | None:
    line = getattr(getattr(exc, "token", None), "lineno", None)
    return line if isinstance(line, int) else None


def _check_tokens(source: str) -> None:
    """Friendly refusals for forbidden tags and libraries, with the line."""
    for token in Lexer(source).tokenize():
        if token.token_type == TokenType.VAR:
            _check_sizes(token)
        if token.token_type != TokenType.BLOCK:
            continue
        bits = token.split_contents()
        name = bits[0] if bits else ""
        if name in FORBIDDEN_TAGS:
            raise UnsafeTemplateError(gettext(FORBIDDEN_TAGS[name]), token.lineno)
        _check_sizes(token)
        if name == "load":
            names = bits[-1:] if "from" in bits else bits[1:]
            for library in names:
                if library not in ALLOWED_LIBRARIES:
                    raise UnsafeTemplateError(
                        gettext("{%% load %(library)s %%} is not allowed; available: %(allowed)s.")
                        % {"library": library, "allowed": ", ".join(sorted(ALLOWED_LIBRARIES))},
                        token.lineno,
                    )


def _check_sizes(token) -> None:
    for match in _SIZED_USE.finditer(token.contents):
        name, argument = match.group(1), match.group(2)
        literal = argument[:1] in "\"'" or re.fullmatch(r"-?\d+", argument)
        numbers = [int(n) for n in re.findall(r"\d+", argument)]
        if not literal or any(n > SIZED_FILTERS[name] for n in numbers):
            raise UnsafeTemplateError(
                gettext("The |%(filter)s filter takes a written-out size of at most %(limit)d.")
                % {"filter": name, "limit": SIZED_FILTERS[name]},
                token.lineno,
            )


def walk_nodes(nodelist):
    """Every node of ``nodelist``, depth first, ``{% if %}`` branches included."""
    for node in nodelist:
        yield node
        for attr in getattr(node, "child_nodelists", ()):
            yield from walk_nodes(getattr(node, attr, None) or [])
        if isinstance(node, IfNode):
            for _cond, inner in node.conditions_nodelists:
                yield from walk_nodes(inner)


def _check_includes(nodelist, allow_include: bool) -> None:
    for node in walk_nodes(nodelist):
        if not isinstance(node, IncludeNode):
            continue
        line = getattr(getattr(node, "token", None), "lineno", None)
        name = node.template.var if isinstance(node.template, FilterExpression) else None
        if not allow_include:
            raise UnsafeTemplateError(gettext("{% include %} is not allowed here."), line)
        if not isinstance(name, str) or not name.startswith(PARTIALS_DIR) or ".." in name:
            raise UnsafeTemplateError(
                gettext("{%% include %%} may only include the email partials in %(dir)s.")
                % {"dir": PARTIALS_DIR},
                line,
            )


@lru_cache(maxsize=512)
def _compile(source: str, allow_include: bool):
    _check_tokens(source)
    try:
        template = sandbox_engine().from_string(PRELOADED + source)
    except UnsafeTemplateError:
        raise
    except TemplateSyntaxError as exc:
        # The line goes into .line; Django's "on line N" would repeat it.
        raise UnsafeTemplateError(re.sub(r" on line \d+", "", str(exc)), _line_of(exc)) from exc
    _check_includes(template.nodelist, allow_include)
    return template


def check_source(source: str, *, allow_include: bool = True):
    """Compile staff text in the sandbox; the compiled template, or
    :class:`UnsafeTemplateError` with the reason and the line. Cached: checking
    the same text again costs a dictionary lookup."""
    return _compile(source or "", allow_include)


# -- the context --------------------------------------------------------------
class _ReadOnlyDict(dict):
    """A dict a template cannot change: Django does not call methods marked
    ``alters_data``, and these refuse anyway."""

    def _refuse(self, *args, **kwargs):
        raise TypeError("staff templates see read-only data")

    _refuse.alters_data = True  # type: ignore[attr-defined]  # the function attribute Django's templates read
    clear = pop = popitem = setdefault = update = __setitem__ = __delitem__ = _refuse


_SCALARS = (str, int, float, Decimal, datetime.date, datetime.time, datetime.timedelta, type(None))
_OMIT = object()


def to_plain(value, _depth: int = 0):
    """``value`` as plain, read-only data, or the marker for "leave it out".

    Strings (safe strings stay safe: the packaged partials' markup), numbers,
    booleans, dates, times and Decimals pass; lazy translations are resolved
    in the active language; dicts with string keys, lists, tuples and sets
    are converted item by item. Anything else - a model instance, a manager,
    a function - is left out.
    """
    if isinstance(value, _SCALARS):  # bool is an int
        return value
    if isinstance(value, Promise):
        return str(value)
    if _depth > 20:
        return _OMIT
    if isinstance(value, dict):
        items = {}
        for key, item in value.items():
            if isinstance(key, str):
                plain = to_plain(item, _depth + 1)
                if plain is not _OMIT:
                    items[key] = plain
        return _ReadOnlyDict(items)
    if isinstance(value, (list, tuple, set, frozenset)):
        plain_items = (to_plain(item, _depth + 1) for item in value)
        return tuple(item for item in plain_items if item is not _OMIT)
    return _OMIT


def staff_context(context: dict) -> dict:
    """The context staff text renders with: :func:`to_plain` of every value,
    ``order`` replaced by ``{"state": ...}``."""
    visible = {}
    for key, value in context.items():
        if key == "order":
            continue
        plain = to_plain(value)
        if plain is not _OMIT:
            visible[key] = plain
    order = context.get("order")
    if order is not None:
        visible["order"] = _ReadOnlyDict({"state": order_state(order) or ""})
    return visible


def render_string(source: str, context: dict, *, autoescape: bool = True, allow_include: bool = False) -> str:
    """Render one piece of staff text (say, a subject variant) with the
    plain-data view of ``context``. Raises :class:`UnsafeTemplateError` for text
    the sandbox refuses, and whatever rendering raises."""
    template = check_source(source, allow_include=allow_include)
    return template.render(Context(staff_context(context), autoescape=autoescape))
