"""The quickstart's first order: paste into ``python manage.py shell``,
or run ``python manage.py shell < first_order.py``."""

from decimal import Decimal

from django.db import transaction
from shop.models import Order, OrderLine

order = Order.objects.create(number="1001", email="tina@example.com", customer_name="Tina")
OrderLine.objects.create(order=order, name="Wool socks", quantity=2, unit_price=Decimal("12.50"))

with transaction.atomic():
    order.confirm_payment()  # pending_payment -> awaiting_shipment
    order.save()
