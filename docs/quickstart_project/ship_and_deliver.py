"""The quickstart's next steps: ship order 1001, then deliver it. Paste into
``python manage.py shell``, or run ``python manage.py shell < ship_and_deliver.py``."""

from django.db import transaction
from shop.models import Order

order = Order.objects.get(number="1001")

with transaction.atomic():
    parcel = order.add_shipment("ups", "1Z999AA10123456784")
    order.ship(parcel)  # awaiting_shipment -> shipped: the shipping confirmation
    order.save()

with transaction.atomic():
    order.mark_out_for_delivery(parcel)  # the carrier has it on the van
    order.save()

with transaction.atomic():
    order.mark_delivered()  # the delivered email; the feedback app schedules its request
    order.save()

for event, status, send_after in order.mail_log.order_by("pk").values_list("event", "status", "send_after"):
    print(event, status, send_after or "")
