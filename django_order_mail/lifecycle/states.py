"""Order states (``docs/lifecycle.rst``), named after what marketplaces report."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class OrderState(models.TextChoices):
    PENDING_PAYMENT = "pending_payment", _("Awaiting payment")
    PAYMENT_REVIEW = "payment_review", _("Payment being verified")
    AWAITING_SHIPMENT = "awaiting_shipment", _("Awaiting shipment")
    PARTIALLY_SHIPPED = "partially_shipped", _("Partially shipped")
    SHIPPED = "shipped", _("Shipped")
    OUT_FOR_DELIVERY = "out_for_delivery", _("Out for delivery")
    DELIVERED = "delivered", _("Delivered")
    COMPLETED = "completed", _("Completed")
    CANCELLED = "cancelled", _("Cancelled")
    FROZEN = "frozen", _("On hold")
    IN_DISPUTE = "in_dispute", _("In dispute")
    REFUNDED = "refunded", _("Refunded")


def order_state(order) -> str | None:
    """The order's current state, whatever its FSM field is called.

    Models name the field in ``mail_state_field`` (default ``"state"``).
    """
    return getattr(order, getattr(order, "mail_state_field", "state"), None)


#: States in which the order's content may still be edited and re-confirmed.
EDITABLE_STATES = (OrderState.PENDING_PAYMENT, OrderState.PAYMENT_REVIEW, OrderState.AWAITING_SHIPMENT)
#: States in which at least one parcel is with the carrier.
IN_TRANSIT_STATES = (OrderState.PARTIALLY_SHIPPED, OrderState.SHIPPED, OrderState.OUT_FOR_DELIVERY)
