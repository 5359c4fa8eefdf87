"""The test URLs for the browser tests' live server: static files served even
where the settings lack django.contrib.staticfiles (the editor's JavaScript
must load), and a shop Order admin with the order-mail mixin at /shop-admin/."""

from django.contrib import admin
from django.contrib.staticfiles.views import serve
from django.urls import path, re_path

from django_order_mail.admin import OrderMailAdminMixin
from tests.testapp.models import Order
from tests.urls import urlpatterns as base_patterns

shop_site = admin.AdminSite(name="shopadmin")


@admin.register(Order, site=shop_site)
class OrderAdmin(OrderMailAdminMixin, admin.ModelAdmin):
    list_display = ("number", "customer_name", "state")
    fields = ("number", "customer_name", "email", "state")
    readonly_fields = ("state",)


urlpatterns = [
    *base_patterns,
    path("shop-admin/", shop_site.urls),
    re_path(r"^static/(?P<path>.*)$", serve, {"insecure": True}),
]
