"""The abandoned-cart app's email, registered with the core's event registry
(``docs/events.rst``) by the app config, as a shop registers its own."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from ..events import EventType, register_event

#: A reminder about a cart left before checkout: commercial (it honours
#: unsubscribes and the frequency cap); the scan writes it, no transition.
ABANDONED_CART = "abandoned_cart"


def register() -> EventType:
    from .sample import SampleCart

    return register_event(
        ABANDONED_CART,
        _("Abandoned cart"),
        commercial=True,
        description=_("Reminders about items left in your cart"),
        sample=SampleCart,
    )


def register_texts() -> None:
    """What *Email texts* needs about the reminder's text fields: a step's
    own subject (the admin's reminder sequence) wins over the field's."""
    from ..rendering.content_registry import register_text_fields

    register_text_fields(
        ABANDONED_CART,
        hidden=("low_stock", "is_last_step", "coupon"),
        note=_(
            "These texts are used for every reminder of the sequence, with or without a coupon. A subject "
            "set for a step in the reminder sequence wins over the subject here."
        ),
    )
