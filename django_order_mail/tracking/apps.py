from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class TrackingConfig(AppConfig):
    """Delivery tracking, suppression, unsubscribe and subject A/B tests
    (``docs/tracking.rst``): receivers of the core's signals and Anymail's
    ``tracking`` signal, never imported by the core."""

    name = "django_order_mail.tracking"
    label = "order_mail_tracking"
    verbose_name = _("Order mail: tracking and suppression")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from django_order_mail.outbox.engagement import register_engagement_source
        from django_order_mail.signals import (
            collect_context,
            email_queued,
            emails_claimed,
            pre_render,
            pre_send,
        )
        from django_order_mail.urls import register_urls

        from . import (
            app_settings,  # noqa: F401 - registers this app's settings
            attribution,
            checks,  # noqa: F401 - W601-W603, E601
            data,
            receivers,  # noqa: F401 - Anymail's tracking signal
            sending,
        )

        # pre_send receivers run in the order connected and the first veto
        # wins: the suppression list, the strongest reason, goes first.
        emails_claimed.connect(sending.prime_recipients, dispatch_uid="order_mail_tracking.prime")
        pre_send.connect(sending.stop_suppressed, dispatch_uid="order_mail_tracking.suppression")
        # After every check and the frequency cap: only an email that is
        # really sent is given a subject variant.
        pre_render.connect(sending.choose_subject, dispatch_uid="order_mail_tracking.subject_tests")
        pre_render.connect(sending.unsubscribe_headers, dispatch_uid="order_mail_tracking.unsubscribe")
        pre_render.connect(sending.drop_promotion, dispatch_uid="order_mail_tracking.no_promotion")
        collect_context.connect(
            sending.add_unsubscribe_url, dispatch_uid="order_mail_tracking.unsubscribe_url"
        )
        # An order confirmation written: the order is placed, credit the
        # email its customer clicked last (revenue per email, attribution.py).
        email_queued.connect(attribution.credit_placed_order, dispatch_uid="order_mail_tracking.attribution")
        data.register()  # export, erasure and retention of its rows
        # The receivers fill the send log's delivery/open/click fields: the
        # core admin shows those columns (outbox/engagement.py).
        register_engagement_source(self.label, delivery=True, opens=True, clicks=True)
        register_urls("", "django_order_mail.tracking.urls")  # unsubscribe, email_preferences
