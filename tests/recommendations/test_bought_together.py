"""The packaged default, "other products bought with these": what it learns
from placed orders (through get_mail_line_items()), what it recommends,
and the learn command that counts orders placed before."""

from __future__ import annotations

import datetime as dt
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import transaction
from django.utils import timezone

from django_order_mail.events import MailEvent
from django_order_mail.recommendations.bought_together import recommend
from django_order_mail.recommendations.learning import learn_order
from django_order_mail.recommendations.models import BoughtTogether, LearnedOrder, PurchasedProduct
from django_order_mail.rendering.context import build_context
from tests.factories import OrderFactory
from tests.testapp.models import Order

pytestmark = pytest.mark.django_db

SHOP = "https://shop.example"
PROVIDER = "django_order_mail.recommendations.bought_together.recommend"


@pytest.fixture(autouse=True)
def catalogue(monkeypatch, mail_settings):
    """The test shop's line items with the documented optional keys: a SKU,
    the product page, a picture, and a variant (the customer's engraving)."""

    def items(self):
        return [
            {
                "name": line.name,
                "sku": line.name.upper().replace(" ", "-"),
                "variant": f"engraved for {self.customer_name}",
                "quantity": line.quantity,
                "unit_price": line.unit_price,
                "total": line.unit_price * line.quantity,
                "url": "" if line.name == "Gift card" else f"{SHOP}/p/{line.name.lower().replace(' ', '-')}/",
                "image_url": f"{SHOP}/img/{line.name.lower().replace(' ', '-')}.png",
            }
            for line in self.lines.all()
        ]

    monkeypatch.setattr(Order, "get_mail_line_items", items)
    mail_settings(RECOMMENDATIONS_PROVIDER=PROVIDER)


def bought(*names: str, customer: str = "Tina"):
    return OrderFactory(customer_name=customer, lines=[(name, 1, "10.00") for name in names])


def place(order, capture):
    """The customer pays: the order confirmation is written; the products
    are counted once the transaction commits."""
    with capture(execute=True), transaction.atomic():
        order.confirm_payment()
        order.save()
    return order


@pytest.fixture
def placed(django_capture_on_commit_callbacks):
    return lambda *names, **kw: place(bought(*names, **kw), django_capture_on_commit_callbacks)


def names(products) -> list[str]:
    return [p["name"] for p in products]


def test_placed_orders_are_counted_once_each(placed):
    order = placed("Wool socks", "Mug")
    socks, mug = (
        PurchasedProduct.objects.get(product_id="WOOL-SOCKS"),
        PurchasedProduct.objects.get(product_id="MUG"),
    )
    assert (socks.orders, mug.orders) == (1, 1) and socks.url == f"{SHOP}/p/wool-socks/"
    pair = BoughtTogether.objects.get(product=socks, other=mug)
    assert pair.orders == 1 and BoughtTogether.objects.get(product=mug, other=socks).orders == 1
    assert learn_order(order) is False  # counted already
    assert BoughtTogether.objects.get(product=socks, other=mug).orders == 1
    # Nothing of the customer is kept: not the engraving (variant), not a name or address.
    assert not PurchasedProduct.objects.filter(name__contains="Tina").exists()
    assert LearnedOrder.objects.count() == 1


def test_an_order_that_is_not_paid_teaches_nothing(django_capture_on_commit_callbacks):
    order = bought("Wool socks", "Mug")
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        order.cancel()
        order.save()
    assert not PurchasedProduct.objects.exists()


def test_a_rolled_back_payment_teaches_nothing(django_capture_on_commit_callbacks):
    order = bought("Wool socks", "Mug")
    with pytest.raises(RuntimeError), django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        order.confirm_payment()
        order.save()
        raise RuntimeError("declined after all")
    assert not PurchasedProduct.objects.exists()


def test_products_bought_together_in_enough_orders_are_recommended_best_first(placed, mail_settings):
    placed("Wool socks", "Mug", customer="Kari")
    placed("Wool socks", "Mug", "Beanie", customer="Ola")
    placed("Wool socks", "Beanie", customer="Per")
    placed("Wool socks", "Mug", customer="Liv")
    placed("Wool socks", "Candle", customer="Ada")  # one order only: never shown to someone else
    placed("Tote", "Board", customer="Eva")  # unrelated
    mine = bought("Wool socks", customer="Tina")
    assert names(recommend(mine, MailEvent.ORDER_CONFIRMATION, limit=3)) == ["Mug", "Beanie"]
    mail_settings(RECOMMENDATIONS_PROVIDER=PROVIDER, RECOMMENDATIONS_MIN_ORDERS=1)
    assert names(recommend(mine, MailEvent.ORDER_CONFIRMATION, limit=3)) == ["Mug", "Beanie", "Candle"]
    assert names(recommend(mine, MailEvent.ORDER_CONFIRMATION, limit=1)) == ["Mug"]


def test_what_the_customer_bought_and_products_without_a_page_are_not_recommended(placed):
    for customer in ("Kari", "Ola"):
        placed("Wool socks", "Mug", "Gift card", customer=customer)
    assert names(recommend(bought("Wool socks", "Mug"), limit=3)) == []  # the gift card has no url
    [mug] = recommend(bought("Wool socks"), limit=3)
    assert mug == {
        "product_id": "MUG",
        "name": "Mug",
        "url": f"{SHOP}/p/mug/",
        "image_url": f"{SHOP}/img/mug.png",
    }


def test_products_no_longer_ordered_fade_out(django_capture_on_commit_callbacks, mail_settings):
    long_ago = timezone.now() - dt.timedelta(days=400)
    for customer in ("Kari", "Ola"):
        learn_order(bought("Wool socks", "Mug", customer=customer), now=long_ago)
    mine = bought("Wool socks")
    assert recommend(mine, limit=3) == []
    mail_settings(RECOMMENDATIONS_PROVIDER=PROVIDER, RECOMMENDATIONS_LOOKBACK_DAYS=500)
    assert names(recommend(mine, limit=3)) == ["Mug"]


def test_the_lookup_costs_the_same_few_queries_however_many_orders(placed, django_assert_max_num_queries):
    for n in range(12):
        placed("Wool socks", "Mug", f"Thing {n % 4}", customer=f"C{n}")
    mine = Order.objects.prefetch_related("lines").get(pk=bought("Wool socks").pk)
    with django_assert_max_num_queries(2):
        found = recommend(mine, limit=3)
    assert names(found)[0] == "Mug" and len(found) == 3


def test_the_emails_show_the_products_bought_together(placed):
    placed("Wool socks", "Mug", customer="Kari")
    placed("Wool socks", "Mug", customer="Ola")
    order = placed("Wool socks")
    context = build_context(order, MailEvent.ORDER_CONFIRMATION, email_id=1)
    assert names(context["recommended_products"]) == ["Mug"]
    assert context["recommended_products"][0]["image_url"] == f"{SHOP}/img/mug.png"


def test_the_learn_command_counts_earlier_orders_once(django_capture_on_commit_callbacks):
    for customer in ("Kari", "Ola", "Per"):
        order = bought("Wool socks", "Mug", customer=customer)
        with transaction.atomic():  # on-commit work never runs here: as if the app was not installed
            order.confirm_payment()
            order.save()
    bought("Tote", "Board")  # never paid: not placed
    assert not PurchasedProduct.objects.exists()
    out = StringIO()
    call_command("order_mail_recommendations_learn", stdout=out)
    assert "3 orders counted now" in out.getvalue()
    assert BoughtTogether.objects.get(product__product_id="MUG", other__product_id="WOOL-SOCKS").orders == 3
    assert not PurchasedProduct.objects.filter(product_id="TOTE").exists()
    call_command("order_mail_recommendations_learn", stdout=StringIO())  # again: nothing counted twice
    assert BoughtTogether.objects.get(product__product_id="MUG", other__product_id="WOOL-SOCKS").orders == 3
    call_command("order_mail_recommendations_learn", "--reset", stdout=StringIO())
    assert BoughtTogether.objects.get(product__product_id="MUG", other__product_id="WOOL-SOCKS").orders == 3


def test_nothing_is_counted_while_bought_together_is_off(placed, mail_settings):
    mail_settings(RECOMMENDATIONS_PROVIDER="tests.recommendations.test_hook.provider")
    placed("Wool socks", "Mug")
    assert not PurchasedProduct.objects.exists() and not LearnedOrder.objects.exists()
