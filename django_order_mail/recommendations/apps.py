from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RecommendationsConfig(AppConfig):
    """Product recommendations and the referral block (``docs/recommendations.rst``),
    plugged into the core through its signals; the core's context has the two
    promotional slots they fill (``recommended_products``, ``referral``)."""

    name = "django_order_mail.recommendations"
    label = "order_mail_recommendations"
    verbose_name = _("Order mail: recommendations")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from django_order_mail.signals import collect_context, email_queued

        from . import (
            app_settings,  # noqa: F401 - registers this app's settings
            checks,  # noqa: F401 - E901-E904
        )
        from .context import add_recommendations
        from .learning import learn_placed_order

        collect_context.connect(add_recommendations, dispatch_uid="order_mail_recommendations.context")
        email_queued.connect(learn_placed_order, dispatch_uid="order_mail_recommendations.learn")
