"""How much of a transactional email is promotion, and keeping it small.

Transactional email may carry a little marketing (a product block, a
referral offer), but it has to stay transactional: the common practice
under CAN-SPAM is at least 80 % transactional content, at most 20 %
promotional (``docs/templates.rst``). This module measures that share and
keeps every email the sender sends under ``PROMOTIONAL_SHARE_MAX``.

**What counts as promotional.** Every element of the HTML part marked with a
``data-promotional`` attribute, with everything inside it. The packaged
partials of the two promotional slots of the context (``recommended_products``
and ``referral``, :mod:`.context`) are marked; a shop marks its own
promotional markup the same way.

**The share** is the promotional part of the email's visible content divided
by all of it: the characters of text (runs of white space count as one),
plus :data:`IMAGE_WEIGHT` characters for each image, so a row of product
pictures is not free. The ``<head>`` (title, styles) and hidden preheader
text are not part of what the reader sees and are left out. The plain-text
part holds the same blocks as the HTML part, so the HTML part is measured.

**Keeping it under the limit** (:func:`render_within_share`): when an email
comes out above the limit, the sender drops one recommended product at a
time, then the referral block, and renders again, until it fits or nothing
promotional of the slots is left. Promotional text a template writes itself
cannot be trimmed: the admin's preview shows its share and warns.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from html.parser import HTMLParser
from typing import TypeVar

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.utils.translation import gettext

from ..app_settings import app_settings

logger = logging.getLogger("django_order_mail.rendering")

_Rendered = TypeVar("_Rendered")

__all__ = [
    "IMAGE_WEIGHT",
    "MARKER",
    "PROMOTIONAL_SLOTS",
    "clean_slots",
    "promotional_setting_errors",
    "promotional_share",
    "render_within_share",
    "safe_url",
    "share_warning",
    "trim_once",
]

#: The attribute that marks an element (and everything in it) as promotional.
MARKER = "data-promotional"
#: Characters of text one ``<img>`` counts as (a short product name: a row of
#: pictures is not free, nor does it outweigh the text around it).
IMAGE_WEIGHT = 20
#: The context keys of the promotional blocks, trimmed in this order (the
#: last product first, the referral block last).
PROMOTIONAL_SLOTS = ("recommended_products", "referral")

#: Elements whose content the reader never sees.
_HIDDEN = frozenset({"head", "style", "script", "title", "template"})
#: Elements without an end tag.
_VOID = frozenset(
    {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}
)


class _Measure(HTMLParser):
    """Counts visible text (and images) inside and outside marked elements."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[tuple[str, bool, bool]] = []  # (tag, promotional, hidden)
        self.total = 0
        self.promotional = 0
        self._space = True  # the last character counted was white space

    @property
    def _promotional(self) -> bool:
        return bool(self.stack) and self.stack[-1][1]

    @property
    def _hidden(self) -> bool:
        return bool(self.stack) and self.stack[-1][2]

    def handle_starttag(self, tag, attrs):
        names = {name for name, _value in attrs}
        style = " ".join(str(v or "") for n, v in attrs if n == "style").replace(" ", "").lower()
        classes = " ".join(str(v or "") for n, v in attrs if n == "class").split()
        promotional = self._promotional or MARKER in names
        hidden = (
            self._hidden
            or tag in _HIDDEN
            or "hidden" in names
            or "display:none" in style
            or "preheader" in classes
        )
        if tag == "img":
            if not hidden:
                self._count(IMAGE_WEIGHT, promotional)
            return
        if tag in _VOID:
            return
        self.stack.append((tag, promotional, hidden))

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)
        if tag not in _VOID and self.stack and self.stack[-1][0] == tag:
            self.stack.pop()

    def handle_endtag(self, tag):
        # Close up to the matching start tag; a stray end tag is ignored.
        for index in range(len(self.stack) - 1, -1, -1):
            if self.stack[index][0] == tag:
                del self.stack[index:]
                return

    def handle_data(self, data):
        if self._hidden:
            return
        count = 0
        for char in data:
            if char.isspace():
                if not self._space:
                    count += 1
                self._space = True
            else:
                count += 1
                self._space = False
        self._count(count, self._promotional)

    def _count(self, count: int, promotional: bool) -> None:
        self.total += count
        if promotional:
            self.promotional += count


def promotional_share(html: str) -> float:
    """The promotional share of an email's HTML part, from 0.0 to 1.0.

    HTML with no element marked ``data-promotional`` (attribute names are
    case-insensitive) has no promotional part: 0.0 without parsing it, which
    is most emails (parsing was a quarter of the send path's CPU in
    ``docs/performance.md``'s profile)."""
    if not html or MARKER not in html.lower():
        return 0.0
    measure = _Measure()
    measure.feed(html)
    measure.close()
    return measure.promotional / measure.total if measure.total else 0.0


def share_limit() -> float:
    """``PROMOTIONAL_SHARE_MAX`` as a fraction (0.2: 20 %)."""
    return float(app_settings.PROMOTIONAL_SHARE_MAX)


def share_warning(share: float) -> str:
    """The admin preview's warning for ``share``, "" when it is within the limit."""
    limit = share_limit()
    if share <= limit:
        return ""
    return gettext(
        "Promotional content is %(share)s of this email, above the %(limit)s a transactional email "
        "should keep to. When it sends the email, the app shortens or drops the recommendations and "
        "the referral block to stay within the limit; promotional text of the template itself stays: "
        "keep it short."
    ) % {"share": format_share(share), "limit": format_share(limit)}


def format_share(share: float) -> str:
    return f"{share * 100:.1f} %"


def trim_once(context: dict) -> bool:
    """Drop the last recommended product, else the referral block, from
    ``context``; False when neither is left to drop."""
    products = context.get("recommended_products")
    if products:
        context["recommended_products"] = list(products)[:-1]
        return True
    if context.get("referral"):
        context["referral"] = None
        return True
    return False


def render_within_share(
    render: Callable[[dict], _Rendered], context: dict, *, note: Callable[[str], object] | None = None
) -> _Rendered:
    """``render(context)`` (a ``RenderedEmail``), rendered again with less
    promotion while its share is above ``PROMOTIONAL_SHARE_MAX``.

    ``note(text)`` is told what was trimmed (the send log). An email whose
    template itself is too promotional is sent as it is, with a note: the
    admin's preview warns about it.
    """
    rendered = render(context)
    limit = share_limit()
    share = promotional_share(getattr(rendered, "html", ""))
    if share <= limit:
        return rendered
    before = (len(context.get("recommended_products") or []), bool(context.get("referral")))
    while share > limit and trim_once(context):
        rendered = render(context)
        share = promotional_share(getattr(rendered, "html", ""))
    after = (len(context.get("recommended_products") or []), bool(context.get("referral")))
    if after != before:
        text = (
            f"promotional blocks trimmed to keep promotion under {format_share(limit)}: "
            f"{before[0]} -> {after[0]} recommended products, referral "
            f"{'kept' if after[1] else 'dropped' if before[1] else 'none'}"
        )
    else:
        text = ""
    if share > limit:
        text = (text + "; " if text else "") + (
            f"promotional content is still {format_share(share)} (the template's own)"
        )
        logger.warning(
            "Promotional share %s above %s after trimming", format_share(share), format_share(limit)
        )
    if note is not None and text:
        note(text)
    return rendered


def promotional_setting_errors(raw: dict) -> list:
    """``E030``: ``PROMOTIONAL_SHARE_MAX`` must be a number from 0 to 1."""
    from django.core.checks import Error

    value = raw.get("PROMOTIONAL_SHARE_MAX", 0.2)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 1:
        return [
            Error(
                "ORDER_MAIL['PROMOTIONAL_SHARE_MAX'] must be a number from 0 to 1 (0.2: 20 %).",
                hint="See docs/settings.rst.",
                id="django_order_mail.E030",
            )
        ]
    return []


# -- what the promotional slots may hold ---------------------------------------------------

#: Longest product name and referral text shown (longer ones are cut).
MAX_NAME = 120
MAX_TEXT = 300
_url_validator = URLValidator(schemes=["http", "https"])


def safe_url(value) -> str:
    """``value`` if it is an absolute http(s) URL, else "" (no ``javascript:``,
    ``data:`` or relative links reach an email)."""
    url = str(value or "").strip()
    if not url or len(url) > 2000 or any(ord(c) < 32 or c.isspace() for c in url):
        return ""
    try:
        _url_validator(url)
    except ValidationError:
        return ""
    return url


def one_line(value, limit: int) -> str:
    """Text on one line, control characters removed, at most ``limit`` characters."""
    text = " ".join("".join(c if c.isprintable() else " " for c in str(value or "")).split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def clean_product(item) -> dict | None:
    """One recommended product as the partials read it (``name``, ``url``,
    ``image_url``, ``price``, ``currency``), or None if it has no name or no
    http(s) address. HTML in a name is text: the HTML part escapes it."""
    if not isinstance(item, dict):
        return None
    name, url = one_line(item.get("name"), MAX_NAME), safe_url(item.get("url"))
    if not name or not url:
        return None
    price = item.get("price")
    try:
        price = None if price in (None, "") else Decimal(str(price))
    except (InvalidOperation, ValueError):
        price = None
    return {
        "name": name,
        "url": url,
        "image_url": safe_url(item.get("image_url")),
        "price": price,
        "currency": one_line(item.get("currency"), 3).upper(),
    }


def clean_referral(value) -> dict | None:
    """The referral block (``url``, ``text``), or None without an http(s) address."""
    if isinstance(value, str):
        value = {"url": value}
    if not isinstance(value, dict):
        return None
    url = safe_url(value.get("url"))
    if not url:
        return None
    return {"url": url, "text": one_line(value.get("text"), MAX_TEXT)}


def clean_slots(context: dict) -> None:
    """Make the promotional slots of ``context`` safe to render, whoever
    filled them: products without an http(s) link are dropped, names become
    one line of text (escaped by the HTML part like any text)."""
    products = context.get("recommended_products")
    cleaned = [clean_product(item) for item in products] if isinstance(products, (list, tuple)) else []
    context["recommended_products"] = [item for item in cleaned if item is not None]
    for item in context["recommended_products"]:
        item["currency"] = item["currency"] or str(context.get("currency") or "")
    context["referral"] = clean_referral(context.get("referral"))
