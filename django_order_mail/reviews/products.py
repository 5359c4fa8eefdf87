"""The products of an order, as the review app sees them.

Each line item of ``order.get_mail_line_items()`` names a product by its
optional ``product_id`` key, else its ``sku``, else its ``name``
(``docs/reviews.rst``): one review per product per order, so two lines of
the same product (two sizes) are one product here. A link names a product
by its index in this list and a short digest of its id, so a link still
finds its product if the order's lines were reordered since, and finds
nothing (rather than another product) if it was removed.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from .app_settings import app_settings

#: Longest product id stored (longer ids are cut; keep yours shorter).
MAX_ID_LENGTH = 128


@dataclass(frozen=True)
class Product:
    product_id: str
    name: str
    image_url: str = ""

    @property
    def digest(self) -> str:
        return product_digest(self.product_id)


def product_digest(product_id: str) -> str:
    """Eight hex digits of the id: enough to tell an order's products apart."""
    return hashlib.sha256(product_id.encode()).hexdigest()[:8]


def product_id_of(item: dict) -> str:
    """``product_id``, else ``sku``, else ``name`` of a line item; "" if none."""
    for key in ("product_id", "sku", "name"):
        value = item.get(key)
        if value not in (None, ""):
            return str(value).strip()[:MAX_ID_LENGTH]
    return ""


def order_products(order) -> list[Product]:
    """The products the emails list: the first ``REVIEWS_MAX_PRODUCTS``."""
    return all_products(order)[: max(0, int(app_settings.REVIEWS_MAX_PRODUCTS))]


def all_products(order) -> list[Product]:
    """The order's distinct products, in line order."""
    getter = getattr(order, "get_mail_line_items", None)
    items = list(getter() or []) if getter is not None else []
    found: dict[str, Product] = {}
    for item in items:
        if not isinstance(item, dict):
            continue
        key = product_id_of(item)
        if key and key not in found:
            image = str(item.get("image_url") or "")
            found[key] = Product(
                product_id=key,
                name=str(item.get("name") or key),
                image_url=image if image.startswith(("https://", "http://")) else "",
            )
    return list(found.values())


def find_product(order, index: int, digest: str) -> Product | None:
    """The product a link names: at ``index`` if its digest matches, else
    the one with that digest wherever it moved; None if it is gone."""
    products = all_products(order)
    if 0 <= index < len(products) and products[index].digest == digest:
        return products[index]
    return next((p for p in products if p.digest == digest), None)
