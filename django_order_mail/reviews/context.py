"""Template variables: the product stars of the feedback request and the
reminder, and the staff alert of an order that has not arrived.

:func:`add_review_context` is a receiver of the core's ``collect_context``
signal (``docs/signals.rst``). ``product_reviews`` is only set where the
shop's own review links belong: never on a marketplace channel, never in
the marketplace's review request (``events.stars_allowed``), never without
an outbox row. ``docs/reviews.rst`` lists the variables.
"""

from __future__ import annotations

from urllib.parse import urlencode

from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from ..events import get_event
from ..outbox.models import OutboxEmail
from ..rendering.links import absolute
from .events import FEEDBACK_REQUEST, LINKED_EVENTS, NOT_RECEIVED_ALERT, stars_allowed
from .links import review_url, star_links
from .products import order_products


def add_review_context(sender, event, order, context, email_id=None, extra=None, **kwargs) -> None:
    if event in LINKED_EVENTS:
        context["product_reviews"] = product_review_context(order, email_id, channel=_channel_of(order))
    elif event == NOT_RECEIVED_ALERT:
        context.update(alert_context(order, extra or {}))


def product_review_context(order, email_id: int | None, *, channel: str) -> list[dict]:
    """``[{"name", "image_url", "url", "stars": [{"score", "url"}]}]``, one
    entry per product (every rating 1-5 alike); [] where stars do not belong."""
    if email_id is None or not stars_allowed(channel):
        return []
    return [
        {
            "name": product.name,
            "image_url": product.image_url,
            "url": review_url(email_id, index, product),
            "stars": star_links(email_id, index, product),
        }
        for index, product in enumerate(order_products(order))
    ]


def _channel_of(order) -> str:
    getter = getattr(order, "get_mail_channel", None)
    return (getter() if getter else "") or ""


def alert_context(order, extra: dict) -> dict:
    """The staff alert: which order, when the request went and when it is
    asked again, with links to the order and its emails in the admin."""
    request_sent_at = asked_again_at = None
    if extra.get("request"):
        sent, created = OutboxEmail.objects.filter(pk=extra["request"]).values_list(
            "sent_at", "created_at"
        ).first() or (None, None)
        request_sent_at = sent or created
    if extra.get("rescheduled"):
        asked_again_at = (
            OutboxEmail.objects.filter(pk=extra["rescheduled"]).values_list("send_after", flat=True).first()
        )
    return {
        "request_sent_at": request_sent_at,
        "asked_again_at": asked_again_at,
        "asks_again": get_event(FEEDBACK_REQUEST) is not None,
        "reported_at": _parse_time(extra.get("reported_at")),
        "admin_order_url": _admin_url(order),
        "admin_emails_url": _admin_emails_url(order),
    }


def _parse_time(value):
    parsed = parse_datetime(value) if isinstance(value, str) else None
    return parsed or timezone.now()


def _admin_url(order) -> str:
    meta = getattr(order, "_meta", None)
    if meta is None or getattr(order, "pk", None) is None:
        return ""
    try:
        return absolute(reverse(f"admin:{meta.app_label}_{meta.model_name}_change", args=[order.pk]))
    except NoReverseMatch:
        return ""


def _admin_emails_url(order) -> str:
    if getattr(order, "pk", None) is None:
        return ""
    try:
        url = reverse("admin:django_order_mail_outboxemail_changelist")
    except NoReverseMatch:
        return ""
    reference = getattr(order, "get_mail_order_number", lambda: order.pk)()
    return absolute(f"{url}?{urlencode({'q': reference})}")
