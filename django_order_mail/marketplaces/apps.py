from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MarketplacesConfig(AppConfig):
    """Marketplace status sync (``docs/marketplaces.rst``): moves the shop's
    orders through the core's transitions from a marketplace's feed."""

    name = "django_order_mail.marketplaces"
    label = "order_mail_marketplaces"
    verbose_name = _("Order mail: marketplaces")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from . import app_settings  # noqa: F401 - registers this app's settings
