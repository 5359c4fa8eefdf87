"""The review page behind the email's star links, and the product JSON.

* ``review`` (``reviews/<token>/``): GET shows the product's review page;
  with the star link's ``?stars=N`` (1-5) it records the rating at once -
  one click in the email is a complete review - and says so. A second
  click with the same rating writes nothing; a browser prefetch and a HEAD
  request record nothing. POST (CSRF-protected, multipart) saves rating,
  title, text, shown name and photos, then redirects to the page.
* ``not_received`` (POST ``reviews/<token>/not-received/``): the order has
  not arrived: the request is asked again later and staff are told.
* ``product_json`` (GET ``reviews/product/<id>/``): a product's approved
  reviews, average, distribution and JSON-LD.

Every customer page rate-limits per link and per IP; a tampered, expired
or unknown token gets the friendly link-problem page and changes nothing;
a link from a staff preview or test email gets the "test email" page. The
pages are in the language of the email the link came from.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.decorators import login_not_required  # Django >= 5.1
from django.core import signing
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils import translation
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import cache_control, never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from .. import ratelimit
from ..outbox.models import OutboxEmail
from ..rendering.branding import get_branding
from ..rendering.i18n import resolve_language
from ..rendering.links import EmailLink
from ..views import link_problem, preview_link, render_in
from .app_settings import app_settings
from .display import escaped_json, product_payload
from .events import LINKED_EVENTS, stars_allowed
from .forms import ReviewForm
from .links import link_product, parse_stars, read_expired_review_link, read_review_link
from .models import RevisionSource
from .products import Product, find_product
from .recording import ReviewChange, record_review, review_for
from .reminders import already_reported, report_not_received


class _Problem(Exception):  # noqa: N818 - carries the page to answer with
    def __init__(self, response):
        self.response = response


def _language(link) -> str | None:
    if link is None:
        return None
    if link.is_preview:
        return link.preview_language
    return OutboxEmail.objects.filter(pk=link.email_id).values_list("language", flat=True).first()


def _load(request, token) -> tuple[OutboxEmail, object, Product]:
    """The email, order and product a usable link names; raises
    :class:`_Problem` with the page to answer otherwise."""
    expired = False
    link: EmailLink | None
    try:
        link = read_review_link(token)
    except signing.SignatureExpired:
        link, expired = read_expired_review_link(token), True
    except signing.BadSignature:
        link = None
    language = _language(link)
    if not ratelimit.allow(
        request, link.rate_key if link else None, scope="reviews", conf=app_settings.REVIEWS_RATE_LIMIT
    ):
        raise _Problem(_slow_down(request, language))
    if link is None or expired:
        raise _Problem(link_problem(request, expired=expired, language=language))
    if link.is_preview or link.email_id is None:
        raise _Problem(preview_link(request, link.preview_language))
    email = OutboxEmail.objects.filter(pk=link.email_id, event__in=LINKED_EVENTS).first()
    if email is not None and email.is_test:
        raise _Problem(preview_link(request, email.language))
    order = email.order if email is not None else None
    named = link_product(link)
    product = find_product(order, *named) if order is not None and named else None
    if email is None or order is None or product is None or not stars_allowed(email.channel):
        raise _Problem(link_problem(request, expired=False, status=404, language=language))
    return email, order, product


def _slow_down(request, language):
    context = {
        "title": _("Too many requests"),
        "message": _("This link was opened very often in a short time. Please try again in a while."),
        "shop": get_branding(),
    }
    return render_in(request, language, "django_order_mail/pages/link_problem.html", context, status=429)


def _is_prefetch(request) -> bool:
    """Browsers' speculative prefetches must not count as a click."""
    purpose = (request.headers.get("Sec-Purpose") or request.headers.get("Purpose") or "").lower()
    return "prefetch" in purpose or request.headers.get("X-Moz", "").lower() == "prefetch"


def _page(request, token, email, order, product, review, form, *, clicked=None, status=200):
    context = {
        "shop": get_branding(),
        "token": token,
        "product": product,
        "order_number": email.reference,
        "review": review,
        "photos": list(review.photos.all()) if review is not None else [],
        "form": form,
        "clicked": clicked,
        "saved": request.GET.get("saved") == "1",
        "reported": already_reported(order),
    }
    response = render(request, "django_order_mail/reviews/review.html", context, status=status)
    response["Content-Language"] = translation.get_language()
    # The token must not leak to linked sites; same-origin keeps the CSRF check working.
    response["Referrer-Policy"] = "same-origin"
    response["X-Robots-Tag"] = "noindex"
    return response


def _initial(review, clicked) -> dict:
    if review is None:
        return {"rating": clicked} if clicked else {}
    return {
        "rating": clicked or review.rating,
        "title": review.title,
        "body": review.body,
        "display_name": review.display_name,
    }


@login_not_required
@require_http_methods(["GET", "POST"])
@never_cache
@csrf_protect
def review(request, token):
    try:
        email, order, product = _load(request, token)
    except _Problem as problem:
        return problem.response
    with translation.override(resolve_language(email.language, default=settings.LANGUAGE_CODE)):
        current = review_for(email, product)
        photos = list(current.photos.all()) if current is not None else []
        if request.method == "POST":
            form = ReviewForm(request.POST, request.FILES, existing_photos=photos)
            if not form.is_valid():
                # Shown again with what they typed: bad input saves nothing.
                return _page(request, token, email, order, product, current, form, status=400)
            data = form.cleaned_data
            change = ReviewChange(
                rating=data["rating"],
                title=data["title"],
                body=data["body"],
                display_name=data["display_name"],
                add_photos=form.processed,
                remove_photos=list(data.get("remove_photos") or []),
            )
            record_review(email, product, change, via=RevisionSource.FORM)
            return redirect(f"{request.path}?saved=1")
        clicked = parse_stars(request.GET.get("stars"))
        if clicked is not None and not _is_prefetch(request):
            current = record_review(email, product, ReviewChange(rating=clicked), via=RevisionSource.CLICK)
            photos = list(current.photos.all()) if current is not None else []
        form = ReviewForm(initial=_initial(current, clicked), existing_photos=photos)
        return _page(request, token, email, order, product, current, form, clicked=clicked)


@login_not_required
@require_POST
@never_cache
@csrf_protect
def not_received(request, token):
    try:
        email, order, _product = _load(request, token)
    except _Problem as problem:
        return problem.response
    first = report_not_received(email, order)
    context = {
        "title": _("Thank you for telling us"),
        "message": _(
            "We are sorry your order has not arrived yet. Our team will look into it, "
            "and we will ask about the products again later."
        )
        if first
        else _("We already know that your order has not arrived yet, and our team is looking into it."),
        "shop": get_branding(),
    }
    return render_in(request, email.language, "django_order_mail/pages/link_problem.html", context)


@login_not_required
@require_GET
@cache_control(public=True, max_age=300)
def product_json(request, product_id):
    """Public: approved reviews only, nothing about the orders or customers."""
    payload = product_payload(product_id, request.GET.get("page") or 1)
    return HttpResponse(escaped_json(payload), content_type="application/json")
