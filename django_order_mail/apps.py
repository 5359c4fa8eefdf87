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

        if apps.is_installed("django.contrib.admin"):
            from .carts import admin as _carts_admin  # noqa: F401 - recovered carts, recovery rate
            from .feedback import admin as _feedback_admin  # noqa: F401 - responses, follow-up queue
            from .tracking import admin as _tracking_admin  # noqa: F401 - registers its admin pages
