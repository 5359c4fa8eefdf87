from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CarrierTrackingConfig(AppConfig):
    """Carrier tracking (``docs/carrier-tracking.rst``): provider webhooks move
    parcels and orders through the core's transitions, the delivery-exception
    email and the staff warning about parcels without carrier scans. Plugged
    into the core through its registries and signals, never imported by it."""

    name = "django_order_mail.carrier_tracking"
    label = "order_mail_carrier_tracking"
    verbose_name = _("Order mail: carrier tracking")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from django_order_mail.rendering.context import register_context_builder
        from django_order_mail.signals import collect_context
        from django_order_mail.urls import register_urls

        from . import (
            app_settings,  # noqa: F401 - registers this app's settings
            checks,  # noqa: F401 - E701-E703, W701-W702
            events,
        )
        from .stale import build_digest_context, register_digest_recipients

        events.register()
        events.register_texts()  # its text fields in the admin's Email texts
        register_digest_recipients()  # the settings: the digest's default recipients in the admin
        register_context_builder(events.STALE_SHIPMENTS_DIGEST, build_digest_context)
        collect_context.connect(
            events.add_exception_context, dispatch_uid="order_mail_carrier_tracking.context"
        )
        register_urls(
            "carrier-tracking/", "django_order_mail.carrier_tracking.urls"
        )  # carrier_tracking_webhook
