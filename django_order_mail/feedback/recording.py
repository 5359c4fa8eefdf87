"""Record a customer's answer: from a signed link to the order's one response.

Everything about *which* order is answered comes from the outbox row the
signed token names; nothing in the request body can point elsewhere, so one
order's link can never write another order's answer.
"""

from __future__ import annotations

import logging

from django.db import IntegrityError, transaction
from django.utils import timezone

from ..events import MailEvent
from ..outbox.models import OutboxEmail
from ..rendering.links import read_token
from .alerts import sync_low_score_alert
from .models import SurveyResponse
from .survey import is_low

logger = logging.getLogger("django_order_mail.feedback")

TOKEN_PURPOSE = "feedback"


def email_for_token(token: str) -> OutboxEmail | None:
    """The feedback email a token was made for; None if it no longer exists.

    Raises :class:`django.core.signing.BadSignature` (or its subclass
    ``SignatureExpired``) for a tampered or expired token.
    """
    payload = read_token(TOKEN_PURPOSE, token)
    pk = payload.get("e") if isinstance(payload, dict) else None
    if not isinstance(pk, int):
        return None
    return OutboxEmail.objects.filter(pk=pk, event=MailEvent.FEEDBACK_REQUEST).first()


def response_for(email: OutboxEmail) -> SurveyResponse | None:
    return SurveyResponse.objects.filter(
        content_type_id=email.content_type_id, object_id=email.object_id
    ).first()


def record_answer(
    email: OutboxEmail,
    *,
    score: int | None = None,
    scale: str | None = None,
    comment: str | None = None,
    answers: dict | None = None,
    now=None,
) -> SurveyResponse | None:
    """Create or update the response of ``email``'s order.

    ``None`` arguments keep what is stored (a click changes the score and
    leaves the comment alone). A first answer needs a score. A staff test
    email records nothing and returns None. Writes the low-score alert in the
    same transaction.
    """
    if email.is_test:
        return None
    now = now or timezone.now()
    for attempt in (1, 2):
        try:
            with transaction.atomic():
                return _record(email, score, scale, comment, answers, now)
        except IntegrityError:
            # Two first answers at once: the other one created the row; the
            # second attempt finds and updates it.
            if attempt == 2:
                raise
    raise AssertionError("unreachable")


def _record(email, score, scale, comment, answers, now) -> SurveyResponse:
    response = (
        SurveyResponse.objects.select_for_update()
        .filter(content_type_id=email.content_type_id, object_id=email.object_id)
        .first()
    )
    if response is None:
        if score is None:
            raise ValueError("the first answer of an order needs a score")
        response = SurveyResponse(
            content_type_id=email.content_type_id, object_id=email.object_id, created_at=now
        )
    before = _snapshot(response)
    if score is not None:
        response.score = score
        response.scale = scale or response.scale
    if comment is not None:
        response.comment = comment
    if answers is not None:
        response.answers = answers
    response.email = email
    response.reference = email.reference
    response.channel = email.channel
    response.language = email.language
    response.is_low = is_low(response.score, response.scale)
    if response.pk is not None and _snapshot(response) == before:
        return response  # the same click again: nothing to write
    response.save()
    sync_low_score_alert(response, now=now)
    return response


def _snapshot(response: SurveyResponse) -> tuple:
    return (
        response.score,
        response.scale,
        response.comment,
        response.answers,
        response.email_id,
        response.is_low,
    )
