"""A product's published reviews: summary, list, JSON and schema.org markup.

Only approved reviews are shown, every rating alike, newest first: the
average and the distribution count every approved review, and nothing is
filtered or ordered by rating. Customer text is data here; the template
tag's template escapes it, the JSON-LD is escaped for a ``<script>``
element (:func:`json_for_script`), and the JSON view's body escapes
``<``, ``>`` and ``&`` too, so no consumer can be tricked into markup.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from django.core.paginator import Paginator
from django.core.serializers.json import DjangoJSONEncoder
from django.db.models import Count
from django.utils import timezone
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext

from .app_settings import app_settings
from .links import STARS
from .models import ProductReview, ReviewStatus

#: As Django's ``json_script``: no ``</script>``, no markup, no entity.
_ESCAPES = {ord(">"): "\\u003E", ord("<"): "\\u003C", ord("&"): "\\u0026"}


@dataclass
class ReviewSummary:
    product_id: str
    name: str
    count: int = 0
    average: Decimal | None = None
    #: ``[{"stars", "count", "percent"}]``, 5 stars first.
    distribution: list[dict] = field(default_factory=list)


def published(product_id: str):
    return (
        ProductReview.objects.filter(product_id=str(product_id), status=ReviewStatus.APPROVED)
        .prefetch_related("photos")
        .order_by("-created_at", "-id")
    )


def summarize(product_id: str, name: str = "") -> ReviewSummary:
    counts = dict(
        ProductReview.objects.filter(product_id=str(product_id), status=ReviewStatus.APPROVED)
        .values_list("rating")
        .annotate(n=Count("id"))
    )
    total = sum(counts.values())
    summary = ReviewSummary(product_id=str(product_id), name=name, count=total)
    if total:
        average = Decimal(sum(r * n for r, n in counts.items())) / total
        summary.average = average.quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)
    summary.distribution = [
        {
            "stars": s,
            "count": counts.get(s, 0),
            "percent": round(100 * counts.get(s, 0) / total) if total else 0,
        }
        for s in reversed(STARS)
    ]
    if not summary.name:
        summary.name = (
            published(product_id).values_list("product_name", flat=True).first() or summary.product_id
        )
    return summary


def page_of(product_id: str, number=1):
    paginator = Paginator(published(product_id), max(1, int(app_settings.REVIEWS_PER_PAGE)))
    return paginator.get_page(number)


def author(review: ProductReview) -> str:
    return review.display_name or gettext("Customer")


def review_data(review: ProductReview) -> dict:
    return {
        "id": review.pk,
        "rating": review.rating,
        "title": review.title,
        "body": review.body,
        "author": author(review),
        "verified_buyer": review.verified_buyer,
        "date": published_on(review),
        "photos": [photo.image.url for photo in review.photos.all()],
        "reply": review.public_reply,
    }


def json_ld(summary: ReviewSummary, reviews) -> dict | None:
    """schema.org ``Product`` with its ``AggregateRating`` and ``Review``s;
    None without an approved review (an empty rating must not be marked up)."""
    if not summary.count:
        return None
    return {
        "@context": "https://schema.org",
        "@type": "Product",
        "name": summary.name,
        "sku": summary.product_id,
        "aggregateRating": {
            "@type": "AggregateRating",
            "ratingValue": str(summary.average),
            "reviewCount": summary.count,
            "bestRating": 5,
            "worstRating": 1,
        },
        "review": [_review_ld(review) for review in reviews],
    }


def _review_ld(review: ProductReview) -> dict:
    data = {
        "@type": "Review",
        "author": {"@type": "Person", "name": author(review)},
        "datePublished": published_on(review),
        "reviewRating": {"@type": "Rating", "ratingValue": review.rating, "bestRating": 5, "worstRating": 1},
    }
    if review.title:
        data["name"] = review.title
    if review.body:
        data["reviewBody"] = review.body
    return data


def published_on(review: ProductReview) -> str:
    """The review's date as the page shows it (the shop's time zone)."""
    return timezone.localtime(review.created_at).date().isoformat()


def escaped_json(data) -> str:
    """JSON with ``<``, ``>`` and ``&`` as ``\\u003C``... (as Django's
    ``json_script``): safe inside a ``<script>`` element and in HTML."""
    return json.dumps(data, cls=DjangoJSONEncoder, ensure_ascii=False).translate(_ESCAPES)


def json_for_script(data) -> SafeString:
    return mark_safe(escaped_json(data))  # every <, > and & is escaped


def product_payload(product_id: str, number=1, name: str = "") -> dict:
    """What the JSON view answers for one page of a product's reviews."""
    summary = summarize(product_id, name)
    page = page_of(product_id, number)
    reviews = list(page.object_list)
    return {
        "product_id": summary.product_id,
        "name": summary.name,
        "count": summary.count,
        "average": str(summary.average) if summary.average is not None else None,
        "distribution": {str(d["stars"]): d["count"] for d in summary.distribution},
        "page": page.number,
        "pages": page.paginator.num_pages,
        "reviews": [review_data(r) for r in reviews],
        "json_ld": json_ld(summary, reviews),
    }
