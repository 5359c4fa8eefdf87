"""The signed links of the review page.

A token names only the outbox row of the email the link is in, the
product's index in the order's product list and an eight-digit digest of
the product id (:mod:`.products`): no address, no name, no order number.
It is signed with ``SECRET_KEY`` and this app's salt and expires after
``LINK_MAX_AGE_DAYS``. The rating is a plain query parameter (``?stars=4``):
it is the customer's own answer about their own order, and one token
serves the whole star row. Inside a staff preview the token names no row
(:func:`..rendering.links.preview_links`).
"""

from __future__ import annotations

from django.urls import reverse

from ..rendering.links import EmailLink, absolute, email_token, read_email_token, read_expired_email_token
from .products import Product

PURPOSE = "product_review"
STARS = range(1, 6)


def review_token(email_id: int, index: int, product: Product) -> str:
    return email_token(PURPOSE, email_id, i=int(index), k=product.digest)


def review_url(email_id: int, index: int, product: Product, stars: int | None = None) -> str:
    """The review page of ``product`` from email ``email_id``; with
    ``stars``, the one-click rating link."""
    path = reverse(
        "django_order_mail:product_review", kwargs={"token": review_token(email_id, index, product)}
    )
    if stars is not None:
        path += f"?stars={int(stars)}"
    return absolute(path)


def star_links(email_id: int, index: int, product: Product) -> list[dict]:
    """One link per rating, 1 to 5: every rating is offered alike."""
    token = review_token(email_id, index, product)
    path = reverse("django_order_mail:product_review", kwargs={"token": token})
    return [{"score": s, "url": absolute(f"{path}?stars={s}")} for s in STARS]


def read_review_link(token: str) -> EmailLink:
    """Raises ``BadSignature`` / ``SignatureExpired`` like the other links."""
    return read_email_token(PURPOSE, token)


def read_expired_review_link(token: str) -> EmailLink | None:
    return read_expired_email_token(PURPOSE, token)


def link_product(link: EmailLink) -> tuple[int, str] | None:
    """``(index, digest)`` a customer's link names; None if malformed."""
    index, digest = link.payload.get("i"), link.payload.get("k")
    if not isinstance(index, int) or isinstance(index, bool) or not isinstance(digest, str):
        return None
    return index, digest


def parse_stars(value) -> int | None:
    """``?stars=`` as 1-5; only one ASCII digit counts."""
    text = str(value or "").strip()
    if len(text) == 1 and text.isascii() and text.isdigit() and int(text) in STARS:
        return int(text)
    return None
