"""Render an email from its template, then inline CSS.

The template is an edited one from the database or a django-templated-email
file (``django_order_mail/email/[<channel>/]<event>.email``), chosen by
:func:`django_order_mail.rendering.db_loader.choose` (``docs/template-lookup.rst``).
Both kinds have ``subject``, ``plain`` and ``html`` blocks and are rendered
the same way, block by block with django-render-block as
django-templated-email does (only ``html`` is autoescaped). The HTML keeps
its ``<style>`` @media rules for mobile clients and gets every other rule
inlined by css-inline (which Gmail and Outlook need), done at render time so
editors write plain CSS.

Edited templates are written by staff, not developers: they are checked
and rendered through the sandbox (:mod:`.sandbox`), which refuses unsafe
tags and libraries and gives them the context as plain, read-only data
(never a model instance). Packaged and project file templates still get
the full context, ``order`` instance included.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import css_inline
from django.conf import settings
from django.template import Context
from django.template.loader import select_template
from django.utils import translation
from render_block import BlockNotFound
from templated_email.backends.vanilla_django import EmailRenderException, TemplateBackend

from ..app_settings import app_settings
from .blocks import render_block
from .content import CONTENT_KEY, content_for
from .context import build_context
from .db_loader import choose, compile_fields, parent_template
from .promotional import clean_slots, render_within_share
from .sandbox import render_string, staff_context

logger = logging.getLogger("django_order_mail.rendering")

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
    """The closest language the project supports: the order's code, its
    closest variant (zh-hk -> zh-hant), its base language, LANGUAGE_CODE,
    then en (:func:`django_order_mail.rendering.i18n.resolve_language`)."""
    from .i18n import resolve_language as closest_supported

    return closest_supported(language, default=settings.LANGUAGE_CODE)


def inline_css(html: str) -> str:
    if not html or not app_settings.INLINE_CSS:
        return html
    return _inliner.inline(html)


def render_parts(template, context: dict) -> dict[str, str]:
    """Render the ``subject``, ``plain`` and ``html`` blocks of a backend
    template (django-templated-email's semantics; a missing block is left out)."""
    parts = {}
    for part in ("subject", "plain", "html"):
        try:
            parts[part] = render_block(template, part, Context(context, autoescape=(part == "html")))
        except BlockNotFound:
            continue
    if "plain" not in parts and "html" not in parts:
        raise ValueError("the template has neither a plain nor an html block")
    return parts


class EmailTemplateBackend(TemplateBackend):
    """django-templated-email's backend, rendering each block with the
    cached block lookup of :mod:`.blocks` (same output, no tree walk per
    block). It builds the ``EmailMultiAlternatives`` as templated-email does."""

    def _render_email(self, template_name, context, template_dir=None, file_extension=None):
        names = template_name if isinstance(template_name, (list, tuple)) else [template_name]
        extension = "." + (file_extension or self.template_suffix).lstrip(".")
        prefix = template_dir or self.template_prefix
        full = [n if n.endswith(extension) else n + extension for n in (prefix + name for name in names)]
        try:
            return render_parts(select_template(full), context)
        except ValueError as exc:
            raise EmailRenderException(f"Couldn't render email parts: {exc}") from exc


_backend = EmailTemplateBackend(template_prefix=TEMPLATE_DIR, template_suffix="email")


def _rendered(parts: dict[str, str], language: str) -> RenderedEmail:
    subject = parts.get("subject", "").strip("\n\r").replace("\n", " ").replace("\r", " ")
    return RenderedEmail(
        subject=subject.strip(),
        text=parts.get("plain", "").strip() + "\n",
        html=inline_css(parts.get("html", "")),
        language=language,
    )


def render_fields(
    fields: dict[str, str], context: dict, *, event: str, language: str = "", channel: str = ""
) -> RenderedEmail:
    """Render unsaved editor fields (the admin preview and validation) as
    the edited template of ``event`` for ``channel`` would be rendered.

    Raises whatever the template raises: the editor shows it.
    """
    lang = resolve_language(language)
    with translation.override(lang):
        parent = parent_template(event, channel)
        parts = render_parts(compile_fields(fields, parent), staff_context(context))
    return _rendered(parts, lang)


def render_event(
    event: str,
    context: dict,
    *,
    language: str = "",
    channel: str = "",
    use_db: bool = True,
    on_db_error=None,
    content: dict[str, str] | None = None,
) -> RenderedEmail:
    """Render ``event`` with ``context`` in ``language``; raises on template errors.

    An edited template that fails (it passed validation, but a real order
    can still differ from the sample) does not cost the customer the email:
    the file template is used instead, the error is logged and passed to
    ``on_db_error(template, exc)``.

    The file template gets the text fields staff edited for the event in
    the email's language (:func:`.content.content_for`), or ``content``
    (``{field: text}``: the admin's unsaved fields) instead. A template
    edited as code wins over them: it is rendered without them.
    """
    lang = resolve_language(language)
    with translation.override(lang):
        choice = choose(event, lang, channel) if use_db else None
        template = choice.db_template if choice is not None else None  # set: choice.is_db
        if template is not None:
            try:
                parent = parent_template(event, template.channel)
                parts = render_parts(compile_fields(template.field_values(), parent), staff_context(context))
                return _rendered(parts, lang)
            except Exception as exc:
                logger.exception("Edited template %s failed; using the file template", template.pk)
                if on_db_error is not None:
                    on_db_error(template, exc)
        names = template_names(event, channel)
        if choice is not None and choice.file_names:  # the file the lookup chose: no second search
            names = [name.removeprefix(TEMPLATE_DIR).removesuffix(".email") for name in choice.file_names]
        if content is None:
            content = content_for(event, lang) if use_db else {}
        file_context = {**context, CONTENT_KEY: content} if content else context
        message = _backend.get_email_message(
            names, file_context, to=[context.get("recipient") or "preview@example.invalid"]
        )
    html = ""
    for alternative, mimetype in getattr(message, "alternatives", []):
        if mimetype == "text/html":
            html = alternative
    if getattr(message, "content_subtype", "") == "html":
        html, text = message.body, ""
    else:
        text = message.body
    return _rendered({"subject": message.subject, "plain": text, "html": html}, lang)


def render_outbox_email(
    row, order, *, subject_template: str = "", extra_context: dict | None = None
) -> RenderedEmail:
    """Render outbox ``row`` against the current state of ``order``.

    ``subject_template`` (say, a subject A/B test's variant) replaces the
    template's subject when it renders to something; ``extra_context`` is
    added to the context (both from the ``pre_send`` and ``pre_render`` receivers).

    A staff test email (``is_test``) was rendered when staff asked for it
    (what the preview showed, unsaved edits included) and is sent as stored.
    """
    if row.is_test and (row.body_html or row.body_text):
        return RenderedEmail(
            subject=row.subject, text=row.body_text, html=row.body_html, language=row.language
        )

    def note_fallback(template, exc):
        row.log(
            "warning",
            f"edited template {template} failed ({type(exc).__name__}: {exc}); the default template was used",
        )

    context = build_context(order, row.event, shipment=row.shipment, extra=row.extra, email_id=row.pk)
    context.update(extra_context or {})
    clean_slots(context)  # a pre_send / pre_render receiver may have changed them

    def render(context: dict) -> RenderedEmail:
        return render_event(
            row.event, context, language=row.language, channel=row.channel, on_db_error=note_fallback
        )

    # Transactional stays transactional: fewer recommendations rather than
    # more than PROMOTIONAL_SHARE_MAX of promotion (rendering.promotional).
    rendered = render_within_share(render, context, note=lambda text: row.log("trimmed", text))
    if subject_template:
        subject = render_subject(subject_template, context, rendered.language)
        if subject:
            rendered = RenderedEmail(
                subject=subject, text=rendered.text, html=rendered.html, language=rendered.language
            )
    return rendered


def render_subject(template: str, context: dict, language: str) -> str:
    """Render a one-line subject written by staff (an A/B variant) through
    the sandbox, in ``language``, autoescape off (a subject is plain text).

    "" if the sandbox refuses it or it fails, so the template's own subject
    is used instead of losing the email (the reason is logged).
    """
    try:
        with translation.override(language or None):
            text = render_string(template, context, autoescape=False)
    except Exception:  # a bad variant must not lose the email
        logger.exception("Subject variant could not be rendered; using the template subject")
        return ""
    return " ".join(text.split())
