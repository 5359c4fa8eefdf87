"""A customer's reviews in the data requests (docs/data-protection.rst):
exported with the rest of their data, erased with it; the rating stays."""

from __future__ import annotations

import pytest
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile

from django_order_mail.data.requests import erase_address, export_address
from django_order_mail.reviews.models import ProductReview, ReviewPhoto, ReviewRevision
from django_order_mail.reviews.photos import process_photo
from django_order_mail.reviews.products import Product
from django_order_mail.reviews.recording import ReviewChange, record_review

from .conftest import jpeg_with_gps

pytestmark = pytest.mark.django_db


@pytest.fixture
def written(row, django_capture_on_commit_callbacks):
    photo = process_photo(SimpleUploadedFile("socks.jpg", jpeg_with_gps(), content_type="image/jpeg"))
    change = ReviewChange(
        rating=2,
        title="Tina's socks",
        body="Write to tina@example.com about the holes",
        display_name="Tina H.",
        add_photos=[photo],
    )
    with django_capture_on_commit_callbacks(execute=True):
        review = record_review(row, Product("SOCK-1", "Wool socks"), change, via="form")
    return review


def test_the_export_holds_the_customers_reviews_only(written):
    exported = export_address("Tina@Example.com")
    [review] = exported["reviews"]
    assert (review["rating"], review["title"], review["photos"]) == (2, "Tina's socks", 1)
    assert review["history"]
    assert export_address("someone.else@example.com").get("reviews") in (None, [])


def test_erasure_removes_the_texts_and_photos_and_keeps_the_rating(
    written, django_capture_on_commit_callbacks
):
    [photo] = ReviewPhoto.objects.all()
    name = photo.image.name
    assert default_storage.exists(name)
    with django_capture_on_commit_callbacks(execute=True):
        counts = erase_address("tina@example.com")
    assert counts["reviews"] == 1
    review = ProductReview.objects.get()
    assert review.rating == 2
    assert "tina" not in f"{review.title} {review.body} {review.display_name}".lower()
    assert not ReviewPhoto.objects.exists() and not default_storage.exists(name)
    for revision in ReviewRevision.objects.all():
        assert "tina" not in f"{revision.title} {revision.body} {revision.display_name}".lower()
