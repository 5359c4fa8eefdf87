"""The carrier-tracking webhooks, included by ``django_order_mail.urls``
under ``carrier-tracking/`` (names in the ``django_order_mail`` namespace):
``django_order_mail:carrier_tracking_webhook`` with the provider's name."""

from django.urls import path

from . import views

urlpatterns = [
    path("<slug:provider>/", views.webhook, name="carrier_tracking_webhook"),
]
