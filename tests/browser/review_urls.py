"""URLs of the product-review browser test: the package's pages and admin
(tests.browser.urls), a tests-only product page that shows the product's
approved reviews with ``{% product_reviews %}`` (what a shop's product page
does), and the review photos served from the default storage (the tests
keep them in memory)."""

from django.core.files.storage import default_storage
from django.http import FileResponse, Http404, HttpResponse
from django.template import engines
from django.urls import path

from tests.browser.urls import urlpatterns as browser_patterns

PAGE = engines["django"].from_string(
    """{% load order_mail_reviews %}<!doctype html>
<html lang="en"><head><title>{{ name }}</title></head><body>
<h1>{{ name }}</h1>
{% product_reviews product_id name=name %}
</body></html>"""
)


def product_page(request, product_id):
    return HttpResponse(PAGE.render({"product_id": product_id, "name": "Wool socks"}, request))


def media(request, name):
    if not default_storage.exists(name):
        raise Http404
    return FileResponse(default_storage.open(name))


urlpatterns = [
    *browser_patterns,
    path("shop/products/<str:product_id>/", product_page, name="product"),
    path("media/<path:name>", media),
]
