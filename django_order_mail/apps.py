from django.apps import AppConfig, apps
from django.utils.translation import gettext_lazy as _


class OrderMailConfig(AppConfig):
    name = "django_order_mail"
    label = "django_order_mail"
    verbose_name = _("Order mail")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from . import checks  # noqa: F401 - registers the system checks
        from .feedback import checks as _feedback_checks  # noqa: F401 - survey settings + review compliance
        from .lifecycle import signals  # noqa: F401 - connects the receivers
        from .tracking import receivers  # noqa: F401 - connects the Anymail tracking receiver

        self.connect_send_receivers()

        if apps.is_installed("django.contrib.admin"):
            from .carts import admin as _carts_admin  # noqa: F401 - recovered carts, recovery rate
            from .feedback import admin as _feedback_admin  # noqa: F401 - responses, follow-up queue
            from .tracking import admin as _tracking_admin  # noqa: F401 - registers its admin pages

    @staticmethod
    def connect_send_receivers() -> None:
        """The features' receivers of the core's signals and their context
        builders (docs/signals.rst). ``pre_send`` receivers run in the order
        connected and the first veto wins, so the suppression list (the
        strongest reason) goes first, and a subject variant is only chosen
        for an email that will be sent."""
        from .carts import relevance
        from .carts.context import build_cart_context
        from .events import MailEvent
        from .feedback.context import add_feedback_context
        from .rendering.context import register_context_builder
        from .signals import collect_context, emails_claimed, pre_send
        from .tracking import sending

        emails_claimed.connect(sending.prime_recipients, dispatch_uid="django_order_mail.suppression.prime")
        pre_send.connect(sending.stop_suppressed, dispatch_uid="django_order_mail.suppression")
        pre_send.connect(relevance.check_cart_and_cap, dispatch_uid="django_order_mail.carts")
        pre_send.connect(sending.choose_subject, dispatch_uid="django_order_mail.subject_tests")
        pre_send.connect(sending.unsubscribe_headers, dispatch_uid="django_order_mail.unsubscribe")
        register_context_builder(MailEvent.ABANDONED_CART, build_cart_context)
        collect_context.connect(add_feedback_context, dispatch_uid="django_order_mail.feedback.context")
        collect_context.connect(sending.add_unsubscribe_url, dispatch_uid="django_order_mail.unsubscribe.url")
