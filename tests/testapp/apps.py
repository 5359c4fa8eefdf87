from django.apps import AppConfig


class TestAppConfig(AppConfig):
    name = "tests.testapp"
    label = "testapp"

    def ready(self):
        # A shop's own event, registered as the built-in ones are (docs/events.rst).
        from django_order_mail.events import register_event

        register_event("ready_for_pickup", "Ready for pickup", transitions=["mark_ready_for_pickup"])
        # Its text fields (the template's {% content %} tags) offer {{ extra.pickup_point }}.
        from django_order_mail.rendering.content_registry import register_text_fields

        register_text_fields("ready_for_pickup", sample_extra=lambda: {"pickup_point": "Storgata 15, Oslo"})
