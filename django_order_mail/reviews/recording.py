"""Record a customer's review, and staff's moderation of it.

Which order and which product a review is about comes only from the
outbox row and the product the signed link names (:mod:`.links`): nothing
in the request can point at another order. One review per product per
order; a later click or post updates it, and every change is kept as a
:class:`~.models.ReviewRevision`.

A change by the customer sends the review back to moderation, whatever
its rating: what staff approved is what is shown.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.utils import timezone

from ..outbox.models import OutboxEmail
from .models import ProductReview, ReviewPhoto, ReviewRevision, ReviewStatus, RevisionSource
from .photos import ProcessedPhoto
from .products import Product


@dataclass
class ReviewChange:
    """What the customer sent; None keeps what is stored (a click changes
    the rating only)."""

    rating: int | None = None
    title: str | None = None
    body: str | None = None
    display_name: str | None = None
    add_photos: list[ProcessedPhoto] = field(default_factory=list)
    remove_photos: list[int] = field(default_factory=list)


def review_for(email: OutboxEmail, product: Product) -> ProductReview | None:
    return ProductReview.objects.filter(
        content_type_id=email.content_type_id, object_id=email.object_id, product_id=product.product_id
    ).first()


def order_reviews(content_type_id: int, object_id: str):
    return ProductReview.objects.filter(content_type_id=content_type_id, object_id=str(object_id))


def record_review(
    email: OutboxEmail, product: Product, change: ReviewChange, *, via: str, now=None
) -> ProductReview | None:
    """Create or update the review of ``product`` of ``email``'s order.

    A first review needs a rating. A staff test email records nothing and
    returns None. The photos are written to the storage first and removed
    again if the database write fails.
    """
    if email.is_test:
        return None
    now = now or timezone.now()
    for attempt in (1, 2):
        saved: list[ReviewPhoto] = []
        try:
            with transaction.atomic():
                return _record(email, product, change, via, now, saved)
        except IntegrityError:
            _discard(saved)
            # Two first reviews at once: the other one created the row; the
            # second attempt finds and updates it.
            if attempt == 2:
                raise
        except Exception:
            _discard(saved)
            raise
    raise AssertionError("unreachable")


def _discard(photos: list[ReviewPhoto]) -> None:
    for photo in photos:
        photo.image.delete(save=False)


def _record(email, product, change, via, now, saved) -> ProductReview:
    review = (
        ProductReview.objects.select_for_update()
        .filter(
            content_type_id=email.content_type_id, object_id=email.object_id, product_id=product.product_id
        )
        .first()
    )
    if review is None:
        if change.rating is None:
            raise ValueError("the first review of a product needs a rating")
        review = ProductReview(
            content_type_id=email.content_type_id,
            object_id=email.object_id,
            product_id=product.product_id,
            created_at=now,
        )
    before = _snapshot(review)
    for name in ("rating", "title", "body", "display_name"):
        value = getattr(change, name)
        if value is not None:
            setattr(review, name, value)
    removed = []
    if review.pk is not None and change.remove_photos:
        removed = list(review.photos.filter(pk__in=change.remove_photos))
    if review.pk is not None and _snapshot(review) == before and not change.add_photos and not removed:
        return review  # the same click again: nothing to write
    review.product_name = product.name[:255]
    review.email = email
    review.reference = email.reference
    review.channel = email.channel
    review.language = email.language
    review.verified_buyer = True  # it came from the link in an order email
    review.status = ReviewStatus.PENDING  # every change is moderated again, whatever the rating
    review.rejection_reason = ""
    review.changed_at = now
    review.save()
    for photo in removed:
        photo.delete()  # the file goes with it (post_delete, photos.delete_file)
    for processed in change.add_photos:
        photo = ReviewPhoto(
            review=review,
            mime_type=processed.mime_type,
            width=processed.width,
            height=processed.height,
            size=len(processed.content),
            created_at=now,
        )
        photo.image.save(f"photo.{processed.extension}", ContentFile(processed.content), save=False)
        saved.append(photo)
        photo.save()
    ReviewRevision.objects.create(
        review=review,
        recorded_at=now,
        via=via if via in RevisionSource.values else RevisionSource.FORM,
        email=email,
        photo_count=review.photos.count(),
        **_content(review),
    )
    return review


def _content(review: ProductReview) -> dict:
    return {
        "rating": review.rating,
        "title": review.title,
        "body": review.body,
        "display_name": review.display_name,
        "status": review.status,
    }


def _snapshot(review: ProductReview) -> dict:
    return {
        "rating": review.rating,
        "title": review.title,
        "body": review.body,
        "display_name": review.display_name,
    }


# -- moderation -------------------------------------------------------------------------------------------


def moderate(review: ProductReview, status: str, *, user=None, reason: str = "", now=None) -> bool:
    """Approve or reject ``review`` (with ``reason``, shown to its author);
    False if it already had that status and reason."""
    now = now or timezone.now()
    reason = reason if status == ReviewStatus.REJECTED else ""
    if review.status == status and review.rejection_reason == reason:
        return False
    with transaction.atomic():
        review.status = status
        review.rejection_reason = reason
        review.moderated_at = now
        review.moderated_by = user if getattr(user, "pk", None) else None
        review.save(
            update_fields=["status", "rejection_reason", "moderated_at", "moderated_by", "updated_at"]
        )
        _staff_revision(review, user, now, note=reason)
    return True


def set_reply(review: ProductReview, reply: str, *, user=None, now=None) -> bool:
    """Save the shop's public reply (shown under the review once it is
    approved); False if unchanged."""
    now = now or timezone.now()
    reply = (reply or "").strip()
    if reply == review.public_reply:
        return False
    with transaction.atomic():
        review.public_reply = reply
        review.replied_at = now if reply else None
        review.save(update_fields=["public_reply", "replied_at", "updated_at"])
        _staff_revision(review, user, now, note=reply)
    return True


def _staff_revision(review: ProductReview, user, now, *, note: str) -> None:
    ReviewRevision.objects.create(
        review=review,
        recorded_at=now,
        via=RevisionSource.MODERATION,
        staff_user=user if getattr(user, "pk", None) else None,
        note=note,
        photo_count=review.photos.count(),
        email=review.email,
        **_content(review),
    )
