"""The feedback app's emails, registered with the core's event registry
(``docs/events.rst``) by the app config, as a shop registers its own."""

from __future__ import annotations

from datetime import timedelta

from django.utils.translation import gettext_lazy as _

from ..events import EventType, channel_rules, register_event
from .app_settings import app_settings

#: The feedback or review request: a commercial follow-up written when the
#: order is delivered and due ``FEEDBACK_DELAY_DAYS`` later (or the channel's
#: own ``feedback_delay_days``).
FEEDBACK_REQUEST = "feedback_request"
#: Staff mail: a customer gave a low satisfaction score.
LOW_SCORE_ALERT = "low_score_alert"


def feedback_delay_days(channel: str | None, *, default: int | None = None) -> int:
    """Days after delivery before the request is due on ``channel``: the
    channel's own rule, else ``default``, else staff's schedule (admin),
    else ``FEEDBACK_DELAY_DAYS``.

    Read when the request is written (the order is delivered): a request
    already scheduled keeps its time when staff change the schedule. The
    system checks pass ``default`` (the setting): they run before the
    database may be migrated.
    """
    days = channel_rules(channel).options.get("feedback_delay_days")
    if days is not None:
        return int(days)
    if default is not None:
        return default
    from .models import saved_schedule

    schedule = saved_schedule()
    return schedule.delay_days if schedule is not None else app_settings.FEEDBACK_DELAY_DAYS


def feedback_delay(order) -> timedelta:
    getter = getattr(order, "get_mail_channel", None)
    return timedelta(days=feedback_delay_days(getter() if getter else None))


def register() -> list[EventType]:
    return [
        register_event(
            FEEDBACK_REQUEST,
            _("Feedback request"),
            commercial=True,
            follow_up=True,
            transitions=("mark_delivered",),
            delay=feedback_delay,
            description=_("Requests for feedback and reviews after a delivery"),
        ),
        register_event(LOW_SCORE_ALERT, _("Low score alert (staff)"), internal=True),
    ]


#: Context keys of the feedback request that are codes, not text.
TEXT_CODES = (
    "feedback_base",
    "feedback_scale",
    "feedback_ratings",
    "review_request",
    "review_links",
    "marketplace",
    "marketplace_name",
)
#: Links and addresses: the survey also goes out on marketplace channels
#: (``aliexpress``: the marketplace layout), whose messages may not point
#: to the shop, so its text fields do not offer them.
TEXT_LINKS = (
    "feedback_url",
    "order_url",
    "retry_payment_url",
    "unsubscribe_url",
    "recipient",
    "shop.website_url",
    "shop.help_url",
    "shop.returns_url",
    "shop.warranty_url",
    "shop.support_email",
    "shop.sender_email",
)


def register_texts() -> None:
    """What *Email texts* needs about the feedback request's text fields (the
    template's ``{% content %}`` tags, the survey's): its codes and links are
    no variables, and its wording must stay honest (:mod:`.compliance`)."""
    from ..rendering.content_registry import register_text_fields
    from .compliance import text_field_problems

    register_text_fields(
        FEEDBACK_REQUEST,
        hidden=(*TEXT_CODES, *TEXT_LINKS),
        check=text_field_problems,
        note=_(
            "These fields change the survey sent on the shop's own sales channels. The review request "
            "of marketplace channels keeps its packaged wording, which their rules bind. Wording that "
            "asks for a good rating or offers something for one is refused in every language."
        ),
    )
