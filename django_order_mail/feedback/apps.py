from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class FeedbackConfig(AppConfig):
    """The feedback or review request, the survey and the follow-up queue
    (``docs/feedback.rst``), plugged into the core through its event
    registry and signals."""

    name = "django_order_mail.feedback"
    label = "order_mail_feedback"
    verbose_name = _("Order mail: feedback")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from django_order_mail.signals import collect_context
        from django_order_mail.urls import register_urls

        from . import (
            app_settings,  # noqa: F401 - registers this app's settings
            checks,  # noqa: F401 - survey settings, review compliance
            data,
            events,
        )
        from .context import add_feedback_context

        events.register()
        events.register_texts()  # its text fields in the admin's Email texts
        from .alerts import register_alert_recipients

        register_alert_recipients()  # the settings: the alert's default recipients in the admin
        data.register()  # export, erasure and retention of its rows
        collect_context.connect(add_feedback_context, dispatch_uid="order_mail_feedback.context")
        register_urls("feedback/", "django_order_mail.feedback.urls")  # feedback, feedback_answer, ..._thanks
