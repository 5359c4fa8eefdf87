"""The carrier-tracking app's emails, registered with the core's event
registry (``docs/events.rst``) by the app config, as a shop registers its own.

* ``delivery_exception``: to the customer, transactional, one per parcel and
  kind of exception (failed delivery attempt, held at customs, returned to
  sender, available for pickup). The kind is the idempotency key's
  discriminator and is stored in ``extra["exception"]``.
* ``stale_shipments_digest``: to staff, the daily list of parcels without a
  carrier scan (:mod:`.stale`).
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from ..events import EventType, register_event
from .status import EMAILED_EXCEPTIONS, TrackingStatus

DELIVERY_EXCEPTION = "delivery_exception"
STALE_SHIPMENTS_DIGEST = "stale_shipments_digest"


def register() -> list[EventType]:
    from .stale import SampleDigest

    return [
        register_event(DELIVERY_EXCEPTION, _("Delivery exception"), per_shipment=True),
        register_event(
            STALE_SHIPMENTS_DIGEST,
            _("Shipments without carrier scans (staff)"),
            internal=True,
            sample=SampleDigest,
        ),
    ]


def exception_context(extra: dict | None) -> dict:
    """``delivery_exception`` in the template: the kind, with one flag per
    kind so the template needs no string comparison. A preview (no kind
    stored yet) shows a failed delivery attempt."""
    kind = str((extra or {}).get("exception") or "")
    if kind not in EMAILED_EXCEPTIONS:
        kind = TrackingStatus.ATTEMPT_FAILED
    return {
        "kind": kind,
        "attempt_failed": kind == TrackingStatus.ATTEMPT_FAILED,
        "customs_hold": kind == TrackingStatus.CUSTOMS_HOLD,
        "returned_to_sender": kind == TrackingStatus.RETURNED_TO_SENDER,
        "available_for_pickup": kind == TrackingStatus.AVAILABLE_FOR_PICKUP,
    }


def add_exception_context(sender, event, context, extra=None, **kwargs) -> None:
    """The ``collect_context`` receiver."""
    if event == DELIVERY_EXCEPTION:
        context["delivery_exception"] = exception_context(extra)


def register_texts() -> None:
    """What *Email texts* needs about the delivery exception's text fields:
    the kind is a code, and the fields change one kind's email."""
    from ..rendering.content_registry import register_text_fields

    register_text_fields(
        DELIVERY_EXCEPTION,
        hidden=("delivery_exception",),
        note=_(
            "These fields change the email about a failed delivery attempt, the most common one. The "
            "emails about a parcel held at customs, on its way back or waiting at a pickup point keep "
            "their packaged texts; the button label and the footer note apply to all of them."
        ),
    )
