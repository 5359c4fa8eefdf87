"""URLs of the sequences browser test: the browser tests' URLs (admin,
static files) and a shop's cart admin with the carts app's columns at
/cart-admin/."""

from django.urls import path

from tests.browser.urls import urlpatterns as browser_patterns
from tests.carts.cart_admin_urls import shop_site

urlpatterns = [*browser_patterns, path("cart-admin/", shop_site.urls)]
