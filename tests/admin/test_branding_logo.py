"""The branding logo must be an image email programs show: PNG, JPEG or GIF
by content, never SVG (Gmail shows none), as an upload or an address."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import translation

from django_order_mail.checks import check_settings
from django_order_mail.events import MailEvent
from django_order_mail.rendering import branding as branding_module
from django_order_mail.rendering.branding import get_branding
from django_order_mail.rendering.context import build_context
from django_order_mail.rendering.logo import image_kind
from django_order_mail.rendering.models import Branding
from django_order_mail.rendering.render import render_event
from tests.admin.test_branding import ADD, form_data

pytestmark = pytest.mark.django_db

PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89"
)
SVG = b'<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"></svg>'


@pytest.fixture(autouse=True)
def fresh_branding_cache(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    branding_module.invalidate_branding_cache()
    yield
    branding_module.invalidate_branding_cache()


def post(client, **changes):
    return client.post(reverse(ADD), form_data(**changes))


def test_a_png_logo_is_accepted_and_shown_in_the_emails(admin_client, order):
    response = post(admin_client, logo=SimpleUploadedFile("logo.png", PNG, content_type="image/png"))
    assert response.status_code == 302
    url = Branding.objects.get().logo.url
    rendered = render_event(MailEvent.ORDER_CONFIRMATION, build_context(order, MailEvent.ORDER_CONFIRMATION))
    assert url in rendered.html


@pytest.mark.parametrize(
    ("name", "content"),
    [("logo.svg", SVG), ("logo.png", SVG), ("logo.png", b"\xef\xbb\xbf  <svg><rect/></svg>")],
)
def test_an_svg_logo_is_refused_with_what_to_do_instead_whatever_its_name(admin_client, name, content):
    response = post(admin_client, logo=SimpleUploadedFile(name, content, content_type="image/png"))
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors["logo"]
    assert any("do not show SVG" in e and "Upload it as a PNG" in e for e in errors)
    assert not Branding.objects.exists()


def test_a_file_that_is_no_image_is_refused(admin_client):
    response = post(admin_client, logo=SimpleUploadedFile("logo.png", b"MZ\x90\x00 not an image"))
    assert response.status_code == 200
    assert "not a PNG, JPEG or GIF" in " ".join(response.context["adminform"].form.errors["logo"])


def test_the_message_is_in_the_staff_members_language(admin_client):
    response = post(admin_client, logo=SimpleUploadedFile("logo.svg", SVG))
    with translation.override("de"):
        text = " ".join(response.context["adminform"].form.errors["logo"])
    assert "SVG" in text and "PNG" in text and "do not show" not in text


@pytest.mark.parametrize(
    "url",
    [
        "https://cdn.example/logo.svg",
        "https://cdn.example/LOGO.SVG?v=2",
        "data:image/svg+xml;base64,PHN2Zz4=",
    ],
)
def test_an_svg_logo_address_is_refused(admin_client, url):
    response = post(admin_client, logo_url=url)
    assert response.status_code == 200
    assert "logo_url" in response.context["adminform"].form.errors


def test_a_png_logo_address_is_kept(admin_client):
    assert post(admin_client, logo_url="https://cdn.example/logo.png").status_code == 302
    assert get_branding()["logo_url"] == "https://cdn.example/logo.png"


def test_an_svg_logo_from_the_settings_is_not_put_in_emails_and_the_check_warns(mail_settings, order):
    mail_settings(BRANDING={"name": "Nordlys", "logo_url": "https://cdn.example/logo.svg"})
    assert [m.id for m in check_settings() if m.id == "django_order_mail.W030"] == ["django_order_mail.W030"]
    rendered = render_event(MailEvent.ORDER_CONFIRMATION, build_context(order, MailEvent.ORDER_CONFIRMATION))
    assert "logo.svg" not in rendered.html and "Nordlys" in rendered.html
    mail_settings(BRANDING={"name": "Nordlys", "logo_url": "https://cdn.example/logo.png"})
    assert not [m for m in check_settings() if m.id == "django_order_mail.W030"]


def test_image_kinds_by_their_first_bytes():
    assert image_kind(PNG) == "png"
    assert image_kind(b"\xff\xd8\xff\xe0\x00\x10JFIF") == "jpeg"
    assert image_kind(b"GIF89a\x01\x00") == "gif"
    assert image_kind(SVG) == "svg"
    assert image_kind(b"<!DOCTYPE html><html>") == ""
