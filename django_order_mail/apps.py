from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OrderMailConfig(AppConfig):
    name = "django_order_mail"
    label = "django_order_mail"
    verbose_name = _("Order mail")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from . import checks  # noqa: F401 - registers the system checks
        from .lifecycle import signals  # noqa: F401 - connects the receivers
