"""Two abandoned carts: one reminded (open its restore link to get the cart
back at checkout), one ordered after its reminder was written but before it
went out — the worker re-checks and cancels that reminder.

The carts' timestamps are set 13 hours back (time travel instead of
waiting for the default 12-hour step), then the abandoned-cart scan runs
here, exactly as Celery beat runs it every few minutes.
"""

from __future__ import annotations

import re
import time
from datetime import timedelta

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone

from django_order_mail.carts.scan import scan
from django_order_mail.models import OutboxEmail, Status
from shop.management.commands.demo_orders import Command as DemoOrders
from shop.models import Cart, CartLine

SHOPPERS = [
    # name, email, [(product key, quantity)]
    ("Lucy Carter", "lucy.carter@example.com", [("sweater", 1), ("candle", 2)]),
    ("Lars Hansen", "lars.hansen@example.no", [("tote", 1)]),
]


class Command(BaseCommand):
    help = "Abandoned carts: one reminded with a restore link, one ordered before its reminder went out."

    def add_arguments(self, parser):
        parser.add_argument(
            "--wait", action="store_true", help="Wait until the worker has handled the reminders."
        )
        parser.add_argument("--timeout", type=float, default=120)

    def handle(self, *args, **options):
        products = DemoOrders().products()
        products["candle"].stock = 3  # real stock figures drive the "only 3 left" line
        products["candle"].save(update_fields=["stock"])
        idle_since = timezone.now() - timedelta(hours=13)
        carts = []
        for name, email, lines in SHOPPERS:
            cart = Cart.objects.create(customer_name=name, language="en")
            for key, quantity in lines:
                CartLine.objects.create(cart=cart, product=products[key], quantity=quantity)
            cart.capture_email(email, language="en", now=idle_since)  # at checkout, then gone
            carts.append(cart)
            self.stdout.write(f"Cart {cart.pk}: {name} <{email}> left checkout 13 hours ago")
        lucy, lars = carts
        with transaction.atomic():
            handled = scan()
            # Lars comes back and pays while his reminder waits for the worker:
            # the worker re-checks "no order since" right before sending.
            order = lars.place_order()
        self.stdout.write(f"Scan wrote reminders: {handled}; Lars then paid (order {order.number}).")
        rows = {c.pk: OutboxEmail.for_order(c).filter(event="abandoned_cart").first() for c in carts}
        if options["wait"]:
            self.wait(list(rows.values()), options["timeout"])
        for cart in carts:
            row = rows[cart.pk]
            row.refresh_from_db()
            why = f" ({row.last_error})" if row.last_error else ""
            self.stdout.write(f"  {cart.customer_name}: reminder {row.status}{why}")
        sent = rows[lucy.pk]
        links = re.findall(r'href="([^"]*/mail/cart/restore/[^"]+)"', sent.body_html or "")
        if links:
            self.stdout.write(
                self.style.SUCCESS(
                    f"Open Lucy's restore link to get her cart back at checkout:\n  {links[0]}"
                )
            )

    def wait(self, rows, timeout):
        deadline = time.monotonic() + timeout
        pending = rows
        while pending:
            pending = [
                r for r in rows if OutboxEmail.objects.get(pk=r.pk).status in (Status.QUEUED, Status.SENDING)
            ]
            if not pending:
                return
            if time.monotonic() > deadline:
                raise CommandError(
                    f"{len(pending)} reminder(s) not handled after {timeout:.0f}s: is the worker running?"
                )
            time.sleep(0.5)
