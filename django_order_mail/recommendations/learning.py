"""Learn which products are bought together, from the shop's placed orders.

An order is *placed* when its order confirmation's outbox row is written
(the core's ``email_queued`` signal for ``order_confirmation``; written by
the transition that confirms the payment, ``confirm_payment`` in the default
lifecycle, whether the email is then sent or skipped). Its products come
from the documented order API, ``order.get_mail_line_items()``, each named
by its ``product_id``, else ``sku``, else ``name`` (``docs/lifecycle.rst``).

Counting runs after the order's transaction commits, in a short transaction
of its own: a checkout never waits on, or fails because of, the counters of
popular products. An order is counted once (:class:`.models.LearnedOrder`);
an order whose counting was lost (the process stopped right after the
commit, a database error) is counted by ``order_mail_recommendations_learn``,
which also counts the orders placed before the app was installed.
"""

from __future__ import annotations

import logging
from datetime import datetime
from functools import partial

from django.contrib.contenttypes.models import ContentType
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from ..rendering.promotional import one_line, safe_url
from .app_settings import BOUGHT_TOGETHER, app_settings
from .models import BoughtTogether, LearnedOrder, PurchasedProduct

logger = logging.getLogger("django_order_mail.recommendations")

#: The event whose outbox row marks an order as placed.
PLACED_EVENT = "order_confirmation"
#: Products of one order counted at most (a wholesale order of 500 lines
#: would otherwise write 250,000 pairs).
MAX_PRODUCTS_PER_ORDER = 30


def product_id_of(item: dict) -> str:
    """``product_id``, else ``sku``, else ``name`` of a line item; "" if none."""
    for key in ("product_id", "sku", "name"):
        value = item.get(key)
        if value not in (None, ""):
            return str(value).strip()[:128]
    return ""


def order_products(order) -> dict[str, dict]:
    """``{product id: {"name", "url", "image_url"}}`` of the order's lines, in line order."""
    getter = getattr(order, "get_mail_line_items", None)
    found: dict[str, dict] = {}
    for item in (getter() if getter is not None else None) or []:
        if not isinstance(item, dict):
            continue
        key = product_id_of(item)
        if key and key not in found:
            found[key] = {
                "name": one_line(item.get("name") or key, 255),
                "url": safe_url(item.get("url"))[:500],
                "image_url": safe_url(item.get("image_url"))[:500],
            }
    return found


def learn_placed_order(sender, email, order, **kwargs) -> None:
    """``email_queued`` receiver: count a placed order's products after
    commit, while the packaged "bought together" provider is switched on
    (nothing else reads the counts; the learn command counts the orders
    placed before it was)."""
    if email.event != PLACED_EVENT or getattr(email, "is_test", False) or order is None:
        return
    if app_settings.RECOMMENDATIONS_PROVIDER != BOUGHT_TOGETHER:
        return
    transaction.on_commit(partial(_learn_after_commit, order))


def _learn_after_commit(order) -> None:
    try:
        learn_order(order)
    except Exception:  # never the customer's problem: the learn command catches up
        logger.exception("Could not count the products of order %r", getattr(order, "pk", None))


def learn_order(order, *, now: datetime | None = None) -> bool:
    """Count ``order``'s products (once); True if it was counted now."""
    if getattr(order, "pk", None) is None:
        return False
    now = now or timezone.now()
    products = dict(list(order_products(order).items())[:MAX_PRODUCTS_PER_ORDER])
    order_type = ContentType.objects.get_for_model(order)
    try:
        with transaction.atomic():
            LearnedOrder.objects.create(order_type=order_type, order_id=str(order.pk)[:64], learned_at=now)
            _count(products, now)
    except IntegrityError:  # counted already (a second process, the learn command)
        return False
    return True


def _count(products: dict[str, dict], now: datetime) -> None:
    if not products:
        return
    ids = sorted(products)
    PurchasedProduct.objects.bulk_create(
        [PurchasedProduct(product_id=key, **products[key], last_ordered_at=now) for key in ids],
        ignore_conflicts=True,
    )
    rows = PurchasedProduct.objects.filter(product_id__in=ids)
    rows.update(orders=F("orders") + 1, last_ordered_at=now)
    # The newest order line names the product (and gives its links).
    for row in rows.order_by("product_id"):
        wanted = products[row.product_id]
        changed = {k: v for k, v in wanted.items() if v and getattr(row, k) != v}
        if changed:
            PurchasedProduct.objects.filter(pk=row.pk).update(**changed)
    pks = list(rows.order_by("pk").values_list("pk", flat=True))
    if len(pks) < 2:
        return
    BoughtTogether.objects.bulk_create(
        [BoughtTogether(product_id=a, other_id=b, last_ordered_at=now) for a in pks for b in pks if a != b],
        ignore_conflicts=True,
    )
    BoughtTogether.objects.filter(product_id__in=pks, other_id__in=pks).exclude(
        product_id=F("other_id")
    ).update(orders=F("orders") + 1, last_ordered_at=now)


def placed_orders():
    """Every order with an order confirmation row, oldest first: ``(model, pk)``."""
    from ..outbox.models import OutboxEmail

    rows = (
        OutboxEmail.objects.filter(event=PLACED_EVENT, is_test=False)
        .order_by("created_at", "pk")
        .values_list("content_type_id", "object_id", "created_at")
    )
    yield from rows.iterator(chunk_size=500)
