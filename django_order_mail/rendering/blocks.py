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
parent can differ per render); they are walked every time, as before.
"""

from __future__ import annotations

from copy import copy
from weakref import WeakKeyDictionary

from django.template import Context
from django.template.base import Template
from django.template.context import RenderContext
from django.template.loader_tags import BLOCK_CONTEXT_KEY, BlockContext, BlockNode, ExtendsNode
from render_block import BlockNotFound

_levels: WeakKeyDictionary[Template, list[dict[str, BlockNode]]] = WeakKeyDictionary()


def _constant_parent(node: ExtendsNode) -> bool:
    expression = node.parent_name
    return not expression.filters and isinstance(expression.var, str)


def _block_levels(template: Template, context: Context) -> list[dict[str, BlockNode]]:
    """The block nodes of ``template`` and of each template it extends, child first."""
    levels = _levels.get(template)
    if levels is not None:
        return levels
    levels, cacheable, current = [], True, template
    while current is not None:
        levels.append({n.name: n for n in current.nodelist.get_nodes_by_type(BlockNode)})
        extends = current.nodelist.get_nodes_by_type(ExtendsNode)
        if not extends:
            break
        cacheable = cacheable and _constant_parent(extends[0])
        current = extends[0].get_parent(context)
    if cacheable:
        _levels[template] = levels
    return levels


def render_block(template, block_name: str, context: Context) -> str:
    """Render ``block_name`` of ``template`` (a backend or engine template)
    with ``context``; raises :class:`render_block.BlockNotFound` like
    django-render-block."""
    template = getattr(template, "template", template)
    context = copy(context)  # reset the rendering state, as django_render_block does
    context.render_context = RenderContext()
    with context.render_context.push_state(template), context.bind_template(template):
        block_context = context.render_context.setdefault(BLOCK_CONTEXT_KEY, BlockContext())
        for level in _block_levels(template, context):
            block_context.add_blocks(level)
        node = block_context.get_block(block_name)
        if node is None:
            raise BlockNotFound(f"block with name '{block_name}' does not exist")
        return node.render(context)
