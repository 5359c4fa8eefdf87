"""URLs of the cart-restore browser test: the package's customer pages and a
tests-only checkout page for ``tests.testapp.Cart`` (what a shop's checkout
does with a restored cart: show it, take the order)."""

from decimal import Decimal

from django.http import HttpResponse
from django.template import engines
from django.urls import include, path
from django.views.decorators.http import require_http_methods

from tests.testapp.models import Cart, Order, OrderLine

PAGE = engines["django"].from_string(
    """<!doctype html><html lang="en"><head><title>Checkout</title></head><body>
<h1>Checkout</h1>
{% if thanks %}<p id="thanks">Thank you for order {{ thanks }}!</p>
{% elif cart %}<ul id="items">{% for item in items %}
<li>{{ item.quantity }} × {{ item.name }} – {{ item.price }}</li>{% endfor %}</ul>
<form method="post">{% csrf_token %}<button type="submit">Place order</button></form>
{% else %}<p id="empty">Your cart is empty.</p>{% endif %}
</body></html>"""
)


@require_http_methods(["GET", "POST"])
def checkout(request):
    cart = Cart.objects.filter(pk=request.session.get("cart_id"), ordered_at__isnull=True).first()
    context = {
        "cart": cart,
        "items": cart.get_cart_items() if cart else [],
        "coupon": request.session.get("coupon"),
    }
    if request.method == "POST" and cart is not None:
        order = Order.objects.create(
            number=f"C{cart.pk:05d}", email=cart.email, customer_name=cart.customer_name
        )
        for item in context["items"]:
            OrderLine.objects.create(
                order=order, name=item["name"], quantity=item["quantity"], unit_price=Decimal(item["price"])
            )
        cart.mark_ordered(order, request=request)
        context = {"thanks": order.number}
    return HttpResponse(PAGE.render(context, request))


urlpatterns = [
    path("mail/", include("django_order_mail.urls")),
    path("shop/checkout/", checkout, name="checkout"),
]
