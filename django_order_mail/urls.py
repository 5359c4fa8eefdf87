"""Customer-facing URLs: ``path("mail/", include("django_order_mail.urls"))``."""

from django.urls import path

from . import views

app_name = "django_order_mail"

urlpatterns = [
    path("feedback/<str:token>/", views.feedback, name="feedback"),
]
