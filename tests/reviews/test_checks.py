"""The reviews app's system checks: settings (E801), Pillow (E802), no
review gating in the email block (E803), the staff address (W801), where
photos go (W802), the email the stars go in (W803)."""

from __future__ import annotations

import pytest
from django.core.checks import run_checks

from django_order_mail.reviews import checks

pytestmark = pytest.mark.django_db


def ids(**kwargs) -> list[str]:
    return sorted(
        m.id for m in run_checks(**kwargs) if m.id.startswith("django_order_mail.") and m.id[-3] == "8"
    )


def test_the_test_settings_check_clean():
    assert ids() == []


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("REVIEWS_MAX_PHOTOS", -1),
        ("REVIEWS_MAX_PHOTOS", "3"),
        ("REVIEWS_PHOTO_MAX_BYTES", 0),
        ("REVIEWS_MAX_PRODUCTS", True),
        ("REVIEWS_REMINDER_DELAY_DAYS", -7),
        ("REVIEWS_NOT_RECEIVED_DELAY_DAYS", None),
        ("REVIEWS_PER_PAGE", 0),
        ("REVIEWS_RATE_LIMIT", {"tokens": 3}),
        ("REVIEWS_ALERT_EMAIL", "staff"),
    ],
)
def test_malformed_settings(mail_settings, key, value):
    mail_settings(**{key: value})
    assert "django_order_mail.E801" in ids()


def test_no_reminder_and_no_photos_are_fine(mail_settings):
    mail_settings(REVIEWS_REMINDER_DELAY_DAYS=None, REVIEWS_MAX_PHOTOS=0)
    assert ids() == []


def test_pillow_is_needed_for_photos(monkeypatch, mail_settings):
    monkeypatch.setattr(checks, "pillow_available", lambda: False)
    assert ids() == ["django_order_mail.E802"]
    mail_settings(REVIEWS_MAX_PHOTOS=0)
    assert ids() == []


def test_a_block_that_leaves_out_low_ratings_is_review_gating(tmp_path, settings):
    folder = tmp_path / "django_order_mail" / "email"
    folder.mkdir(parents=True)
    (folder / "_product_reviews.html").write_text(
        "{% for product in product_reviews %}{% for star in product.stars %}"
        '{% if star.score >= 4 %}<a href="{{ star.url }}">★</a>{% endif %}{% endfor %}{% endfor %}'
    )
    settings.TEMPLATES = [{**settings.TEMPLATES[0], "DIRS": [str(tmp_path)]}]
    messages = [m for m in run_checks(tags=["templates"]) if m.id == "django_order_mail.E803"]
    assert len(messages) == 1 and "_product_reviews.html" in messages[0].msg


def test_no_staff_address(mail_settings):
    mail_settings(BRANDING={"name": "Shop"})
    assert "django_order_mail.W801" in ids()
    mail_settings(BRANDING={"name": "Shop"}, DISABLED_EVENTS=["review_not_received_alert"])
    assert "django_order_mail.W801" not in ids()


def test_photos_on_the_file_system_need_media_root(settings):
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    }
    settings.MEDIA_ROOT = ""
    assert "django_order_mail.W802" in ids()
    settings.MEDIA_ROOT = "/srv/media"
    assert "django_order_mail.W802" not in ids()


def test_the_stars_need_the_feedback_request(monkeypatch):
    monkeypatch.setattr(checks, "get_event", lambda name: None)
    assert "django_order_mail.W803" in ids()
