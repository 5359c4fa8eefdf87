"""The one reminder, and "Not received yet".

**The reminder** (``review_reminder``) is written when the feedback request
with product stars is sent: scheduled ``REVIEWS_REMINDER_DELAY_DAYS`` later,
with an idempotency key per order, so there is at most one, ever. Right
before it goes (a ``pre_send`` receiver) it is cancelled if the customer
left a review of any product of the order meanwhile, or if the order was
cancelled or refunded (also in part: any refund or cancellation email of
the order counts). The core itself drops it when the order's state is one
of ``mail_cancel_scheduled_states``, as for every follow-up.

**Not received yet**: the customer says on the review page that the order
has not arrived. In one transaction the feedback request is written once
more, ``REVIEWS_NOT_RECEIVED_DELAY_DAYS`` later (once per order), a
reminder still waiting moves behind it, and staff are told
(``review_not_received_alert``). Nothing is recorded as a review.

Who is told is the core's staff notifications' business
(:mod:`django_order_mail.notifications.recipients`): the recipients set in
the admin for "Order not received (staff)" win; without them,
``REVIEWS_ALERT_EMAIL`` or the support address, as before. One row per
recipient set in the admin (``<key>:to-<hash>``); the settings' single
address keeps the order's key, so alerts written before the admin existed
still count as the order's report.
"""

from __future__ import annotations

from datetime import timedelta

from django.apps import apps as django_apps
from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext

from ..events import get_event
from ..exceptions import SendVetoed
from ..lifecycle.states import order_state
from ..notifications.recipients import register_staff_default, staff_recipients
from ..notifications.rows import recipient_key
from ..outbox.enqueue import PendingMail, enqueue, idempotency_key, publish_on_commit
from ..outbox.models import OutboxEmail, Status
from ..rendering.branding import get_branding
from .app_settings import app_settings
from .events import FEEDBACK_REQUEST, NOT_RECEIVED_ALERT, REVIEW_REMINDER, stars_allowed
from .products import order_products
from .recording import order_reviews

#: The discriminator of the request written again after "Not received yet".
ASKED_AGAIN = "not-received"
#: ``extra`` marker of that request: this app wrote it.
EXTRA_MARK = "reviews"
#: Emails that say the order was (partly) refunded or cancelled.
CLOSING_EVENTS = ("refund", "cancellation")


def _reviewed(order) -> bool:
    return order_reviews(ContentType.objects.get_for_model(order).pk, order.pk).exists()


def _closed(order) -> str | None:
    """Why the order no longer wants a review reminder, or None."""
    state = order_state(order)
    if state in getattr(order, "mail_cancel_scheduled_states", ()):
        return f"order is {state}"
    if OutboxEmail.for_order(order).filter(event__in=CLOSING_EVENTS, is_test=False).exists():
        return "the order was refunded or cancelled (in part)"
    return None


def _channel(order) -> str:
    getter = getattr(order, "get_mail_channel", None)
    return (getter() if getter else "") or ""


# -- the reminder -----------------------------------------------------------------------------------------


def reminder_key(order) -> str:
    return idempotency_key(order, REVIEW_REMINDER)


def reminder_delay_days() -> int | None:
    """Days after the request before the reminder (None: no reminder).

    Staff set it beside the request's own delay, on the feedback app's
    *Feedback schedule* page; while nobody saved that page (or without the
    feedback app) ``REVIEWS_REMINDER_DELAY_DAYS`` applies. Looked up by the
    model's label, not imported: the apps do not depend on each other's code.
    """
    try:
        schedule_model = django_apps.get_model("order_mail_feedback", "FeedbackSchedule")
    except LookupError:
        return app_settings.REVIEWS_REMINDER_DELAY_DAYS
    schedule = schedule_model._default_manager.filter(pk=schedule_model.SINGLETON_PK).first()
    if schedule is None:
        return app_settings.REVIEWS_REMINDER_DELAY_DAYS
    return schedule.reminder_delay_days


def schedule_reminder(sender, email, order, **kwargs) -> None:
    """``email_sent``: a feedback request with product stars went out; the
    reminder follows :func:`reminder_delay_days` later (once per order;
    a request sent again moves a reminder that still waits)."""
    if email.event != FEEDBACK_REQUEST or email.is_test or email.resend_of_id is not None:
        return
    days = reminder_delay_days()  # a lookup: only for a feedback request just sent
    if days is None:
        return
    if not stars_allowed(email.channel) or not order_products(order) or _reviewed(order) or _closed(order):
        return
    due = timezone.now() + timedelta(days=int(days))
    with transaction.atomic():
        existing = OutboxEmail.objects.select_for_update().filter(idempotency_key=reminder_key(order)).first()
        if existing is None:
            enqueue(order, [PendingMail(REVIEW_REMINDER, send_after=due, extra={"request": email.pk})])
        elif existing.status == Status.SCHEDULED and (
            existing.send_after is None or existing.send_after < due
        ):
            _postpone(existing, due, "the feedback request was sent again")


def _postpone(row: OutboxEmail, due, why: str) -> None:
    if OutboxEmail.objects.filter(pk=row.pk, status=Status.SCHEDULED).update(
        send_after=due, updated_at=timezone.now()
    ):
        row.log(Status.SCHEDULED, f"postponed to {due:%Y-%m-%d %H:%M} UTC: {why}")


def check_before_send(sender, email, order, draft, **kwargs) -> None:
    """``pre_send``: the reminder (and a request this app wrote again) only
    while no review was left and the order was neither refunded nor cancelled."""
    asked_again = email.event == FEEDBACK_REQUEST and (email.extra or {}).get(EXTRA_MARK) == ASKED_AGAIN
    if email.is_test or (email.event != REVIEW_REMINDER and not asked_again):
        return
    if _reviewed(order):
        raise SendVetoed(
            "the customer already reviewed a product of this order",
            status=Status.CANCELLED,
            staff_message=gettext("The customer already reviewed a product of this order."),
        )
    reason = _closed(order)
    if reason:
        raise SendVetoed(
            reason, status=Status.CANCELLED, staff_message=gettext("The order was refunded or cancelled.")
        )


# -- not received yet -------------------------------------------------------------------------------------


def alert_recipient() -> str:
    """The settings' default recipient (the admin's staff notifications win)."""
    return app_settings.REVIEWS_ALERT_EMAIL or get_branding().get("support_email") or ""


def register_alert_recipients() -> None:
    """Make the settings the alert's default in the staff notifications
    (called by the app config)."""
    register_staff_default(
        NOT_RECEIVED_ALERT,
        alert_recipient,
        source="ORDER_MAIL['REVIEWS_ALERT_EMAIL'] or BRANDING['support_email']",
    )


def not_received_key(order) -> str:
    """The alert's key: with the settings' single address the row's own,
    else the base of each recipient's key (``:to-<hash>``)."""
    return idempotency_key(order, NOT_RECEIVED_ALERT, discriminator=ASKED_AGAIN)


def already_reported(order) -> bool:
    """Whether the order was reported before: an alert row to anyone, or the
    request asked again (what is written even when the alert is switched
    off in the admin, so a second click still writes nothing)."""
    again = idempotency_key(order, FEEDBACK_REQUEST, discriminator=ASKED_AGAIN)
    return (
        OutboxEmail.for_order(order).filter(Q(event=NOT_RECEIVED_ALERT) | Q(idempotency_key=again)).exists()
    )


def report_not_received(email: OutboxEmail, order, *, now=None) -> bool:
    """Ask again later and tell staff; False if this order was reported
    before (nothing is written twice). Call with the customer's link's row."""
    now = now or timezone.now()
    # The request the customer answers: the reminder's own request for a
    # link in the reminder.
    request_id = (email.extra or {}).get("request") if email.event == REVIEW_REMINDER else None
    request_id = request_id or email.pk
    with transaction.atomic():
        if already_reported(order):
            return False
        again = None
        if get_event(FEEDBACK_REQUEST) is not None:
            due = now + timedelta(days=int(app_settings.REVIEWS_NOT_RECEIVED_DELAY_DAYS))
            created = enqueue(
                order,
                [
                    PendingMail(
                        FEEDBACK_REQUEST,
                        send_after=due,
                        discriminator=ASKED_AGAIN,
                        extra={EXTRA_MARK: ASKED_AGAIN, "request": request_id},
                    )
                ],
            )
            # Not on a channel that does not send the request (a skipped row).
            again = created[0] if created and created[0].status == Status.SCHEDULED else None
            # A reminder still waiting follows the new request, not the old one.
            days = reminder_delay_days()
            reminder = OutboxEmail.objects.filter(idempotency_key=reminder_key(order)).first()
            if reminder is not None and reminder.status == Status.SCHEDULED and days is not None:
                _postpone(reminder, due + timedelta(days=int(days)), "the order has not arrived yet")
        _alert(email, order, request_id, again, now)
    return True


def _alert(email: OutboxEmail, order, request_id: int, again: OutboxEmail | None, now) -> list[OutboxEmail]:
    """The alert rows: one per recipient, skipped with the reason if nobody
    is left to tell, none if staff switched the alert off in the admin."""
    target = staff_recipients(NOT_RECEIVED_ALERT, order)
    if not target.active:
        return []  # switched off in the admin: nobody is to be told
    reason = ""
    if NOT_RECEIVED_ALERT in app_settings.DISABLED_EVENTS:
        reason = "event disabled in ORDER_MAIL['DISABLED_EVENTS']"
    if not reason and not target.addresses:
        reason = target.missing
    extra = {
        "request": request_id,
        "rescheduled": again.pk if again is not None else None,
        "reported_at": now.isoformat(),
    }
    base = not_received_key(order)
    if reason:
        return [_alert_row(email, base, "", extra, now, reason)]
    per_address = target.from_admin or len(target.addresses) > 1
    return [
        _alert_row(email, recipient_key(base, address) if per_address else base, address, extra, now)
        for address in target.addresses
    ]


def _alert_row(
    email: OutboxEmail, key: str, recipient: str, extra: dict, now, reason: str = ""
) -> OutboxEmail:
    status = Status.SKIPPED if reason else Status.QUEUED
    row, created = OutboxEmail.objects.get_or_create(
        idempotency_key=key,
        defaults={
            "event": NOT_RECEIVED_ALERT,
            "status": status,
            "content_type_id": email.content_type_id,
            "object_id": email.object_id,
            "reference": email.reference,
            "channel": email.channel,
            # Staff read it: the shop's language, not the customer's.
            "language": settings.LANGUAGE_CODE,
            "recipient": recipient[:254],
            "extra": extra,
            "enqueued_at": now if status == Status.QUEUED else None,
            "created_at": now,
            "last_error": reason,
        },
    )
    if created and status == Status.QUEUED:
        publish_on_commit([row.pk])
    return row
