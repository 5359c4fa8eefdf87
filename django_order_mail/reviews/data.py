"""The reviews app's personal data (``docs/data-protection.rst``): a
customer's reviews, their revisions and photos, found through the email the
review came from. Ratings stay (the product's average and distribution);
the texts, the shown name and the photos go."""

from __future__ import annotations

from datetime import datetime

from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from ..data import ERASED, register_personal_data
from .models import ProductReview, ReviewPhoto, ReviewRevision, ReviewStatus


def _reviews(address: str):
    return ProductReview.objects.filter(email__recipient__iexact=address)


def export_reviews(address: str) -> list[dict]:
    return [
        {
            "order_number": review.reference,
            "product": review.product_name or review.product_id,
            "rating": review.rating,
            "title": review.title,
            "review": review.body,
            "shown_name": review.display_name,
            "status": review.status,
            "written_at": review.created_at,
            "photos": len(review.photos.all()),
            "history": [
                {"at": rev.recorded_at, "rating": rev.rating, "title": rev.title, "review": rev.body}
                for rev in review.history.all()
            ],
        }
        for review in _reviews(address).prefetch_related("photos", "history").order_by("created_at", "id")
    ]


def erase_reviews(address: str, keyed_hash: str) -> int:
    ids = list(_reviews(address).values_list("pk", flat=True))
    # Each photo's file is removed once the erasure commits (post_delete).
    for photo in ReviewPhoto.objects.filter(review__in=ids):
        photo.delete()
    ReviewRevision.objects.filter(Q(review__in=ids) | Q(email__recipient__iexact=address)).update(
        title=ERASED, body=ERASED, display_name=ERASED
    )
    return ProductReview.objects.filter(pk__in=ids).update(title=ERASED, body=ERASED, display_name=ERASED)


def expire_rejected(cutoff: datetime, run) -> int:
    """Rejected reviews and every revision's text, older than the period:
    published reviews stay as the shop shows them."""
    rejected = ProductReview.objects.filter(status=ReviewStatus.REJECTED, updated_at__lt=cutoff)
    photos = run.delete(ReviewPhoto.objects.filter(review__in=rejected.values("pk")))
    reviews = run.update(
        rejected.exclude(body="", title="", display_name=""), title="", body="", display_name=""
    )
    revisions = run.update(
        ReviewRevision.objects.filter(recorded_at__lt=cutoff).exclude(body="", title="", display_name=""),
        title="",
        body="",
        display_name="",
    )
    return photos + reviews + revisions


def register() -> None:
    register_personal_data(
        "reviews",
        verbose_name=_("product reviews"),
        export=export_reviews,
        erase=erase_reviews,
        retention=expire_rejected,
        retention_days=730,
    )
