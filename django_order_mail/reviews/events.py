"""The review app's emails, registered with the core's event registry
(``docs/events.rst``) by the app config, as a shop registers its own.

* ``review_reminder``: to the customer, commercial, a follow-up (dropped if
  the order is cancelled, refunded, disputed or frozen before it is due).
  At most one per order (its idempotency key has no discriminator), written
  when the feedback request is sent (:mod:`.reminders`).
* ``review_not_received_alert``: to staff, when a customer says on the
  review page that the order has not arrived.

The feedback request itself (``feedback_request``) belongs to the feedback
app; this app only adds the product stars to it.
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from ..events import EventType, channel_rules, register_event

#: The feedback app's email this app adds its product stars to (an event
#: name, not an import: the apps do not depend on each other's code).
FEEDBACK_REQUEST = "feedback_request"
REVIEW_REMINDER = "review_reminder"
NOT_RECEIVED_ALERT = "review_not_received_alert"
#: The emails whose links lead to the review page.
LINKED_EVENTS = (FEEDBACK_REQUEST, REVIEW_REMINDER)


def register() -> list[EventType]:
    return [
        register_event(
            REVIEW_REMINDER,
            _("Product review reminder"),
            commercial=True,
            follow_up=True,
            description=_("One reminder to review the products you bought"),
        ),
        register_event(NOT_RECEIVED_ALERT, _("Order not received (staff)"), internal=True),
    ]


def stars_allowed(channel: str | None) -> bool:
    """Whether the shop's own review links may appear in this channel's mail.

    A marketplace (``"marketplace": True``) or a channel whose feedback
    request is the marketplace's review request (``"feedback": "review"``)
    keeps its own review path: no product stars, never a link to the shop.
    """
    options = channel_rules(channel).options
    return not options.get("marketplace") and options.get("feedback") != "review"


def honest_wording(slot: str, text: str, language: str) -> list[str]:
    """The reminder asks for a review too: the feedback request's wording
    rules hold for it (the feedback app's check, found through the core's
    registry by the event's name: no import of the other app's code)."""
    from ..rendering.content_registry import text_fields

    check = text_fields(FEEDBACK_REQUEST).check
    return [str(reason) for reason in check(slot, text, language)] if check is not None else []


def register_texts() -> None:
    """What *Email texts* needs about the reminder's text fields."""
    from ..rendering.content_registry import register_text_fields

    register_text_fields(REVIEW_REMINDER, check=honest_wording)
