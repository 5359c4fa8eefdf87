"""The cached block renderer gives exactly what django-render-block gives."""

from pathlib import Path

import pytest
from django.template import Context, engines
from django.template.loader import get_template
from render_block import BlockNotFound
from render_block.django import django_render_block

from django_order_mail.rendering import blocks
from django_order_mail.rendering.blocks import render_block
from django_order_mail.rendering.sample import sample_context

EMAIL_DIR = Path(blocks.__file__).parent.parent / "templates" / "django_order_mail" / "email"
TEMPLATES = sorted(
    str(path.relative_to(EMAIL_DIR.parent.parent))
    for path in EMAIL_DIR.rglob("*.email")
    # abandoned_cart renders a cart, not an order (tests/test_carts_send.py)
    if path.name not in ("base.email", "abandoned_cart.email")
)


@pytest.mark.django_db
@pytest.mark.parametrize("name", TEMPLATES)
def test_every_packaged_template_renders_as_django_render_block_does(name):
    event = Path(name).stem
    channel = Path(name).parent.name if Path(name).parent.name != "email" else "web"
    context = sample_context(event, channel=channel)
    template = get_template(name)
    for part in ("subject", "plain", "html"):
        expected = django_render_block(template, part, Context(context, autoescape=part == "html"))
        for _ in range(2):  # the second render uses the cached block map
            assert render_block(template, part, Context(context, autoescape=part == "html")) == expected


def test_block_super_and_missing_blocks():
    engine = engines["django"]
    parent = engine.from_string("{% block a %}A{% endblock %}{% block b %}B{% endblock %}")
    child = engine.from_string("{% extends p %}{% block a %}[{{ block.super }}]{% endblock %}")
    # A variable parent cannot be cached: each render resolves it again.
    assert render_block(child, "a", Context({"p": parent.template})) == "[A]"
    assert render_block(child, "b", Context({"p": parent.template})) == "B"
    other = engine.from_string("{% block a %}other{% endblock %}")
    assert render_block(child, "a", Context({"p": other.template})) == "[other]"
    assert child.template not in blocks._levels
    with pytest.raises(BlockNotFound):
        render_block(child, "c", Context({"p": parent.template}))
