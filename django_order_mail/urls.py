"""Customer-facing URLs: ``path("mail/", include("django_order_mail.urls"))``."""

from django.urls import include, path

app_name = "django_order_mail"

urlpatterns = [
    # The survey: feedback, feedback_answer, feedback_thanks (feedback/urls.py).
    path("feedback/", include("django_order_mail.feedback.urls")),
    path("", include("django_order_mail.tracking.urls")),  # unsubscribe, preferences
    path("cart/", include("django_order_mail.carts.urls")),  # cart_restore
]
