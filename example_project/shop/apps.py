from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ShopConfig(AppConfig):
    name = "shop"
    verbose_name = "Demo shop"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        # The shop's own email, registered like the built-in ones: its
        # template is templates/django_order_mail/email/ready_for_pickup.email,
        # its strings are translated in shop/locale (docs/events.rst).
        from django_order_mail.events import register_event
        from django_order_mail.rendering.content_registry import register_text_fields

        register_event("ready_for_pickup", _("Ready for pickup"), transitions=["mark_ready_for_pickup"])
        # Its text fields in the admin's Email texts are the template's
        # {% content %} tags; what the transition stores in extra is
        # offered as a variable ({{ extra.pickup_point }}) and in previews.
        register_text_fields(
            "ready_for_pickup", sample_extra=lambda: {"pickup_point": "Nordlys Goods, Storgata 15, Oslo"}
        )
