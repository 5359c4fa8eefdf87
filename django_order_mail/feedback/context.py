"""Template variables of the feedback request and of the staff's low-score alert.

:func:`add_feedback_context` adds them to those two events' context (a
receiver of the core's ``collect_context`` signal, ``docs/signals.rst``);
``docs/feedback.rst`` lists the variables.
"""

from __future__ import annotations

from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext_lazy as _

from ..rendering.links import absolute, feedback_url
from .events import FEEDBACK_REQUEST, LOW_SCORE_ALERT
from .models import Scale, SurveyResponse
from .survey import REVIEW, channel_feedback, configured_scale, question_labels, review_links, score_range

DEFAULT_BASE = "django_order_mail/email/base.email"
#: Layout of marketplace review requests: no links to the shop's website,
#: no logo link, no email address (Amazon's buyer-seller messaging rules).
MARKETPLACE_BASE = "django_order_mail/feedback/email/marketplace_base.email"

NPS_END_LABELS = {0: _("Not at all likely"), 10: _("Extremely likely")}


def add_feedback_context(sender, event, order, context, email_id=None, extra=None, **kwargs) -> None:
    if event in (FEEDBACK_REQUEST, LOW_SCORE_ALERT):
        context.update(
            feedback_context(
                order,
                event,
                email_id=email_id,
                extra=extra,
                items=context.get("items") or [],
                order_number=context.get("order_number") or "",
            )
        )


def feedback_context(order, event: str, *, email_id=None, extra=None, items=None, order_number="") -> dict:
    if event == FEEDBACK_REQUEST:
        return request_context(order, email_id=email_id, items=items or [], order_number=order_number)
    if event == LOW_SCORE_ALERT:
        return alert_context(extra or {})
    return {}


def rating_links(email_id: int, scale: str) -> list[dict]:
    return [
        {"score": s, "url": feedback_url(email_id, s, scale), "label": NPS_END_LABELS.get(s, "")}
        if scale == Scale.NPS
        else {"score": s, "url": feedback_url(email_id, s, scale)}
        for s in score_range(scale)
    ]


def request_context(order, *, email_id, items: list[dict], order_number: str) -> dict:
    channel = channel_feedback(_channel_of(order))
    scale = configured_scale()
    context = {
        "feedback_scale": scale,
        "feedback_url": "",
        "feedback_ratings": [],
        "review_request": channel.mode == REVIEW,
        "marketplace": channel.marketplace,
        "marketplace_name": channel.marketplace_name,
        "review_links": review_links(order, items, channel, order_number),
        "feedback_base": MARKETPLACE_BASE if channel.marketplace else DEFAULT_BASE,
    }
    # A review request links to review pages only: on a marketplace, links
    # to the shop's own site are not allowed in buyer messages.
    if email_id is not None and channel.mode != REVIEW:
        context["feedback_url"] = feedback_url(email_id, scale=scale)
        context["feedback_ratings"] = rating_links(email_id, scale)
    return context


def _channel_of(order) -> str:
    getter = getattr(order, "get_mail_channel", None)
    return (getter() if getter else "") or ""


def answers_display(answers: dict) -> list[dict]:
    """Answers as question and answer labels, in the configured question
    order; answers to questions no longer configured are shown by their id."""
    labels = question_labels()
    answers = answers or {}
    ids = [q for q in labels if q in answers] + [q for q in answers if q not in labels]
    shown = []
    for qid in ids:
        label, choices = labels.get(qid, (qid, {}))
        shown.append({"question": label, "answer": choices.get(str(answers[qid]), answers[qid])})
    return shown


def admin_change_url(response_pk: int) -> str:
    try:
        return absolute(reverse("admin:order_mail_feedback_followup_change", args=[response_pk]))
    except NoReverseMatch:  # the admin is not installed or not mounted
        return ""


def alert_context(extra: dict) -> dict:
    """The response as it is *now*: a comment added after the click is in.

    ``low_answer`` is the latest low answer of its history (the complaint
    the alert is about), even if the customer raised the score since.
    """
    response_pk = extra.get("response")
    response = SurveyResponse.objects.filter(pk=response_pk).first() if response_pk is not None else None
    if response is None:
        return {"response": None, "low_answer": None, "answers": [], "admin_url": ""}
    low = response.history.filter(is_low=True).order_by("-recorded_at", "-id").first() or response
    return {
        "low_answer": {"score": low.score, "scale": low.scale, "scale_max": low.scale_max},
        # Plain data, not the model instance: staff may edit this template,
        # and an edited template must not reach other rows through it.
        "response": {
            "score": response.score,
            "scale": response.scale,
            "scale_max": response.scale_max,
            "comment": response.comment,
            "channel": response.channel,
            "reference": response.reference,
            "created_at": response.created_at,
        },
        "answers": answers_display(response.answers),
        "admin_url": admin_change_url(response.pk),
    }
