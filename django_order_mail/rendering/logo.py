"""The shop's logo must be an image every email program shows.

Gmail, Outlook and many other email programs do not display SVG images in
email (they strip them or show a broken image), so an SVG logo leaves the
header of every email empty. The branding admin therefore accepts PNG,
JPEG and GIF files only, judged by their content, not by their name (an
SVG renamed ``logo.png`` is still an SVG), and refuses SVG, also as a logo
address, with a message saying what to upload instead. An SVG is not
converted: converting needs the Cairo graphics library installed on the
server (``docs/dependencies.rst``), and a PNG exported once from the design
tool looks better than an automatic conversion.

The settings' ``BRANDING["logo_url"]`` gets the same rule as a system
check warning (``W030``).
"""

from __future__ import annotations

from urllib.parse import urlsplit

from django.core.checks import Warning
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

__all__ = ["check_logo_file", "check_logo_url", "image_kind", "logo_setting_warnings"]

#: The first bytes of the image formats email programs show.
SIGNATURES = {
    b"\x89PNG\r\n\x1a\n": "png",
    b"\xff\xd8\xff": "jpeg",
    b"GIF87a": "gif",
    b"GIF89a": "gif",
}

SVG_MESSAGE = _(
    "Gmail and many other email programs do not show SVG images, so this logo would be missing "
    "from every email. Upload it as a PNG (export it from your design tool, about 80 px high)."
)
NOT_AN_IMAGE_MESSAGE = _("This file is not a PNG, JPEG or GIF image. Upload the logo as a PNG.")


def image_kind(head: bytes) -> str:
    """``"png"``, ``"jpeg"``, ``"gif"``, ``"svg"`` or ``""`` from a file's first bytes."""
    for signature, kind in SIGNATURES.items():
        if head.startswith(signature):
            return kind
    text = head.lstrip(b"\xef\xbb\xbf").lstrip().lower()  # a UTF-8 byte order mark, white space
    if text.startswith((b"<svg", b"<?xml", b"<!doctype svg")) or b"<svg" in text[:1024]:
        return "svg"
    return ""


def check_logo_file(upload) -> None:
    """Raise ``ValidationError`` unless ``upload`` is a PNG, JPEG or GIF image."""
    if upload is None or not hasattr(upload, "read"):
        return
    position = upload.tell() if hasattr(upload, "tell") else 0
    upload.seek(0)
    head = upload.read(2048)
    upload.seek(position)
    kind = image_kind(head if isinstance(head, bytes) else str(head).encode())
    name = str(getattr(upload, "name", "") or "").lower()
    if kind == "svg" or name.endswith((".svg", ".svgz")):
        raise ValidationError(SVG_MESSAGE, code="svg")
    if not kind:
        raise ValidationError(NOT_AN_IMAGE_MESSAGE, code="not_an_image")


def is_svg_url(url: str) -> bool:
    value = str(url or "").strip().lower()
    if value.startswith("data:image/svg"):
        return True
    path = urlsplit(value).path
    return path.endswith((".svg", ".svgz"))


def check_logo_url(url: str) -> None:
    """Raise ``ValidationError`` for a logo address of an SVG image."""
    if is_svg_url(url):
        raise ValidationError(SVG_MESSAGE, code="svg")


def logo_setting_warnings(raw: dict) -> list:
    """``W030``: ``BRANDING["logo_url"]`` names an SVG image."""
    branding = raw.get("BRANDING") or {}
    url = branding.get("logo_url", "") if isinstance(branding, dict) else ""
    if url and is_svg_url(str(url)):
        return [
            Warning(
                "ORDER_MAIL['BRANDING']['logo_url'] is an SVG image, which Gmail and many other "
                "email programs do not show.",
                hint="Use a PNG logo (about 80 px high); see docs/settings.rst.",
                id="django_order_mail.W030",
            )
        ]
    return []
