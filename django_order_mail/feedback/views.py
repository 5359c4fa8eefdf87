"""The public survey pages behind the feedback email's signed links.

* ``survey`` (GET ``feedback/<token>/``): with ``?score=N`` (1-5) or
  ``?nps=N`` (0-10) it records the score at once - one click in the email is
  a complete answer - then shows the thanks and the optional form. Without a
  score it is the plain form for customers who cannot click the rating links.
* ``answer`` (POST ``feedback/<token>/answer/``): the form; CSRF-protected.
* ``thanks`` (GET ``feedback/<token>/thanks/``): review links and products.

Every view rate-limits per link and per IP, and a tampered, expired or
unknown token gets the friendly link-problem page and records nothing.
"""

from __future__ import annotations

import logging

from django.core import signing
from django.shortcuts import redirect, render
from django.utils import translation
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.http import require_GET, require_POST

from ..rendering.branding import get_branding
from ..rendering.render import resolve_language
from ..views import link_problem
from . import ratelimit
from .forms import SurveyForm
from .models import SCALE_RANGE, Scale
from .recording import email_for_token, record_answer, response_for
from .survey import channel_feedback, configured_scale, parse_score, review_links

logger = logging.getLogger("django_order_mail.feedback")

MAX_PRODUCTS = 4


def _load(request, token):
    """(email, None) for a usable link, else (None, the response to return)."""
    if not ratelimit.allow(token, ratelimit.client_ip(request)):
        return None, render(
            request, "django_order_mail/feedback/slow_down.html", {"shop": get_branding()}, status=429
        )
    try:
        email = email_for_token(token)
    except signing.SignatureExpired:
        return None, link_problem(request, expired=True)
    except signing.BadSignature:
        return None, link_problem(request, expired=False)
    if email is None:
        return None, link_problem(request, expired=False, status=404)
    return email, None


def _is_prefetch(request) -> bool:
    """Browsers' speculative prefetches must not count as a click."""
    purpose = (request.headers.get("Sec-Purpose") or request.headers.get("Purpose") or "").lower()
    return "prefetch" in purpose or request.headers.get("X-Moz", "").lower() == "prefetch"


def _clicked(request) -> tuple[str, int | None]:
    for param, scale in (("score", Scale.CSAT), ("nps", Scale.NPS)):
        if param in request.GET:
            return scale, parse_score(request.GET.get(param), scale)
    return configured_scale(), None


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
    with translation.override(resolve_language(email.language)):
        context = {
            "shop": get_branding(),
            "token": token,
            "order_number": email.reference,
            "preview": email.is_test,
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
    email, problem = _load(request, token)
    if problem is not None:
        return problem
    response = response_for(email)
    scale, score = _clicked(request)
    if score is not None and not _is_prefetch(request):
        response = record_answer(email, score=score, scale=scale) or response
    if response is not None and score is None:
        scale = response.scale
    initial = {"comment": response.comment if response else ""}
    if score is not None or response is not None:
        initial["score"] = score if score is not None else response.score
    if response is not None:
        initial.update({f"q_{k}": v for k, v in response.answers.items()})
    form = SurveyForm(scale=scale, require_score=response is None, initial=initial)
    return _survey_page(request, token, email, response, form, score=score)


@require_POST
@never_cache
@csrf_protect
def answer(request, token):
    email, problem = _load(request, token)
    if problem is not None:
        return problem
    response = response_for(email)
    scale = response.scale if response is not None else configured_scale()
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
    )
    return redirect("django_order_mail:feedback_thanks", token=token)


@require_GET
@never_cache
def thanks(request, token):
    email, problem = _load(request, token)
    if problem is not None:
        return problem
    return _page(
        request,
        "django_order_mail/feedback/thanks.html",
        token,
        email,
        {"response": response_for(email)},
    )
