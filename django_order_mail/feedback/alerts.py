"""Tell staff about a low score: one alert email per response, through the outbox.

The alert is an ordinary outbox row (event ``low_score_alert``) written in
the transaction that records the score, so it exists exactly when the score
does and is delivered, retried and logged like every customer email. Its
idempotency key names the response, so however often the customer clicks,
one response alerts at most once.

The row waits ``FEEDBACK_ALERT_DELAY`` seconds (as a ``scheduled`` row the
sweep releases), so that a comment typed right after the click is in the
alert, which is rendered when sent. If the customer raises the score before
then - a mis-click corrected - the alert is cancelled; if they lower it
again, the same row is scheduled again. A complaint in words is never
cancelled that way: once a comment stood beside a low score, raising the
score later leaves the alert as it is.

Who gets it is the core's staff notifications' business
(:mod:`django_order_mail.notifications.recipients`): the recipients set in
the admin for "Low score alert" win; without them, ``FEEDBACK_ALERT_EMAIL``
or the support address, as before. One row per recipient set in the admin
(``<key>:to-<hash>``); the settings' single address keeps the key above, so
rows written before the admin existed are still the response's alert.
"""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.utils import timezone

from ..notifications.recipients import register_staff_default, staff_recipients
from ..notifications.rows import recipient_key
from ..outbox.enqueue import publish_on_commit
from ..outbox.models import OutboxEmail, Status
from ..rendering.branding import get_branding
from .app_settings import app_settings
from .events import LOW_SCORE_ALERT
from .models import SurveyResponse

ALERT = LOW_SCORE_ALERT
#: ``last_error`` of an alert cancelled because the score went up; only such
#: a row is scheduled again when the score drops once more.
SCORE_RAISED = "the customer raised the score before the alert was sent"


def alert_key(response: SurveyResponse) -> str:
    """Same shape as :func:`..outbox.enqueue.idempotency_key`, discriminated
    by the response: ``app.model:pk:low_score_alert:-:response-<id>``."""
    ct = ContentType.objects.get_for_id(response.content_type_id)
    return f"{ct.app_label}.{ct.model}:{response.object_id}:{ALERT}:-:response-{response.pk}"


def alert_recipient() -> str:
    """The settings' default recipient (the admin's staff notifications win)."""
    return app_settings.FEEDBACK_ALERT_EMAIL or get_branding().get("support_email") or ""


def register_alert_recipients() -> None:
    """Make the settings the alert's default in the staff notifications
    (called by the app config)."""
    register_staff_default(
        ALERT, alert_recipient, source="ORDER_MAIL['FEEDBACK_ALERT_EMAIL'] or BRANDING['support_email']"
    )


def alert_rows(response: SurveyResponse) -> list[OutboxEmail]:
    """The alert rows of ``response``, locked: the one of the settings'
    address (:func:`alert_key`) and those of the admin's recipients
    (``alert_key:to-...``), found through the order's index."""
    key = alert_key(response)
    rows = OutboxEmail.objects.select_for_update().filter(
        content_type_id=response.content_type_id, object_id=response.object_id, event=ALERT
    )
    return [
        row
        for row in rows.order_by("pk")
        if row.idempotency_key == key or row.idempotency_key.startswith(key + ":to-")
    ]


def _due(now):
    delay = int(app_settings.FEEDBACK_ALERT_DELAY or 0)
    if delay > 0:
        return Status.SCHEDULED, now + timedelta(seconds=delay)
    return Status.QUEUED, None


def sync_low_score_alert(response: SurveyResponse, *, now=None) -> list[OutboxEmail]:
    """Create, cancel or re-schedule the alert rows of ``response`` to match
    its score. Call inside the transaction that saved the response."""
    if not app_settings.ENABLED:
        return []
    now = now or timezone.now()
    rows = alert_rows(response)
    if not response.is_low:
        if rows and not complained_in_words(response):
            for row in rows:
                if _cancel(row, now):
                    row.log(Status.CANCELLED, SCORE_RAISED)
        return rows
    if not rows:
        return _create(response, alert_key(response), now)
    for row in rows:
        if row.status == Status.CANCELLED and row.last_error == SCORE_RAISED:
            _reschedule(row, now)
    return rows


def _reschedule(row: OutboxEmail, now) -> None:
    status, send_after = _due(now)
    if OutboxEmail.objects.filter(pk=row.pk, status=Status.CANCELLED).update(
        status=status,
        send_after=send_after,
        enqueued_at=now if status == Status.QUEUED else None,
        last_error="",
        updated_at=now,
    ):
        row.log(status, "the customer lowered the score again")
        if status == Status.QUEUED:
            publish_on_commit([row.pk])


def complained_in_words(response: SurveyResponse) -> bool:
    """Whether a comment was ever recorded together with a low score."""
    return response.history.filter(is_low=True).exclude(comment="").exists()


def _cancel(row: OutboxEmail, now) -> bool:
    """Cancel a not-yet-due alert; False if it is already on its way or final."""
    return bool(
        OutboxEmail.objects.filter(pk=row.pk, status=Status.SCHEDULED).update(
            status=Status.CANCELLED, last_error=SCORE_RAISED, updated_at=now
        )
    )


def _create(response: SurveyResponse, key: str, now) -> list[OutboxEmail]:
    target = staff_recipients(ALERT)
    if not target.active:
        return []  # switched off in the admin: nobody is to be told
    reason = ""
    if ALERT in app_settings.DISABLED_EVENTS:
        reason = "event disabled in ORDER_MAIL['DISABLED_EVENTS']"
    if not reason and not target.addresses:
        reason = target.missing
    if reason:
        return [_create_row(response, key, "", (Status.SKIPPED, None), now, reason)]
    per_address = target.from_admin or len(target.addresses) > 1
    return [
        _create_row(response, recipient_key(key, address) if per_address else key, address, _due(now), now)
        for address in target.addresses
    ]


def _create_row(
    response: SurveyResponse, key: str, recipient: str, due, now, reason: str = ""
) -> OutboxEmail:
    status, send_after = due
    row, created = OutboxEmail.objects.get_or_create(
        idempotency_key=key,
        defaults={
            "event": ALERT,
            "status": status,
            "content_type_id": response.content_type_id,
            "object_id": response.object_id,
            "reference": response.reference,
            "channel": response.channel,
            # Staff read it: the shop's language, not the customer's.
            "language": settings.LANGUAGE_CODE,
            "recipient": recipient[:254],
            "extra": {"response": response.pk},
            "send_after": send_after,
            "enqueued_at": now if status == Status.QUEUED else None,
            "created_at": now,
            "last_error": reason,
        },
    )
    if created and status == Status.QUEUED:
        publish_on_commit([row.pk])
    return row
