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
