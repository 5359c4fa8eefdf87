"""The carrier-neutral words a parcel's tracking is recorded in.

Every provider (:mod:`.providers`) maps its own vocabulary (AfterShip's
``tag``/``subtag``, EasyPost's ``status``/``status_detail``) to one
:class:`TrackingStatus`. A status has a *stage*: how far the parcel got.
An update never moves a parcel to an earlier stage ("in transit" after
"out for delivery" or "delivered" changes nothing), and within one stage
an older scan never replaces a newer one (:func:`moves_forward`).
``delivered`` and ``returned_to_sender`` are final: a "delivered" after a
return is the parcel reaching the shop, not the customer.
"""

from __future__ import annotations

from datetime import datetime

from django.db import models
from django.utils.translation import gettext_lazy as _


class TrackingStatus(models.TextChoices):
    PRE_TRANSIT = "pre_transit", _("Label created")
    IN_TRANSIT = "in_transit", _("In transit")
    EXCEPTION = "exception", _("Carrier exception")
    CUSTOMS_HOLD = "customs_hold", _("Held at customs")
    OUT_FOR_DELIVERY = "out_for_delivery", _("Out for delivery")
    ATTEMPT_FAILED = "attempt_failed", _("Delivery attempt failed")
    AVAILABLE_FOR_PICKUP = "available_for_pickup", _("Available for pickup")
    RETURNED_TO_SENDER = "returned_to_sender", _("Returned to sender")
    DELIVERED = "delivered", _("Delivered")


S = TrackingStatus

#: How far the parcel got; a lower stage never replaces a higher one.
STAGE: dict[str, int] = {
    S.PRE_TRANSIT: 10,
    S.IN_TRANSIT: 20,
    S.EXCEPTION: 20,
    S.CUSTOMS_HOLD: 20,
    S.OUT_FOR_DELIVERY: 30,
    S.ATTEMPT_FAILED: 30,
    S.AVAILABLE_FOR_PICKUP: 30,
    S.RETURNED_TO_SENDER: 90,
    S.DELIVERED: 100,
}
#: Nothing moves a parcel out of these.
FINAL = frozenset({S.DELIVERED, S.RETURNED_TO_SENDER})
#: The exceptions the customer is emailed about (``delivery_exception``),
#: each once per parcel. Other carrier exceptions (damaged, lost, weather)
#: are recorded for staff only: what to tell the customer is the shop's call.
EMAILED_EXCEPTIONS = frozenset(
    {S.ATTEMPT_FAILED, S.CUSTOMS_HOLD, S.RETURNED_TO_SENDER, S.AVAILABLE_FOR_PICKUP}
)


def moves_forward(
    current: str, current_at: datetime | None, new: str, new_at: datetime | None
) -> tuple[bool, str]:
    """Whether a parcel at ``current`` (reached at ``current_at``) moves to
    ``new`` (reported for ``new_at``), and if not, why."""
    if not current:
        return True, ""
    if current in FINAL:
        return False, f"the parcel is already {current}"
    if STAGE[new] < STAGE[current]:
        return False, f"{new} is behind {current}: a parcel never moves backwards"
    if STAGE[new] == STAGE[current] and current_at and new_at and new_at < current_at:
        return False, f"an older scan than the {current} one"
    return True, ""
