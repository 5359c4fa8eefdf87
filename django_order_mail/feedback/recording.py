"""Record a customer's answer: from a signed link to the order's one response.

Everything about *which* order is answered comes from the outbox row the
signed token names; nothing in the request body can point elsewhere, so one
order's link can never write another order's answer. So does the scale: the
token carries the scale the email asked on, and only a score of that scale
is accepted.

Every change is kept in the answer history (:class:`~.models.SurveyAnswer`).
A low answer makes the response a complaint: it stays in the follow-up queue
whatever the customer clicks later, and a case staff had resolved is opened
again by a new low answer.
"""

from __future__ import annotations

import logging

from django.db import IntegrityError, transaction
from django.utils import timezone

from ..outbox.models import OutboxEmail
from ..rendering.links import EmailLink, read_email_token, read_expired_email_token
from .alerts import sync_low_score_alert
from .events import FEEDBACK_REQUEST
from .models import SCALE_RANGE, AnswerSource, FollowUpStatus, SurveyAnswer, SurveyResponse
from .survey import configured_scale, is_low

logger = logging.getLogger("django_order_mail.feedback")

TOKEN_PURPOSE = "feedback"


def read_feedback_token(token: str) -> EmailLink:
    """The feedback email (or preview) a token names.

    Raises :class:`django.core.signing.BadSignature` (or its subclass
    ``SignatureExpired``) for a tampered or expired token.
    """
    return read_email_token(TOKEN_PURPOSE, token)


def feedback_email(link: EmailLink) -> OutboxEmail | None:
    """The feedback email of a customer's link; None if it no longer exists
    (or the token names another kind of email)."""
    if link.email_id is None:
        return None
    return OutboxEmail.objects.filter(pk=link.email_id, event=FEEDBACK_REQUEST).first()


def read_expired_feedback_token(token: str) -> EmailLink | None:
    """What a correctly signed but expired token names; None otherwise."""
    return read_expired_email_token(TOKEN_PURPOSE, token)


def link_language(link: EmailLink | None) -> str | None:
    """The language of the email a link came from (its pages answer in it);
    None when the link does not tell (a tampered token, a deleted email)."""
    if link is None:
        return None
    if link.preview_language is not None:  # link.is_preview
        return link.preview_language
    if link.email_id is None:  # not for a customer's link (it names its email)
        return None
    return OutboxEmail.objects.filter(pk=link.email_id).values_list("language", flat=True).first()


def link_scale(link: EmailLink) -> str:
    """The scale the email asked on (signed into its token); the configured
    one for links made before the token carried it."""
    scale = link.payload.get("s")
    return scale if scale in SCALE_RANGE else configured_scale()


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
    via: str = "",
    now=None,
) -> SurveyResponse | None:
    """Create or update the response of ``email``'s order.

    ``None`` arguments keep what is stored (a click changes the score and
    leaves the comment alone). A first answer needs a score. A staff test
    email records nothing and returns None. Writes the answer history and
    the low-score alert in the same transaction.
    """
    if email.is_test:
        return None
    now = now or timezone.now()
    for attempt in (1, 2):
        try:
            with transaction.atomic():
                return _record(email, score, scale, comment, answers, via, now)
        except IntegrityError:
            # Two first answers at once: the other one created the row; the
            # second attempt finds and updates it.
            if attempt == 2:
                raise
    raise AssertionError("unreachable")


def _record(email, score, scale, comment, answers, via, now) -> SurveyResponse:
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
    changed_at = response.updated_at
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
    if response.pk is not None and not response.history.exists():
        # Answered before the history was kept: its earlier state first.
        SurveyAnswer.objects.create(
            response=response, recorded_at=changed_at or response.created_at, **before
        )
    if response.is_low:
        response.complaint = True
        if response.follow_up_status == FollowUpStatus.RESOLVED:
            response.follow_up_status = FollowUpStatus.NEW  # a new complaint opens the case again
    response.save()
    SurveyAnswer.objects.create(
        response=response,
        recorded_at=now,
        via=via if via in AnswerSource.values else "",
        **_snapshot(response),
    )
    sync_low_score_alert(response, now=now)
    return response


def _snapshot(response: SurveyResponse) -> dict:
    return {
        "score": response.score,
        "scale": response.scale,
        "comment": response.comment,
        "answers": response.answers,
        "email_id": response.email_id,
        "is_low": response.is_low,
    }
