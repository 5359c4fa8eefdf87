"""The public survey pages behind the feedback email's signed links.

* ``survey`` (GET ``feedback/<token>/``): with the rating link's score
  (``?score=N`` 1-5 on the CSAT scale, ``?nps=N`` 0-10 on the NPS scale) it
  records the score at once - one click in the email is a complete answer -
  then shows the thanks and the optional form. Without a score it is the
  plain form for customers who cannot click the rating links.
* ``answer`` (POST ``feedback/<token>/answer/``): the form; CSRF-protected.
* ``thanks`` (GET ``feedback/<token>/thanks/``): review links and products.

Every view rate-limits per link and per IP, and a tampered, expired or
unknown token gets the friendly link-problem page and records nothing. Only
a score of the scale the email asked on (signed into the token) counts: a
``?nps=`` added to a CSAT link is ignored. A link from a staff preview or
test email records nothing and gets the "test email" page.

The pages, their form, labels and errors are in the language of the email
the link came from (the outbox row's), never the browser's.
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.core import signing
from django.shortcuts import redirect, render
from django.utils import translation
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.http import require_GET, require_POST

from .. import ratelimit
from ..rendering.branding import get_branding
from ..rendering.i18n import resolve_language
from ..views import link_problem, preview_link, render_in
from .app_settings import app_settings
from .forms import SurveyForm
from .models import SCALE_RANGE, AnswerSource, Scale
from .recording import (
    feedback_email,
    link_language,
    link_scale,
    read_expired_feedback_token,
    read_feedback_token,
    record_answer,
    response_for,
)
from .survey import channel_feedback, parse_score, review_links

logger = logging.getLogger("django_order_mail.feedback")

MAX_PRODUCTS = 4
#: The query parameter of each scale's rating links.
SCORE_PARAM: dict[str, str] = {Scale.CSAT: "score", Scale.NPS: "nps"}


def _load(request, token):
    """``(email, scale, None)`` for a usable link, else ``(None, None, the
    response to return)``. Every answer is in the language of the email the
    link came from, as far as the token tells."""
    expired = False
    try:
        link = read_feedback_token(token)
    except signing.SignatureExpired:
        link, expired = read_expired_feedback_token(token), True
    except signing.BadSignature:
        link = None
    # Per link: the email the signed payload names (a tampered token counts
    # against the client's IP only).
    limited = not ratelimit.allow(
        request,
        link.rate_key if link else None,
        scope="feedback",
        conf=app_settings.FEEDBACK_RATE_LIMIT,
    )
    if limited:
        page = render_in(
            request,
            link_language(link),
            "django_order_mail/feedback/slow_down.html",
            {"shop": get_branding()},
            status=429,
        )
        return None, None, page
    if link is None or expired:
        return None, None, link_problem(request, expired=expired, language=link_language(link))
    if link.is_preview:
        return None, None, preview_link(request, link.preview_language)
    email = feedback_email(link)
    if email is None:
        return None, None, link_problem(request, expired=False, status=404, language=link_language(link))
    if email.is_test:
        return None, None, preview_link(request, email.language)
    return email, link_scale(link), None


def email_language(email) -> str:
    return resolve_language(email.language, default=settings.LANGUAGE_CODE)


def _is_prefetch(request) -> bool:
    """Browsers' speculative prefetches must not count as a click."""
    purpose = (request.headers.get("Sec-Purpose") or request.headers.get("Purpose") or "").lower()
    return "prefetch" in purpose or request.headers.get("X-Moz", "").lower() == "prefetch"


def _clicked(request, scale: str) -> int | None:
    """The score of ``scale`` the rating link carries; a parameter of any
    other scale does not count."""
    return parse_score(request.GET.get(SCORE_PARAM.get(scale, "score")), scale)


def _order_extras(email) -> dict:
    """Review links (shown to every customer alike, whatever their score:
    asking only the happy ones would be review gating) and products. A
    broken shop hook costs the page its extras, never the customer's answer."""
    try:
        return _extras(email)
    except Exception:
        logger.exception("Survey page extras failed for email %s", email.pk)
        return {"review_links": [], "products": []}


def _extras(email) -> dict:
    order = email.order
    if order is None:
        return {"review_links": [], "products": []}
    items = list(getattr(order, "get_mail_line_items", list)() or [])
    channel = channel_feedback(email.channel)
    products = list(getattr(order, "get_mail_recommended_products", list)() or [])[:MAX_PRODUCTS]
    return {
        "review_links": review_links(order, items, channel, email.reference),
        "products": [p for p in products if str(p.get("url", "")).startswith(("https://", "http://"))],
    }


def _page(request, template, token, email, context, status=200):
    """Call inside ``translation.override(email_language(email))``."""
    context = {
        "shop": get_branding(),
        "token": token,
        "order_number": email.reference,
        **_order_extras(email),
        **context,
    }
    response = render(request, template, context, status=status)
    response["Content-Language"] = translation.get_language()
    # The token must not leak to linked sites; same-origin (not no-referrer,
    # which makes browsers send "Origin: null" and fail the CSRF check).
    response["Referrer-Policy"] = "same-origin"
    return response


def _survey_page(request, token, email, response, form, *, score=None, status=200):
    scale = form.scale
    return _page(
        request,
        "django_order_mail/feedback/survey.html",
        token,
        email,
        {
            "form": form,
            "response": response,
            "score": score,
            "scale_max": SCALE_RANGE[scale][1],
            "is_nps": scale == Scale.NPS,
        },
        status=status,
    )


@require_GET
@never_cache
@csrf_protect
def survey(request, token):
    email, scale, problem = _load(request, token)
    if problem is not None:
        return problem
    with translation.override(email_language(email)):
        response = response_for(email)
        score = _clicked(request, scale)
        if score is not None and not _is_prefetch(request):
            response = record_answer(email, score=score, scale=scale, via=AnswerSource.CLICK) or response
        initial = {"comment": response.comment if response else ""}
        if score is not None:
            initial["score"] = score
        elif response is not None and response.scale == scale:
            initial["score"] = response.score
        if response is not None:
            initial.update({f"q_{k}": v for k, v in response.answers.items()})
        form = SurveyForm(scale=scale, require_score=response is None, initial=initial)
        return _survey_page(request, token, email, response, form, score=score)


@require_POST
@never_cache
@csrf_protect
def answer(request, token):
    email, scale, problem = _load(request, token)
    if problem is not None:
        return problem
    with translation.override(email_language(email)):
        response = response_for(email)
        form = SurveyForm(request.POST, scale=scale, require_score=response is None)
        if not form.is_valid():
            # Shown again with what they typed: bad input loses nothing.
            return _survey_page(request, token, email, response, form, status=400)
        record_answer(
            email,
            score=form.cleaned_data["score"],
            scale=scale,
            comment=form.cleaned_data["comment"],
            answers=form.answers(),
            via=AnswerSource.FORM,
        )
    return redirect("django_order_mail:feedback_thanks", token=token)


@require_GET
@never_cache
def thanks(request, token):
    email, _scale, problem = _load(request, token)
    if problem is not None:
        return problem
    with translation.override(email_language(email)):
        return _page(
            request,
            "django_order_mail/feedback/thanks.html",
            token,
            email,
            {"response": response_for(email)},
        )
