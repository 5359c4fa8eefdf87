"""The feedback app's personal data (``docs/data-protection.rst``): survey
responses and their answer history, found through the feedback email's
address. Scores stay for the CSAT/NPS report; comments and answers go."""

from __future__ import annotations

from datetime import datetime

from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from ..data import ERASED, register_personal_data, register_retention_need
from .app_settings import app_settings
from .models import SurveyAnswer, SurveyResponse


def _responses(address: str):
    return SurveyResponse.objects.filter(email__recipient__iexact=address)


def export_responses(address: str) -> list[dict]:
    return [
        {
            "order_number": r.reference,
            "scale": r.scale,
            "score": r.score,
            "comment": r.comment,
            "answers": r.answers,
            "answered_at": r.created_at,
            "history": [
                {"at": a.recorded_at, "score": a.score, "comment": a.comment, "answers": a.answers}
                for a in r.history.all()
            ],
        }
        for r in _responses(address).prefetch_related("history").order_by("created_at", "id")
    ]


def _texts(prefix: str = "") -> Q:
    return ~Q(**{f"{prefix}comment": "", f"{prefix}answers": {}})


def erase_responses(address: str, keyed_hash: str) -> int:
    ids = list(_responses(address).values_list("pk", flat=True))
    SurveyAnswer.objects.filter(Q(response__in=ids) | Q(email__recipient__iexact=address)).update(
        comment=ERASED, answers={}
    )
    return SurveyResponse.objects.filter(pk__in=ids).update(comment=ERASED, answers={}, staff_notes=ERASED)


def expire_texts(cutoff: datetime, run) -> int:
    """Strip the comments and answers of older responses; scores stay."""
    old = SurveyResponse.objects.filter(created_at__lt=cutoff)
    n = run.update(old.filter(_texts()), comment="", answers={}, staff_notes="")
    answers = SurveyAnswer.objects.filter(recorded_at__lt=cutoff).filter(_texts())
    return n + run.update(answers, comment="", answers={})


def register() -> None:
    register_personal_data(
        "survey_responses",
        verbose_name=_("survey responses"),
        export=export_responses,
        erase=erase_responses,
        retention=expire_texts,
        retention_days=730,
    )
    # Retention counts from when an email was written: a feedback request is
    # written FEEDBACK_DELAY_DAYS before it is sent, its link works
    # LINK_MAX_AGE_DAYS after that (check W006).
    register_retention_need(
        "send_log",
        days=lambda: app_settings.FEEDBACK_DELAY_DAYS + app_settings.LINK_MAX_AGE_DAYS,
        needed_by="the life of a feedback request's survey link, FEEDBACK_DELAY_DAYS + LINK_MAX_AGE_DAYS",
        effect="the request would be deleted while its survey link still works (the link would show an "
        "error page)",
    )
