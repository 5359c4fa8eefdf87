"""Create sample products and orders and walk them through the lifecycle.

Every step is a real transition saved in its own ``transaction.atomic()``, so
the outbox rows are written exactly as in a shop; the Celery worker sends
them. ``--wait`` polls the outbox until the worker has sent everything.
"""

from __future__ import annotations

import time
from collections import Counter
from datetime import timedelta
from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from django_order_mail.lifecycle.states import OrderState
from django_order_mail.models import OutboxEmail, StaffNotification, Status
from shop.models import Order, OrderLine, Product

# sku, name, EUR price, image
PRODUCTS = [
    ("NG-SWTR-FJORD", "Fjord knit sweater", "129.00", "sweater"),
    ("NG-SOCK-MERINO", "Merino wool socks, 2-pack", "19.90", "socks"),
    ("NG-MUG-ENAMEL", "Enamel camping mug", "14.50", "mug"),
    ("NG-TOTE-CANVAS", "Waxed canvas tote", "49.00", "tote"),
    ("NG-BOARD-BIRCH", "Birch cutting board", "34.00", "board"),
    ("NG-BEANIE-WOOL", "Wool beanie", "24.90", "beanie"),
    ("NG-CANDLE-PINE", "Pine forest candle", "18.00", "candle"),
]
#: Demo exchange rates from EUR (prices are converted at checkout).
RATES = {"EUR": "1", "NOK": "11.6", "USD": "1.08", "GBP": "0.85", "CNY": "7.8", "RUB": "98"}

CUSTOMERS = {
    "kari": dict(
        customer_name="Kari Nordmann",
        email="kari.nordmann@example.no",
        language="nb",
        currency="NOK",
        card_brand="Visa",
        card_last4="4242",
        tax_rate=Decimal("0.25"),
        shipping_cost=Decimal("99"),
        shipping_method="Posten/Bring – Pakke til hentested",
        shipping_address="Kari Nordmann\nStorgata 15B\n0184 Oslo\nNorge",
    ),
    "james": dict(
        customer_name="James Miller",
        email="james.miller@example.com",
        language="en",
        currency="USD",
        card_brand="Mastercard",
        card_last4="5454",
        tax_rate=Decimal("0.0875"),
        shipping_cost=Decimal("12.00"),
        shipping_method="UPS Ground",
        transit_days_max=6,
        shipping_address="James Miller\n1200 Pine Street, Apt 4\nSeattle, WA 98101\nUnited States",
        billing_address="James Miller\nPO Box 4471\nSeattle, WA 98194\nUnited States",
    ),
    "wang": dict(
        customer_name="王芳",
        email="wang.fang@example.cn",
        language="zh-hans",
        currency="CNY",
        card_brand="UnionPay",
        card_last4="0019",
        shipping_cost=Decimal("58"),
        shipping_method="燕文专线 Yanwen Special Line",
        transit_days_min=7,
        transit_days_max=15,
        shipping_address="王芳\n上海市浦东新区\n世纪大道 100 号 12 楼\n200120\n中国",
    ),
    "olga": dict(
        customer_name="Ольга Смирнова",
        email="olga.smirnova@example.ru",
        language="ru",
        currency="RUB",
        card_brand="Mir",
        card_last4="1188",
        shipping_cost=Decimal("890"),
        shipping_method="Почта России, EMS",
        transit_days_min=5,
        transit_days_max=12,
        shipping_address="Смирнова Ольга\nул. Тверская, д. 7, кв. 12\nМосква\n125009\nРоссия",
    ),
    "sarah": dict(
        customer_name="Sarah Johnson",
        email="sarah.j@example.com",
        language="en",
        currency="USD",
        sales_channel="amazon_fba",
        card_brand="Amazon Pay",
        shipping_method="Amazon Prime",
        shipping_address="Sarah Johnson\n88 Elm Avenue\nAustin, TX 78701\nUnited States",
    ),
    "oliver": dict(
        customer_name="Oliver Smith",
        email="oliver.smith@example.co.uk",
        language="en",
        currency="GBP",
        sales_channel="amazon_fbm",
        card_brand="Amazon Pay",
        tax_rate=Decimal("0.20"),
        shipping_cost=Decimal("6.50"),
        shipping_method="DHL Parcel UK",
        shipping_address="Oliver Smith\n22 Baker Row\nManchester M4 1HQ\nUnited Kingdom",
    ),
    "emma": dict(
        customer_name="Emma Brown",
        email="emma.brown@example.co.uk",
        language="en",
        currency="GBP",
        card_brand="Visa",
        card_last4="1881",
        tax_rate=Decimal("0.20"),
        shipping_cost=Decimal("4.95"),
        discount=Decimal("5.00"),
        shipping_method="Royal Mail Tracked 48",
        shipping_address="Emma Brown\n5 Rose Lane\nBristol BS1 4DJ\nUnited Kingdom",
    ),
}


class Command(BaseCommand):
    help = "Create sample orders and move them through the order lifecycle (the worker sends the emails)."

    def add_arguments(self, parser):
        parser.add_argument("--wait", action="store_true", help="Wait until the worker has sent every email.")
        parser.add_argument("--timeout", type=float, default=180, help="Seconds --wait waits (default 180).")
        parser.add_argument(
            "--fast-feedback",
            action="store_true",
            help="Make the feedback requests due now (the sweep sends them) instead of days after delivery.",
        )

    # -- helpers ------------------------------------------------------------------
    def say(self, text, style=None):
        self.stdout.write(style(text) if style else text)

    def step(self, order, transition, *args, **kwargs):
        """One transition + save in one transaction, as a shop does it."""
        with transaction.atomic():
            getattr(order, transition)(*args, **kwargs)
            order.save()
        self.say(f"  {order.number}: {transition} → {order.state}")

    def products(self) -> dict[str, Product]:
        # Emails need absolute image URLs; runserver serves the static files.
        static = settings.STATIC_URL
        if not static.startswith(("http://", "https://")):
            static = f"{settings.ORDER_MAIL['SITE_URL'].rstrip('/')}/{static.lstrip('/')}"
        result = {}
        for sku, name, price, image in PRODUCTS:
            result[image], _ = Product.objects.update_or_create(
                sku=sku,
                defaults={
                    "name": name,
                    "price": Decimal(price),
                    # PNG: Gmail and most email programs show no SVG.
                    "image_url": f"{static}shop/img/{image}.png",
                },
            )
        return result

    def new_order(self, customer: str, lines, *, hours_ago: float) -> Order:
        data = dict(CUSTOMERS[customer])
        rate = Decimal(RATES[data["currency"]])
        last = Order.objects.aggregate(n=Max("id"))["n"] or 0
        with transaction.atomic():
            order = Order.objects.create(
                number=f"NG-{10001 + last}",
                created_at=timezone.now() - timedelta(hours=hours_ago),
                **data,
            )
            for product, quantity, variant in lines:
                price = (product.price * rate).quantize(
                    Decimal("1") if rate > 20 else Decimal("0.01"), rounding=ROUND_HALF_UP
                )
                OrderLine.objects.create(
                    order=order,
                    product=product,
                    name=product.name,
                    sku=product.sku,
                    variant=variant,
                    quantity=quantity,
                    unit_price=price,
                )
        self.say(
            f"Order {order.number}: {order.customer_name} <{order.email}>, {order.language}, "
            f"{order.get_sales_channel_display()}, {order.total} {order.currency}",
            self.style.MIGRATE_HEADING,
        )
        return order

    @staticmethod
    def shipment(order, carrier, tracking, *, days=(2, 5), items=None, instructions=""):
        today = timezone.localdate()
        return order.add_shipment(
            carrier,
            tracking,
            shipping_method=order.shipping_method,
            items=items or [],
            estimated_delivery_from=today + timedelta(days=days[0]),
            estimated_delivery_to=today + timedelta(days=days[1]),
            delivery_instructions=instructions,
        )

    def history(self, p) -> None:
        """Orders of earlier weeks, long completed: what the "bought together"
        recommendations learn from (each pair in two orders, the app's
        minimum). Placed before this demo, so no email is written for them:
        learn_order() counts them, as order_mail_recommendations_learn
        counts a shop's earlier orders."""
        from django_order_mail.recommendations.learning import learn_order

        baskets = [
            ("emma", [p["sweater"], p["beanie"], p["socks"]]),
            ("james", [p["sweater"], p["beanie"]]),
            ("kari", [p["socks"], p["beanie"], p["sweater"]]),
            ("wang", [p["mug"], p["candle"], p["board"]]),
            ("olga", [p["mug"], p["candle"]]),
            ("emma", [p["tote"], p["board"], p["mug"]]),
            ("james", [p["tote"], p["socks"], p["board"]]),
        ]
        for days, (customer, products) in enumerate(baskets, start=20):
            data = {
                k: v for k, v in CUSTOMERS[customer].items() if k in ("customer_name", "language", "currency")
            }
            last = Order.objects.aggregate(n=Max("id"))["n"] or 0
            placed = timezone.now() - timedelta(days=days)
            with transaction.atomic():
                order = Order.objects.create(
                    number=f"NG-{10001 + last}", created_at=placed, state=OrderState.COMPLETED, **data
                )
                for product in products:
                    OrderLine.objects.create(
                        order=order,
                        product=product,
                        name=product.name,
                        sku=product.sku,
                        unit_price=product.price,
                    )
            learn_order(order, now=placed)
        self.say(f"{len(baskets)} completed orders of earlier weeks (no emails): bought-together counts")

    def staff_notifications(self) -> None:
        """What staff would set in Order mail → Staff notifications: every new
        order to the shared inbox, orders from 2,000 NOK to the owner too
        (Kari's first order is one, her click-and-collect candles are not)."""
        StaffNotification.objects.get_or_create(
            event="new_order", defaults={"emails": "orders@nordlys-goods.example"}
        )
        StaffNotification.objects.get_or_create(
            event="high_value_order",
            defaults={
                "emails": "owner@nordlys-goods.example",
                "threshold": Decimal("2000"),
                "currency": "NOK",
            },
        )
        self.say("Staff notifications: new orders to orders@, from 2,000 NOK also to owner@ (in English)")

    # -- the story ------------------------------------------------------------------
    def handle(self, *args, **options):
        p = self.products()
        self.history(p)
        self.staff_notifications()
        orders = []

        # 1. Norwegian web order in two parcels, all the way to delivered.
        o = self.new_order(
            "kari",
            [(p["sweater"], 1, "Str. M, marineblå"), (p["socks"], 2, "Str. 39–42"), (p["candle"], 1, "")],
            hours_ago=50,
        )
        self.step(o, "confirm_payment")
        first = self.shipment(
            o,
            "posten_bring",
            "370722150012345678",
            items=[
                {"name": p["socks"].name, "quantity": 2, "sku": p["socks"].sku},
                {"name": p["candle"].name, "quantity": 1, "sku": p["candle"].sku},
            ],
        )
        self.step(o, "ship_partially", first)
        second = self.shipment(
            o,
            "posten_bring",
            "370722150012345685",
            instructions="Hentes på Narvesen Storgata med legitimasjon.",
            items=[{"name": p["sweater"].name, "quantity": 1}],
        )
        self.step(o, "ship", second)
        self.step(o, "mark_out_for_delivery", second)
        self.step(o, "mark_delivered")
        orders.append(o)

        # 2. US order edited before shipping, then the carrier's tracking number changes.
        o = self.new_order(
            "james", [(p["tote"], 1, "Olive"), (p["sweater"], 1, "Size M, natural")], hours_ago=30
        )
        self.step(o, "confirm_payment")
        with transaction.atomic():
            line = o.lines.get(sku=p["sweater"].sku)
            line.variant = "Size L, natural"
            line.save()
            o.shipping_address = o.shipping_address.replace("Apt 4", "Apt 12")
            o.save()
            o.notify_order_edited(
                ["Fjord knit sweater: size M → L", "Shipping address: 1200 Pine Street, Apt 4 → Apt 12"],
                reason_code="customer_request",
            )
        self.say(f"  {o.number}: notify_order_edited (size and address changed)")
        parcel = self.shipment(
            o, "ups", "1Z999AA10123456784", days=(3, 6), instructions="Adult signature required."
        )
        self.step(o, "ship", parcel)
        with transaction.atomic():
            parcel.tracking_number = "1Z999AA10198765432"  # UPS relabelled the parcel
            parcel.save()
            o.notify_shipping_update(parcel)
        self.say(f"  {o.number}: notify_shipping_update (new UPS tracking number)")
        self.step(o, "mark_out_for_delivery", parcel)
        self.step(o, "mark_delivered")
        orders.append(o)

        # 3. Chinese customer: card declined first, then paid; cross-border parcel.
        o = self.new_order("wang", [(p["mug"], 2, "森林绿"), (p["board"], 1, "")], hours_ago=26)
        # A preset reason: the customer reads it in Chinese (lifecycle.reasons).
        self.step(o, "fail_payment", reason_code="card_declined")
        self.step(o, "confirm_payment")
        parcel = self.shipment(o, "yanwen", "UG581104230YP", days=(7, 15))
        self.step(o, "ship", parcel)
        self.step(o, "mark_out_for_delivery", parcel)
        self.step(o, "mark_delivered")
        orders.append(o)

        # 4. Russian customer cancels before shipping.
        o = self.new_order("olga", [(p["beanie"], 2, "Бордовый"), (p["socks"], 1, "Р. 36–38")], hours_ago=20)
        self.step(o, "confirm_payment")
        self.step(o, "cancel", reason_code="customer_request")
        orders.append(o)

        # 5. Amazon FBA: Amazon emails the customer; the shop sends only the review request.
        o = self.new_order("sarah", [(p["mug"], 1, "Midnight blue")], hours_ago=40)
        self.step(o, "confirm_payment")
        self.step(o, "ship", self.shipment(o, "amazon_logistics", "TBA304512877000"))
        self.step(o, "mark_delivered")
        orders.append(o)

        # 6. Amazon FBM: Amazon sends the order-placed email; the shop sends the rest.
        o = self.new_order("oliver", [(p["board"], 1, ""), (p["candle"], 2, "")], hours_ago=36)
        self.step(o, "confirm_payment")
        parcel = self.shipment(o, "dhl", "JD014600006281230712", days=(1, 3))
        self.step(o, "ship", parcel)
        self.step(o, "mark_out_for_delivery", parcel)
        self.step(o, "mark_delivered")
        orders.append(o)

        # 7. Delivered damaged and refunded: the scheduled feedback request is cancelled.
        o = self.new_order("emma", [(p["mug"], 4, "Cream"), (p["tote"], 1, "Sand")], hours_ago=60)
        self.step(o, "confirm_payment")
        self.step(o, "ship", self.shipment(o, "royal_mail", "TT123456785GB", days=(2, 3)))
        self.step(o, "mark_delivered")
        # A preset reason plus a free-text note (sent as typed: Emma reads English).
        self.step(o, "refund", str(o.total), reason_code="damaged", note="Two mugs arrived chipped.")
        orders.append(o)

        # 8. Click and collect: the shop's own event (shop.apps registers it),
        # in the customer's language like every built-in email.
        o = self.new_order("kari", [(p["candle"], 2, "")], hours_ago=3)
        self.step(o, "confirm_payment")
        self.step(o, "mark_ready_for_pickup", pickup_point="Nordlys Goods, Storgata 15, Oslo")
        orders.append(o)

        if options["fast_feedback"]:
            self.make_feedback_due(orders)
        if options["wait"]:
            self.wait(orders, options["timeout"])
        self.summary(orders)

        # 8. Abandoned carts: one reminded with a restore link, one ordered before
        #    its reminder went out (shop/management/commands/demo_carts.py).
        self.say("\nAbandoned carts", self.style.MIGRATE_HEADING)
        call_command("demo_carts", wait=options["wait"], stdout=self.stdout)

    # -- waiting for the worker --------------------------------------------------------
    @staticmethod
    def emails_of(orders):
        return OutboxEmail.objects.filter(
            content_type__app_label="shop",
            content_type__model="order",
            object_id__in=[str(o.pk) for o in orders],
        )

    def make_feedback_due(self, orders):
        now = timezone.now()
        n = self.emails_of(orders).filter(status=Status.SCHEDULED).update(send_after=now, updated_at=now)
        self.say(f"--fast-feedback: {n} feedback request(s) due now; the sweep (Celery beat) sends them.")

    def wait(self, orders, timeout):
        emails = self.emails_of(orders)
        deadline = time.monotonic() + timeout
        self.say(f"Waiting up to {timeout:.0f}s for the Celery worker to send {emails.count()} email rows...")
        while True:
            now = timezone.now()
            pending = emails.filter(status__in=[Status.QUEUED, Status.SENDING]).count()
            pending += emails.filter(status=Status.SCHEDULED, send_after__lte=now).count()
            if not pending:
                break
            if time.monotonic() > deadline:
                self.summary(orders)
                raise CommandError(
                    f"{pending} email(s) still not sent after {timeout:.0f}s. Is the Celery worker running? "
                    "Start it with: celery -A demo_shop worker -B --loglevel=info  (see var/worker.log)"
                )
            time.sleep(1)
        failed = emails.filter(status=Status.FAILED).count()
        if failed:
            self.summary(orders)
            raise CommandError(f"{failed} email(s) failed; see the send log (/sent/?status=failed).")

    def summary(self, orders):
        rows = list(self.emails_of(orders).order_by("created_at", "id"))
        by_order: dict[str, list[OutboxEmail]] = {}
        for row in rows:
            by_order.setdefault(row.object_id, []).append(row)
        self.say("\nOrder        Channel     Lang     State             Emails", self.style.MIGRATE_HEADING)
        for order in orders:
            # Re-read: refresh_from_db() is refused on the protected FSM state field.
            order = Order.objects.get(pk=order.pk)
            mails = ", ".join(f"{m.event}={m.status}" for m in by_order.get(str(order.pk), []))
            self.say(
                f"{order.number:<12} {order.sales_channel:<11} {order.language:<8} {order.state:<17} {mails}"
            )
        counts = Counter(row.status for row in rows)
        self.say("\nStatus       Count", self.style.MIGRATE_HEADING)
        for status in Status:
            if counts.get(status.value):
                self.say(f"{status.value:<12} {counts[status.value]:>5}")
        self.say(f"{'total':<12} {len(rows):>5}")
