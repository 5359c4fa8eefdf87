from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OrderMailConfig(AppConfig):
    """The core: lifecycle, outbox, delivery, rendering and their admin.

    It works alone; the feature apps (``django_order_mail.tracking``,
    ``.feedback``, ``.carts``, ``.marketplaces``) plug into it through its
    signals and registries (``docs/architecture.rst``) and are never
    imported by it.
    """

    name = "django_order_mail"
    label = "django_order_mail"
    verbose_name = _("Order mail")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from . import checks  # noqa: F401 - registers the system checks
        from .data import core as data
        from .lifecycle import signals  # noqa: F401 - connects the transition receiver

        data.register()  # the send log's export, erasure and retention
        from .notifications import context as staff_context
        from .notifications import data as staff_data
        from .notifications.recipients import register_core_defaults

        register_core_defaults()  # new_order, high_value_order: off until set up in the admin
        staff_context.connect()  # the order's admin link in staff emails
        staff_data.register()  # staff emails about a customer's orders are erased with the customer
