"""Customer URLs of abandoned-cart reminders, included by
``django_order_mail.urls`` (names in the ``django_order_mail`` namespace)."""

from django.urls import path

from . import views

urlpatterns = [
    path("restore/<str:token>/", views.restore, name="cart_restore"),
]
