"""Right-to-left emails: an Arabic customer gets a mirrored layout, although
no Arabic translation ships (the text falls back to English)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.template.loader import get_template
from django.test import override_settings

from django_order_mail.events import MailEvent
from django_order_mail.rendering.context import build_context
from django_order_mail.rendering.render import render_event
from tests.cart_helpers import make_cart
from tests.factories import OrderFactory

ROOT = Path(__file__).resolve().parents[2]
WITH_ARABIC = override_settings(
    LANGUAGES=[("en", "English"), ("ar", "العربية"), ("he", "עברית")], LANGUAGE_CODE="en"
)


def style_of(rendered_html: str, css_class: str) -> list[str]:
    """The inlined style="" of every element whose class list has ``css_class``."""
    styles = []
    for tag in re.findall(r"<[a-z]+\b[^>]*>", rendered_html):
        classes = re.search(r'class="([^"]*)"', tag)
        if classes and css_class in classes.group(1).split():
            style = re.search(r'style="([^"]*)"', tag)
            styles.append(style.group(1) if style else "")
    return styles


def text_align(style: str) -> str:
    found = re.findall(r"text-align:\s*([a-z]+)", style)
    return found[-1] if found else ""


@pytest.fixture
def order(db):
    return OrderFactory(state="shipped")


def render(obj, event, language, **extra):
    with WITH_ARABIC:
        return render_event(event, build_context(obj, event, email_id=1, **extra), language=language)


@pytest.mark.parametrize("language", ["ar", "he"])
def test_rtl_languages_mark_the_document_and_the_layout_table(order, language):
    rendered = render(order, MailEvent.ORDER_CONFIRMATION, language)
    assert rendered.language == language
    assert re.search(rf'<html lang="{language}" dir="rtl"', rendered.html)
    # Gmail drops the attributes of <html>: the layout table carries dir as well.
    assert re.search(r'<table [^>]*class="wrapper"[^>]*dir="rtl"', rendered.html)
    assert order.number in rendered.subject  # English text, right-to-left layout


def test_ltr_languages_have_no_dir_attribute(order):
    rendered = render(order, MailEvent.ORDER_CONFIRMATION, "en")
    assert '<html lang="en" xmlns' in rendered.html
    assert 'dir="rtl"' not in rendered.html


def test_amount_columns_sit_on_the_reading_end(order):
    """Prices align right for English, left (the end of the line) for Arabic."""
    for event in (MailEvent.ORDER_CONFIRMATION, MailEvent.CANCELLATION):
        ltr = [text_align(s) for s in style_of(render(order, event, "en").html, "num")]
        rtl = [text_align(s) for s in style_of(render(order, event, "ar").html, "num")]
        assert ltr and set(ltr) == {"right"}
        assert len(rtl) == len(ltr) and set(rtl) == {"left"}


def test_cart_reminder_amounts_and_padding_mirror(db):
    cart = make_cart()
    html = render(cart, "abandoned_cart", "ar", extra={"step": 1}).html
    styles = style_of(html, "num")
    assert styles and all(text_align(s) == "left" for s in styles)
    assert all("padding-right: 8px" in s and "padding-left: 0" in s for s in styles)


def test_nps_scale_ends_mirror(order, settings):
    settings.ORDER_MAIL = {**settings.ORDER_MAIL, "FEEDBACK_SCALE": "nps"}
    ltr = render(order, "feedback_request", "en").html
    rtl = render(order, "feedback_request", "ar").html
    assert [text_align(s) for s in style_of(ltr, "start") + style_of(ltr, "end")] == ["left", "right"]
    assert [text_align(s) for s in style_of(rtl, "start") + style_of(rtl, "end")] == ["right", "left"]


def test_without_inlining_the_rtl_rules_stay_in_the_stylesheet(order, settings):
    settings.ORDER_MAIL = {**settings.ORDER_MAIL, "INLINE_CSS": False}
    html = render(order, MailEvent.ORDER_CONFIRMATION, "ar").html
    assert "[dir=rtl] .items .num" in html


@pytest.mark.parametrize("name", ["base.email", "abandoned_cart.email", "feedback_request.email"])
def test_every_physical_alignment_has_an_rtl_override(name):
    """A rule that aligns text left or right must say what happens in RTL."""
    # The packaged file, whichever app ships it (the core or a feature app).
    css = Path(get_template(f"django_order_mail/email/{name}").origin.name).read_text(encoding="utf-8")
    css = css.split("<style>", 1)[-1].split("@media", 1)[0] if "<style>" in css else css
    rules = re.findall(r"([^{}\n]+)\{([^{}]*text-align:\s*(?:left|right)[^{}]*)\}", css)
    plain = {sel.strip(): body for sel, body in rules if "[dir=rtl]" not in sel}
    assert plain, f"{name}: no left/right alignment found - update this test"
    mirrored = {}
    for selectors, body in rules:
        for sel in selectors.split(","):
            if "[dir=rtl]" in sel:
                mirrored[sel.replace("[dir=rtl]", "").strip()] = body
    for selectors, body in plain.items():
        for sel in selectors.split(","):
            flipped = "left" if "text-align:right" in body.replace(" ", "") else "right"
            assert sel.strip() in mirrored, f"{name}: {sel.strip()} has no [dir=rtl] override"
            assert f"text-align:{flipped}" in mirrored[sel.strip()].replace(" ", "")
