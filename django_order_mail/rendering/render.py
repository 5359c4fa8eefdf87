"""Render an email from its django-templated-email template, then inline CSS.

Templates live at ``django_order_mail/email/<event>.email`` with
``subject``, ``plain`` and ``html`` blocks (django-templated-email's format).
A channel-specific template ``django_order_mail/email/<channel>/<event>.email``
wins when it exists. The HTML keeps its ``<style>`` @media rules for mobile
clients and gets every other rule inlined by css-inline (which Gmail and
Outlook need), done at render time so editors write plain CSS.
"""

from __future__ import annotations

from dataclasses import dataclass

import css_inline
from django.conf import settings
from django.utils import translation
from templated_email import get_templated_mail

from ..conf import get_setting
from .branding import from_email
from .context import build_context

TEMPLATE_DIR = "django_order_mail/email/"

_inliner = css_inline.CSSInliner(keep_style_tags=False, keep_at_rules=True, load_remote_stylesheets=False)


@dataclass(frozen=True)
class RenderedEmail:
    subject: str
    text: str
    html: str
    language: str


def template_names(event: str, channel: str = "") -> list[str]:
    names = [f"{channel}/{event}"] if channel else []
    return [*names, event]


def resolve_language(language: str | None) -> str:
    """The closest language the project supports, else LANGUAGE_CODE."""
    supported = get_setting("LANGUAGES") or [code for code, _name in settings.LANGUAGES]
    if language:
        try:
            return translation.get_supported_language_variant(language)
        except LookupError:
            base = language.split("-")[0].lower()
            if base in supported:
                return base
    return settings.LANGUAGE_CODE


def inline_css(html: str) -> str:
    if not html or not get_setting("INLINE_CSS"):
        return html
    return _inliner.inline(html)


def render_event(event: str, context: dict, *, language: str = "", channel: str = "") -> RenderedEmail:
    """Render ``event`` with ``context`` in ``language``; raises on template errors."""
    lang = resolve_language(language)
    with translation.override(lang):
        message = get_templated_mail(
            template_names(event, channel),
            context,
            from_email=from_email(),
            to=[context.get("recipient") or "preview@example.invalid"],
            template_dir=TEMPLATE_DIR,
            file_extension="email",
        )
    html = ""
    for content, mimetype in getattr(message, "alternatives", []):
        if mimetype == "text/html":
            html = content
    if getattr(message, "content_subtype", "") == "html":
        html, text = message.body, ""
    else:
        text = message.body
    return RenderedEmail(
        subject=message.subject.strip(), text=text.strip() + "\n", html=inline_css(html), language=lang
    )


def render_outbox_email(row, order) -> RenderedEmail:
    """Render outbox ``row`` against the current state of ``order``."""
    context = build_context(order, row.event, shipment=row.shipment, extra=row.extra, email_id=row.pk)
    return render_event(row.event, context, language=row.language, channel=row.channel)
