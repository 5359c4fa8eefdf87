"""The signed cart-restore link: lands on checkout with the cart in the
session; tampered, expired or unusable links get a clear 4xx page and change
nothing."""

from __future__ import annotations

import re
import time
from urllib.parse import urlsplit

import pytest
from django.core import signing
from django.test import Client
from django.utils import timezone

from django_order_mail.carts.links import SESSION_KEY, read_restore_token, restore_token, restore_url
from django_order_mail.delivery.sender import deliver
from django_order_mail.outbox.models import EmailLog, Status
from tests.cart_helpers import hours, make_cart, reminders, scan_at
from tests.testapp.models import Cart

pytestmark = pytest.mark.django_db


@pytest.fixture
def sent_reminder(broker, esp):
    now = timezone.now()
    cart = make_cart(idle_since=now - hours(13))
    scan_at(now)
    [row] = reminders(cart)
    assert deliver(row.pk) == Status.SENT
    row.refresh_from_db()
    return cart, row


def path(url: str) -> str:
    return urlsplit(url).path


def snapshot(cart) -> tuple:
    cart.refresh_from_db()
    return (cart.last_activity_at, cart.ordered_at, cart.emptied_at, cart.reminder_step, cart.items.count())


def test_restore_link_in_the_email_puts_the_cart_back_and_lands_on_checkout(sent_reminder):
    cart, row = sent_reminder
    # The link actually sent (the token carries its signing time).
    [url] = set(re.findall(r'href="(https://shop\.example/mail/cart/restore/[^"]+)"', row.body_html))
    assert url in row.body_text
    assert read_restore_token(url.rstrip("/").rsplit("/", 1)[1]) == row.pk
    client = Client()
    response = client.get(path(url))
    assert response.status_code == 302
    assert response["Location"] == "/shop/checkout/"
    assert response["Cache-Control"].startswith("max-age=0")
    assert client.session["cart_id"] == cart.pk
    assert client.session[SESSION_KEY]  # the signed attribution marker
    assert EmailLog.objects.filter(email=row, status="restore").exists()
    cart.refresh_from_db()
    assert cart.last_activity_at > row.created_at  # the customer is back


def test_token_carries_no_personal_data(sent_reminder):
    _cart, row = sent_reminder
    payload = signing.loads(restore_token(row.pk), salt="django_order_mail.links.cart_restore")
    assert payload == {"e": row.pk}


@pytest.mark.parametrize(
    "mangle",
    [
        lambda t: t[:-2] + ("AA" if not t.endswith("AA") else "BB"),  # signature changed
        lambda t: "x" + t,  # payload changed
        lambda t: t[: len(t) // 2],  # cut off
        lambda t: "garbage",
    ],
)
def test_tampered_link_gets_a_400_page_and_changes_nothing(sent_reminder, mangle):
    cart, row = sent_reminder
    before = snapshot(cart)
    client = Client()
    response = client.get(f"/mail/cart/restore/{mangle(restore_token(row.pk))}/")
    assert response.status_code == 400
    assert b"This link is not valid" in response.content
    assert snapshot(cart) == before
    assert "cart_id" not in client.session and SESSION_KEY not in client.session
    assert not EmailLog.objects.filter(email=row, status="restore").exists()


def test_expired_link_gets_a_400_page_and_changes_nothing(sent_reminder, mail_settings, monkeypatch):
    cart, row = sent_reminder
    mail_settings(ABANDONED_CART_LINK_MAX_AGE_DAYS=30)
    token = restore_token(row.pk)
    before = snapshot(cart)
    real_time = time.time
    monkeypatch.setattr(time, "time", lambda: real_time() + 31 * 86400)  # 31 days later
    response = Client().get(f"/mail/cart/restore/{token}/")
    assert response.status_code == 400
    assert b"This link has expired" in response.content
    assert snapshot(cart) == before


def test_token_of_another_purpose_is_rejected(sent_reminder):
    _cart, row = sent_reminder
    from django_order_mail.tracking.links import unsubscribe_token

    response = Client().get(f"/mail/cart/restore/{unsubscribe_token(row.pk)}/")
    assert response.status_code == 400


def test_link_to_a_non_cart_email_is_404(broker, esp, order):
    from tests.tracking_utils import queued_row

    row = queued_row(order)
    response = Client().get(path(restore_url(row.pk)))
    assert response.status_code == 404


def test_already_ordered_cart_is_410_and_not_restored(sent_reminder):
    cart, row = sent_reminder
    cart.mark_ordered(None)
    before = snapshot(cart)
    client = Client()
    response = client.get(path(restore_url(row.pk)))
    assert response.status_code == 410
    assert b"You already placed this order" in response.content
    assert snapshot(cart) == before
    assert "cart_id" not in client.session


def test_emptied_or_deleted_cart_is_410(sent_reminder):
    cart, row = sent_reminder
    cart.mark_emptied()
    assert Client().get(path(restore_url(row.pk))).status_code == 410
    Cart.objects.filter(pk=cart.pk).delete()
    response = Client().get(path(restore_url(row.pk)))
    assert response.status_code == 410
    assert b"no longer available" in response.content


def test_restore_only_answers_get(sent_reminder):
    _cart, row = sent_reminder
    assert Client().post(path(restore_url(row.pk))).status_code == 405
