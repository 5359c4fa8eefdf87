"""What the ESP reported about a message after accepting it.

``OutboxEmail.status`` says what *we* did with a row (queued, sent,
suppressed...). ``OutboxEmail.delivery_status`` says what happened to the
message afterwards, as the ESP's webhooks report it. Webhooks arrive late,
repeated and out of order (an "opened" before the "delivered", a "deferred"
after it), so the delivery status only ever moves *forward* in the order
below; bounced, rejected, failed and complained are terminal.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class DeliveryStatus(models.TextChoices):
    QUEUED = "queued", _("Queued at the ESP")
    SENT = "sent", _("Sent by the ESP")
    DEFERRED = "deferred", _("Deferred")
    DELIVERED = "delivered", _("Delivered")
    BOUNCED = "bounced", _("Bounced")
    REJECTED = "rejected", _("Rejected by the ESP")
    FAILED = "failed", _("Failed at the ESP")
    COMPLAINED = "complained", _("Marked as spam")


#: Progress order; a status never moves to a lower rank.
RANK = {
    "": 0,
    DeliveryStatus.QUEUED: 1,
    DeliveryStatus.SENT: 2,
    DeliveryStatus.DEFERRED: 3,
    DeliveryStatus.DELIVERED: 4,
    DeliveryStatus.BOUNCED: 9,
    DeliveryStatus.REJECTED: 9,
    DeliveryStatus.FAILED: 9,
    DeliveryStatus.COMPLAINED: 9,
}

#: Final: nothing the ESP reports later changes them.
TERMINAL = frozenset(
    {DeliveryStatus.BOUNCED, DeliveryStatus.REJECTED, DeliveryStatus.FAILED, DeliveryStatus.COMPLAINED}
)


def advances(current: str, new: str | None) -> bool:
    """True if moving from ``current`` to ``new`` is progress."""
    if not new or new not in RANK or current in TERMINAL:
        return False
    return RANK[new] > RANK.get(current, 0)
