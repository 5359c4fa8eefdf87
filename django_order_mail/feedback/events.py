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
