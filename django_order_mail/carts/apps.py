from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CartsConfig(AppConfig):
    """Abandoned-cart reminders (``docs/abandoned-cart.rst``), plugged into
    the core through its event registry, context builders and signals."""

    name = "django_order_mail.carts"
    label = "order_mail_carts"
    verbose_name = _("Order mail: abandoned carts")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from django_order_mail.rendering.context import register_context_builder
        from django_order_mail.signals import pre_render, pre_send
        from django_order_mail.urls import register_urls

        from . import (
            app_settings,  # noqa: F401 - registers this app's settings
            checks,  # noqa: F401 - E401-E405, W401-W402
            data,
            events,
            relevance,
        )
        from .context import build_cart_context

        events.register()
        events.register_texts()  # its text fields in the admin's Email texts
        data.register()  # export, erasure and retention of its rows
        register_context_builder(events.ABANDONED_CART, build_cart_context)
        pre_send.connect(relevance.stop_stale_reminder, dispatch_uid="order_mail_carts.stale")
        pre_render.connect(relevance.give_coupon, dispatch_uid="order_mail_carts.coupon")
        register_urls("cart/", "django_order_mail.carts.urls")  # cart_restore
