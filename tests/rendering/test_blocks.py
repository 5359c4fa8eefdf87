"""The cached block renderer gives exactly what django-render-block gives."""

from pathlib import Path

import pytest
from django.template import Context, engines
from django.template.loader import get_template
from render_block import BlockNotFound
from render_block.django import django_render_block

from django_order_mail.rendering import blocks, render
from django_order_mail.rendering.blocks import render_block
from django_order_mail.rendering.context import build_context
from django_order_mail.rendering.sample import sample_context
from tests.factories import OrderFactory

EMAIL_DIR = Path(blocks.__file__).parent.parent / "templates" / "django_order_mail" / "email"
TEMPLATES = sorted(
    str(path.relative_to(EMAIL_DIR.parent.parent))
    for path in EMAIL_DIR.rglob("*.email")
    # abandoned_cart renders a cart, not an order (tests/carts/test_send.py)
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


def test_a_reloaded_parent_is_never_rendered_from_stale_blocks(monkeypatch):
    """runserver reloads an edited file template; a child compiled before
    (an edited database template) must render the new parent."""
    from django.template import Engine

    sources = {"layout.email": "{% block a %}old{% endblock %}|{% block b %}B{% endblock %}"}
    engine = Engine(loaders=[("django.template.loaders.locmem.Loader", sources)])
    child = engine.from_string('{% extends "layout.email" %}{% block b %}child{% endblock %}')
    assert render_block(child, "a", Context({})) == "old"
    monkeypatch.setattr(blocks, "RECHECK_AFTER", 0)  # the second has passed
    sources["layout.email"] = "{% block a %}new{% endblock %}"
    assert render_block(child, "a", Context({})) == "new"
    assert render_block(child, "b", Context({})) == "child"


def test_a_project_template_extending_the_packaged_one_of_the_same_name():
    """The usual override: a project's base.email extends the packaged
    base.email and changes one block; cached or not, both levels render."""
    from django.template import Engine

    project = {"base.email": '{% extends "base.email" %}{% block a %}mine+{{ block.super }}{% endblock %}'}
    package = {"base.email": "{% block a %}pkg{% endblock %}|{% block b %}B{% endblock %}"}
    engine = Engine(
        loaders=[
            (
                "django.template.loaders.cached.Loader",
                [
                    ("django.template.loaders.locmem.Loader", project),
                    ("django.template.loaders.locmem.Loader", package),
                ],
            )
        ]
    )
    template = engine.get_template("base.email")
    for _ in range(3):  # the first render fills the cache, the others use it
        assert render_block(template, "a", Context({})) == "mine+pkg"
        assert render_block(template, "b", Context({})) == "B"
    assert template in blocks._levels


@pytest.mark.django_db
def test_django_templated_email_still_renders_through_our_override(monkeypatch):
    """rendering.render overrides the private ``_render_email`` of
    django-templated-email's backend (docs/dependencies.rst): if a release
    stops calling it, emails would silently lose the cached block lookup.
    This fails loudly instead."""
    calls = []
    original = render.render_parts
    monkeypatch.setattr(render, "render_parts", lambda *a, **k: calls.append(a) or original(*a, **k))
    order = OrderFactory()
    rendered = render.render_event("order_confirmation", build_context(order, "order_confirmation"))
    assert calls, "django-templated-email no longer calls TemplateBackend._render_email"
    assert order.number in rendered.subject
