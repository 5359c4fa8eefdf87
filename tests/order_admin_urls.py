"""An admin site with the shop's Order admin (``OrderMailAdminMixin``) and
the send log, for the tests of the order admin and of staff resends:
``pytest.mark.urls("tests.order_admin_urls")``."""

from django.contrib import admin
from django.urls import path

from django_order_mail.admin import OrderMailAdminMixin, OutboxEmailAdmin
from django_order_mail.outbox.models import OutboxEmail
from tests.testapp.models import Order

site = admin.AdminSite(name="admin")


@admin.register(Order, site=site)
class OrderAdmin(OrderMailAdminMixin, admin.ModelAdmin):
    fields = ("number", "email", "customer_name", "state")
    readonly_fields = ("state",)


site.register(OutboxEmail, OutboxEmailAdmin)
urlpatterns = [path("admin/", site.urls)]
