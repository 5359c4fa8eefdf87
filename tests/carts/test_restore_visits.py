"""What repeated GETs of the cart-restore link may change (carts/visits.py):
rate limits keyed by the signed payload, one recorded visit per cart per
window, and pages in the language of the email, not of the browser."""

from __future__ import annotations

import time
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from django.test import Client
from django.utils import timezone, translation
from django.utils.translation import gettext

from django_order_mail.carts.checks import cart_checks
from django_order_mail.carts.links import SESSION_KEY, restore_token, restore_url
from django_order_mail.carts.visits import VISIT_WINDOW
from django_order_mail.delivery.sender import deliver
from django_order_mail.outbox.models import EmailLog, Status
from tests.cart_helpers import hours, make_cart, reminders, scan_at

pytestmark = pytest.mark.django_db


def send_reminder(**cart_fields):
    now = timezone.now()
    cart = make_cart(idle_since=now - hours(13), **cart_fields)
    scan_at(now)
    [row] = reminders(cart)
    assert deliver(row.pk) == Status.SENT
    row.refresh_from_db()
    return cart, row


@pytest.fixture
def sent_reminder(broker, esp):
    return send_reminder()


def path(url: str) -> str:
    return urlsplit(url).path


def visits_logged(row) -> int:
    return EmailLog.objects.filter(email=row, status="restore").count()


def tokens_signed_at(row, monkeypatch, seconds) -> list[str]:
    """The same link signed at different times: different strings, one payload."""
    real_time = time.time
    tokens = []
    for offset in seconds:
        monkeypatch.setattr(time, "time", lambda offset=offset: real_time() + offset)
        tokens.append(restore_token(row.pk))
    monkeypatch.setattr(time, "time", real_time)
    return tokens


def freeze_clock(monkeypatch, at):
    """timezone.now() (the visit window) and time.time() (the rate-limit
    window) both stand still at ``at``."""
    monkeypatch.setattr(timezone, "now", lambda: at)
    monkeypatch.setattr(time, "time", lambda: at.timestamp())


# -- one recorded visit per cart per window ------------------------------------------------------


def test_repeated_visits_restore_every_time_but_record_one_visit_per_window(sent_reminder, monkeypatch):
    cart, row = sent_reminder
    start = timezone.now() + timedelta(minutes=1)
    url = path(restore_url(row.pk))

    def visit_at(when):
        freeze_clock(monkeypatch, when)
        client = Client()
        response = client.get(url)
        assert response.status_code == 302
        assert client.session["cart_id"] == cart.pk and client.session[SESSION_KEY]  # restored every time
        cart.refresh_from_db()
        return cart.last_activity_at

    for _ in range(5):
        assert visit_at(start) == start
    assert visit_at(start + VISIT_WINDOW - timedelta(seconds=1)) == start  # the clock was not pushed back
    assert visits_logged(row) == 1
    later = start + VISIT_WINDOW + timedelta(seconds=1)
    assert visit_at(later) == later
    assert visits_logged(row) == 2


def test_default_restore_hook_no_longer_touches_the_cart(sent_reminder, rf):
    cart, _row = sent_reminder
    before = cart.last_activity_at
    request = rf.get("/")
    request.session = {}
    cart.restore_for_request(request)
    cart.refresh_from_db()
    assert request.session["cart_id"] == cart.pk
    assert cart.last_activity_at == before  # the view records the visit, once per window


# -- rate limits ------------------------------------------------------------------------------------


def test_rate_limit_per_link_counts_the_signed_payload_not_the_token_string(
    broker, esp, mail_settings, monkeypatch
):
    mail_settings(ABANDONED_CART_RATE_LIMIT={"token": 3, "ip": None, "window": 3600})
    _cart, row = send_reminder()
    _other_cart, other_row = send_reminder()
    tokens = tokens_signed_at(row, monkeypatch, [0, 1, 2, 3])
    assert len(set(tokens)) == 4
    freeze_clock(monkeypatch, timezone.now())
    for token in tokens[:3]:
        assert Client().get(f"/mail/cart/restore/{token}/").status_code == 302
    client = Client()
    limited = client.get(f"/mail/cart/restore/{tokens[3]}/")
    assert limited.status_code == 429
    assert "Too many requests" in limited.content.decode()
    assert "cart_id" not in client.session and SESSION_KEY not in client.session
    assert visits_logged(row) == 1
    # Another reminder's link has its own allowance.
    assert Client().get(path(restore_url(other_row.pk))).status_code == 302


def test_rate_limit_per_ip_counts_bad_tokens_too(sent_reminder, mail_settings, monkeypatch):
    _cart, row = sent_reminder
    mail_settings(ABANDONED_CART_RATE_LIMIT={"token": 100, "ip": 2, "window": 3600})
    freeze_clock(monkeypatch, timezone.now())
    client = Client()
    assert client.get("/mail/cart/restore/garbage/").status_code == 400
    assert client.get("/mail/cart/restore/more-garbage/").status_code == 400
    assert client.get(path(restore_url(row.pk))).status_code == 429
    assert visits_logged(row) == 0
    assert Client(REMOTE_ADDR="203.0.113.9").get(path(restore_url(row.pk))).status_code == 302


def test_bad_rate_limit_setting_is_a_system_check_error(mail_settings):
    mail_settings(ABANDONED_CART_RATE_LIMIT={"tokens": 3})
    assert "ORDER_MAIL['ABANDONED_CART_RATE_LIMIT']" in " ".join(e.msg for e in cart_checks())


# -- the language of the email, not of the browser ------------------------------------------------------


def german(text: str) -> str:
    with translation.override("de"):
        translated = gettext(text)
    assert translated != text
    return translated


def test_unavailable_page_is_in_the_emails_language(broker, esp):
    cart, row = send_reminder(language="de")
    assert row.language == "de"
    cart.mark_emptied()
    response = Client().get(path(restore_url(row.pk)), HTTP_ACCEPT_LANGUAGE="fr")
    assert response.status_code == 410
    assert german("This cart is empty now") in response.content.decode()
    assert response["Content-Language"] == "de"
    assert '<html lang="de"' in response.content.decode()


def test_expired_link_page_is_in_the_emails_language(broker, esp, monkeypatch):
    _cart, row = send_reminder(language="de")
    token = restore_token(row.pk)
    real_time = time.time
    monkeypatch.setattr(time, "time", lambda: real_time() + 31 * 86400)
    response = Client().get(f"/mail/cart/restore/{token}/", HTTP_ACCEPT_LANGUAGE="fr")
    assert response.status_code == 400
    assert german("This link has expired") in response.content.decode()
    assert response["Content-Language"] == "de"


def test_slow_down_page_is_in_the_emails_language(broker, esp, mail_settings, monkeypatch):
    mail_settings(ABANDONED_CART_RATE_LIMIT={"token": 1, "ip": None, "window": 3600})
    _cart, row = send_reminder(language="de")
    freeze_clock(monkeypatch, timezone.now())
    assert Client().get(path(restore_url(row.pk))).status_code == 302
    response = Client().get(path(restore_url(row.pk)), HTTP_ACCEPT_LANGUAGE="fr")
    assert response.status_code == 429
    assert german("Too many requests") in response.content.decode()


def test_tampered_link_page_is_in_the_sites_language_not_the_browsers(sent_reminder):
    _cart, row = sent_reminder
    token = restore_token(row.pk)
    response = Client().get(f"/mail/cart/restore/x{token}/", HTTP_ACCEPT_LANGUAGE="de")
    assert response.status_code == 400
    assert "This link is not valid" in response.content.decode()  # LANGUAGE_CODE "en"
    assert response["Content-Language"] == "en"
