"""Count the products of placed orders that are not counted yet.

The "bought together" recommendations count each order's products when its
order confirmation is written (``docs/recommendations.rst``). Run this once
after installing the app, to count the orders placed before, and whenever
you like after: it counts only orders not counted yet, so it also catches
up an order whose counting was lost. ``--reset`` forgets everything first
and counts every order again (after you changed product ids, say).
"""

from __future__ import annotations

from datetime import datetime

from django.contrib.contenttypes.models import ContentType
from django.core.management.base import BaseCommand
from django.db import transaction

from ...learning import learn_order, placed_orders
from ...models import BoughtTogether, LearnedOrder, PurchasedProduct

BATCH = 200


class Command(BaseCommand):
    help = "Count the products of placed orders for the 'bought together' recommendations."

    def add_arguments(self, parser):
        parser.add_argument(
            "--reset", action="store_true", help="Forget all counts and count every order again."
        )

    def handle(self, *args, reset: bool = False, **options) -> None:
        if reset:
            with transaction.atomic():
                BoughtTogether.objects.all().delete()
                PurchasedProduct.objects.all().delete()
                LearnedOrder.objects.all().delete()
        counted = seen = 0
        batch: list[tuple[int, str, datetime]] = []
        for row in placed_orders():
            batch.append(row)
            if len(batch) >= BATCH:
                counted += self._learn(batch)
                seen += len(batch)
                batch = []
        counted += self._learn(batch)
        seen += len(batch)
        self.stdout.write(f"{counted} orders counted now, {seen - counted} counted before or gone.")

    def _learn(self, batch: list[tuple[int, str, datetime]]) -> int:
        counted = 0
        by_type: dict[int, dict[str, datetime]] = {}
        for type_id, object_id, created_at in batch:
            by_type.setdefault(type_id, {})[object_id] = created_at
        for type_id, placed in by_type.items():
            done = set(
                LearnedOrder.objects.filter(order_type_id=type_id, order_id__in=list(placed)).values_list(
                    "order_id", flat=True
                )
            )
            model = ContentType.objects.get_for_id(type_id).model_class()
            todo = [pk for pk in placed if pk not in done]
            if model is None or not todo:
                continue
            orders = model._default_manager.filter(pk__in=todo)
            lookups = getattr(model, "mail_prefetch_related", ())
            if lookups:
                orders = orders.prefetch_related(*lookups)
            for order in orders:
                counted += learn_order(order, now=placed[str(order.pk)])
        return counted
