"""Render one ``{% block %}`` of a template, as django-render-block does,
without walking the whole node tree on every render.

django-templated-email renders an email as three blocks (``subject``,
``plain``, ``html``) with django-render-block, whose ``django_render_block``
collects the template's ``BlockNode``\\ s, and those of every template it
extends, with ``get_nodes_by_type`` on each call: three full walks of a
large HTML layout per email, about a fifth of the render time in the
profile (``docs/performance.md``). The blocks of a compiled template never
change, so this module collects them once per template object and then
renders exactly as ``django_render_block`` does: a fresh render context, a
``BlockContext`` filled child first, and the most derived block rendered.

Templates whose ``{% extends %}`` parent is a variable are not cached (their
parent can differ per render); they are walked every time, as before. For
the others the parents are looked up again at most once a second (a hit in
Django's cached loader) and the cached blocks are used only while they are
the same template objects, so a reloaded parent (``runserver`` after an
edit) is rendered from its new nodes within a second.
"""

from __future__ import annotations

import time
from copy import copy
from typing import TypeVar, cast
from weakref import WeakKeyDictionary

from django.template import Context
from django.template.base import FilterExpression, Node, NodeList, Template
from django.template.context import RenderContext
from django.template.loader_tags import BLOCK_CONTEXT_KEY, BlockContext, BlockNode, ExtendsNode
from render_block import BlockNotFound

#: template -> [its blocks and its ancestors', child first; the ancestors;
#: when the ancestors were last checked (time.monotonic())]
_levels: WeakKeyDictionary[Template, list] = WeakKeyDictionary()
#: Seconds a check that the ancestors are unchanged stays good.
RECHECK_AFTER = 1.0

_N = TypeVar("_N", bound=Node)


def _nodes_of(nodelist: NodeList, nodetype: type[_N]) -> list[_N]:
    # django-stubs types get_nodes_by_type as list[Node]; it returns only nodetype's.
    return cast("list[_N]", nodelist.get_nodes_by_type(nodetype))


def _constant_parent(node: ExtendsNode) -> bool:
    expression = node.parent_name  # a FilterExpression when parsed from {% extends %}
    return (
        isinstance(expression, FilterExpression)
        and not expression.filters
        and isinstance(expression.var, str)
    )


def _block_levels(template: Template, context: Context) -> list[dict[str, BlockNode]]:
    """The block nodes of ``template`` and of each template it extends, child first."""
    cached = _levels.get(template)
    if cached is not None:
        levels, parents, checked_at = cached
        now = time.monotonic()
        if now - checked_at < RECHECK_AFTER:
            return levels
        if _same_parents(template, parents, context):
            cached[2] = now
            return levels
    levels, parents, cacheable, current = [], [], True, template
    while current is not None:
        levels.append({n.name: n for n in _nodes_of(current.nodelist, BlockNode)})
        extends = _nodes_of(current.nodelist, ExtendsNode)
        if not extends:
            break
        cacheable = cacheable and _constant_parent(extends[0])
        current = extends[0].get_parent(context)
        parents.append(current)
    if cacheable:
        _levels[template] = [levels, parents, time.monotonic()]
    return levels


def _same_parents(template: Template, parents: list[Template], context: Context) -> bool:
    """Each ``{% extends %}`` of the chain still resolves to the template
    object the cached blocks came from. Looked up with a render context of
    its own: ``get_parent`` records each template it finds there, to skip it
    in the next lookup (how a template may extend one of the same name)."""
    saved, context.render_context = context.render_context, RenderContext()
    try:
        current = template
        for parent in parents:
            # {% extends %} is always a top-level node (it must be the first tag).
            node = next((n for n in current.nodelist if isinstance(n, ExtendsNode)), None)
            if node is None or node.get_parent(context) is not parent:
                return False
            current = parent
        return True
    finally:
        context.render_context = saved


def render_block(template, block_name: str, context: Context) -> str:
    """Render ``block_name`` of ``template`` (a backend or engine template)
    with ``context``; raises :class:`render_block.BlockNotFound` like
    django-render-block."""
    template = getattr(template, "template", template)
    context = copy(context)  # reset the rendering state, as django_render_block does
    context.render_context = RenderContext()
    with context.render_context.push_state(template), context.bind_template(template):
        # The render context is the fresh one set above, so this is what
        # django_render_block's setdefault() does (whose stub expects no BlockContext).
        block_context = BlockContext()
        context.render_context[BLOCK_CONTEXT_KEY] = block_context
        for level in _block_levels(template, context):
            block_context.add_blocks(level)
        node = block_context.get_block(block_name)
        if node is None:
            raise BlockNotFound(f"block with name '{block_name}' does not exist")
        return node.render(context)
