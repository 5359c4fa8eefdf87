"""The packaged provider: other products bought with these.

Switch it on with ``ORDER_MAIL["RECOMMENDATIONS_PROVIDER"] =
"django_order_mail.recommendations.bought_together.recommend"``
(``docs/recommendations.rst``). It ranks the products that were bought in
the same orders as this order's products (:mod:`.learning` counts them) by
how many orders they shared, and recommends those

* bought together with one of these in at least ``RECOMMENDATIONS_MIN_ORDERS``
  orders (2 by default: one other customer's single order never shows up in
  someone else's email),
* ordered within ``RECOMMENDATIONS_LOOKBACK_DAYS`` (products no longer sold
  fade out),
* not in this order, and with a product page (the line item's ``url``).

One indexed query, whatever the number of orders.
"""

from __future__ import annotations

from datetime import timedelta

from django.db.models import Max, Sum
from django.utils import timezone

from .app_settings import app_settings
from .learning import order_products
from .models import BoughtTogether, PurchasedProduct


def recommend(order, event: str = "", *, limit: int = 3, **kwargs) -> list[dict]:
    """Up to ``limit`` products bought with ``order``'s products, best first."""
    mine = list(order_products(order))
    if not mine or limit <= 0:
        return []
    since = timezone.now() - timedelta(days=app_settings.RECOMMENDATIONS_LOOKBACK_DAYS)
    ranked = (
        BoughtTogether.objects.filter(
            product__product_id__in=mine,
            orders__gte=max(1, app_settings.RECOMMENDATIONS_MIN_ORDERS),
            other__last_ordered_at__gte=since,
        )
        .exclude(other__product_id__in=mine)
        .exclude(other__url="")
        .values("other_id")
        .annotate(score=Sum("orders"), last=Max("last_ordered_at"))
        .order_by("-score", "-last", "other_id")[:limit]
    )
    ids = [row["other_id"] for row in ranked]
    products = PurchasedProduct.objects.in_bulk(ids)
    return [
        {
            "product_id": products[pk].product_id,
            "name": products[pk].name,
            "url": products[pk].url,
            "image_url": products[pk].image_url,
        }
        for pk in ids
        if pk in products
    ]
