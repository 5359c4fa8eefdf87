from decimal import Decimal

import factory

from tests.testapp.models import Order, OrderLine


class OrderFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Order
        skip_postgeneration_save = True

    number = factory.Sequence(lambda n: f"10{n:04d}")
    email = factory.Sequence(lambda n: f"customer{n}@example.com")
    customer_name = "Tina"

    @factory.post_generation
    def lines(self, create, extracted, **kwargs):
        if not create:
            return
        for name, qty, price in extracted or [("Wool socks", 2, "12.50"), ("Mug", 1, "9.90")]:
            OrderLine.objects.create(order=self, name=name, quantity=qty, unit_price=Decimal(price))
