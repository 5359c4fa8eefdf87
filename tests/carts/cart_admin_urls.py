"""A shop's cart admin with the carts app's columns (value, status, next
reminder) at /shop-admin/, beside the package's admin at /admin/."""

from django.contrib import admin
from django.db.models import DecimalField, F, Sum
from django.urls import path

from django_order_mail.carts.cart_admin import AbandonedCartAdminMixin
from tests.testapp.models import Cart
from tests.urls import urlpatterns as base_patterns

shop_site = admin.AdminSite(name="cartshop")


@admin.register(Cart, site=shop_site)
class CartAdmin(AbandonedCartAdminMixin, admin.ModelAdmin):
    list_display = ("__str__", "email", "cart_value", "cart_status", "next_reminder", "last_activity_at")
    cart_value_expression = Sum(F("items__price") * F("items__quantity"), output_field=DecimalField())


urlpatterns = [*base_patterns, path("shop-admin/", shop_site.urls)]
