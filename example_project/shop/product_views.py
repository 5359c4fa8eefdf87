"""The demo's product page: the product and its customer reviews.

The reviews come from django-order-mail's reviews app: customers rate each
product from the feedback request email, staff approve the reviews in the
admin, and ``{% product_reviews product.sku %}`` shows the approved ones
here with their schema.org markup (docs/reviews.rst). The order lines name
the product by its ``sku``, which is the review's product id.
"""

from __future__ import annotations

from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_GET

from django_order_mail.rendering.branding import get_branding

from .models import Product


@require_GET
def product_page(request, sku: str):
    product = get_object_or_404(Product, sku=sku)
    return render(request, "shop/product.html", {"product": product, "shop": get_branding()})
