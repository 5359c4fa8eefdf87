from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ReviewsConfig(AppConfig):
    """Product reviews (``docs/reviews.rst``): star links in the feedback
    request, the review page, moderation, display and one reminder, plugged
    into the core through its event registry and signals. The feedback app
    owns the request email; this app only adds to its context."""

    name = "django_order_mail.reviews"
    label = "order_mail_reviews"
    verbose_name = _("Order mail: product reviews")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from django.db.models.signals import post_delete

        from django_order_mail.signals import collect_context, email_sent, pre_send
        from django_order_mail.urls import register_urls

        from . import (
            app_settings,  # noqa: F401 - registers this app's settings
            checks,  # noqa: F401 - E801-E803, W801-W803
            data,
            events,
        )
        from .context import add_review_context
        from .models import ReviewPhoto
        from .photos import delete_file
        from .reminders import check_before_send, register_alert_recipients, schedule_reminder

        events.register()
        events.register_texts()  # its text fields in the admin's Email texts
        data.register()  # export, erasure and retention of its rows (docs/data-protection.rst)
        register_alert_recipients()  # the settings: the alert's default recipients in the admin
        collect_context.connect(add_review_context, dispatch_uid="order_mail_reviews.context")
        email_sent.connect(schedule_reminder, dispatch_uid="order_mail_reviews.reminder")
        pre_send.connect(check_before_send, dispatch_uid="order_mail_reviews.pre_send")
        post_delete.connect(delete_file, sender=ReviewPhoto, dispatch_uid="order_mail_reviews.photo_file")
        register_urls(
            "reviews/", "django_order_mail.reviews.urls"
        )  # product_review, ..._not_received, ..._json
