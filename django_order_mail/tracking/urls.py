"""Customer URLs of tracking, included by ``django_order_mail.urls`` (so the
names live in the ``django_order_mail`` namespace)."""

from django.urls import path

from . import views

urlpatterns = [
    path("unsubscribe/<str:token>/", views.unsubscribe, name="unsubscribe"),
    path("preferences/<str:token>/", views.preferences, name="email_preferences"),
]
