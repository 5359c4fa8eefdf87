"""A project whose orders are on the default admin site (``admin:``)."""

from django.contrib import admin
from django.urls import include, path

from tests.testapp.models import Order

site = admin.AdminSite()  # instance namespace "admin", like admin.site
site.register(Order)

urlpatterns = [
    path("admin/", site.urls),
    path("mail/", include("django_order_mail.urls")),
]
