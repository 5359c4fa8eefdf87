"""Customer photos: checked by what Pillow reads (not the file name),
re-encoded without EXIF (the GPS position of a phone photo never reaches
the storage), stored through Django's storage API under a random name."""

from __future__ import annotations

import io

import pytest
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from PIL import ExifTags, Image

from django_order_mail.reviews.models import ProductReview, ReviewPhoto

from .conftest import jpeg_with_gps, page_url, png_bytes

pytestmark = pytest.mark.django_db


def upload(name: str, data: bytes, content_type="image/jpeg") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, content_type=content_type)


def stored_files(folder="order_mail_reviews") -> set[str]:
    if not default_storage.exists(folder):
        return set()
    folders, files = default_storage.listdir(folder)
    found = {f"{folder}/{name}" for name in files}
    for sub in folders:
        found |= stored_files(f"{folder}/{sub}")
    return found


def post_review(client, row, *files, **fields):
    data = {"rating": "4", "title": "Nice", **fields}
    if files:
        data["photos"] = list(files)
    return client.post(page_url(row), data)


def test_a_phone_photo_is_stored_without_its_gps_position(client, row, django_capture_on_commit_callbacks):
    original = jpeg_with_gps()
    exif = Image.open(io.BytesIO(original)).getexif()
    assert exif.get_ifd(ExifTags.IFD.GPSInfo)  # the test photo does carry a position
    assert b"Phone Maker" in original

    response = post_review(client, row, upload("IMG_1234 Tina home.jpg", original))
    assert response.status_code == 302
    photo = ReviewPhoto.objects.get()
    stored = default_storage.open(photo.image.name).read()
    image = Image.open(io.BytesIO(stored))
    assert image.format == "JPEG" and (image.width, image.height) == (64, 48)
    assert not image.getexif() and not image.getexif().get_ifd(ExifTags.IFD.GPSInfo)
    assert b"Phone Maker" not in stored and b"Exif" not in stored
    # A random name: the customer's file name never reaches the storage.
    assert "Tina" not in photo.image.name and photo.image.name.startswith("order_mail_reviews/")
    assert (photo.mime_type, photo.size) == ("image/jpeg", len(stored))


def test_the_photo_is_turned_upright(client, row):
    post_review(client, row, upload("rotated.jpg", jpeg_with_gps(size=(64, 48), orientation=6)))
    photo = ReviewPhoto.objects.get()
    assert (photo.width, photo.height) == (48, 64)


def test_a_text_file_named_jpg_is_refused_with_a_clear_error(client, row):
    response = post_review(client, row, upload("holiday.jpg", b"Dear diary, this is not a photo.\n" * 20))
    assert response.status_code == 400
    assert "“holiday.jpg” is not a JPEG, PNG or WebP image." in response.content.decode()
    assert ProductReview.objects.count() == 0 and ReviewPhoto.objects.count() == 0


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("drawing.gif", b"GIF89a\x01\x00\x01\x00\x00\x00\x00;"),
        ("page.jpg", b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n"),
        ("cut.jpg", jpeg_with_gps()[:200]),
    ],
)
def test_other_formats_and_broken_files_are_refused(client, row, name, data):
    response = post_review(client, row, upload(name, data))
    assert response.status_code == 400
    assert "is not a JPEG, PNG or WebP image" in response.content.decode()
    assert ReviewPhoto.objects.count() == 0


def test_a_photo_over_the_size_limit_is_refused(client, row, mail_settings):
    mail_settings(REVIEWS_PHOTO_MAX_BYTES=500)
    response = post_review(client, row, upload("big.png", png_bytes((400, 400)) + b"\0" * 600, "image/png"))
    assert response.status_code == 400
    assert "is larger than 500" in response.content.decode()


def test_at_most_the_configured_number_of_photos(client, row, mail_settings):
    mail_settings(REVIEWS_MAX_PHOTOS=2)
    files = [upload(f"p{i}.png", png_bytes(), "image/png") for i in range(3)]
    response = post_review(client, row, *files)
    assert response.status_code == 400
    assert "You can add at most 2 photos." in response.content.decode()
    files = [upload(f"p{i}.png", png_bytes(), "image/png") for i in range(2)]
    assert post_review(client, row, *files).status_code == 302
    assert ReviewPhoto.objects.count() == 2
    # Two kept + one more is three: refused again.
    assert post_review(client, row, upload("p.png", png_bytes(), "image/png")).status_code == 400


def test_a_removed_photo_leaves_the_storage(client, row, django_capture_on_commit_callbacks):
    post_review(client, row, upload("a.png", png_bytes(), "image/png"))
    photo = ReviewPhoto.objects.get()
    assert default_storage.exists(photo.image.name)
    with django_capture_on_commit_callbacks(execute=True):
        response = post_review(client, row, remove_photos=[str(photo.pk)])
    assert response.status_code == 302
    assert not ReviewPhoto.objects.exists() and not default_storage.exists(photo.image.name)
    review = ProductReview.objects.get()
    assert [h.photo_count for h in review.history.all()] == [1, 0]


def test_photos_are_switched_off_with_zero(client, row, mail_settings):
    mail_settings(REVIEWS_MAX_PHOTOS=0)
    assert 'type="file"' not in client.get(page_url(row)).content.decode()
    post_review(client, row, upload("a.png", png_bytes(), "image/png"))
    assert ProductReview.objects.count() == 1 and ReviewPhoto.objects.count() == 0


def test_a_failed_save_leaves_no_file_behind(client, row, monkeypatch):
    from django_order_mail.reviews import recording

    def fail(*args, **kwargs):
        raise RuntimeError("database went away")

    monkeypatch.setattr(recording.ReviewRevision.objects, "create", fail)
    before = stored_files()
    with pytest.raises(RuntimeError), transaction.atomic():
        post_review(client, row, upload("a.png", png_bytes(), "image/png"))
    assert ReviewPhoto.objects.count() == 0
    assert stored_files() == before
