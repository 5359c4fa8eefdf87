"""Sending a reminder: what it shows, and every stop condition re-checked
right before the send (order, empty cart, opt-out, unsubscribe, frequency cap)."""

from __future__ import annotations

import re
from datetime import timedelta
from html.parser import HTMLParser

import pytest
from django.utils import timezone

from django_order_mail.delivery.frequency import frequency_cap
from django_order_mail.delivery.sender import deliver
from django_order_mail.events import MailEvent
from django_order_mail.outbox.models import EmailLog, OutboxEmail, Status
from django_order_mail.tracking.links import read_unsubscribe_token
from django_order_mail.tracking.suppression import suppress
from tests.cart_helpers import hours, make_cart, reminders, scan_at
from tests.testapp.models import CartItem
from tests.tracking_utils import queued_row

pytestmark = pytest.mark.django_db


@pytest.fixture
def due_cart(broker, esp):
    """A cart idle for 13 h whose step-1 reminder is queued."""
    now = timezone.now()
    cart = make_cart(idle_since=now - hours(13))
    scan_at(now)
    [row] = reminders(cart)
    return cart, row


def send(row) -> tuple[str, OutboxEmail]:
    result = deliver(row.pk)
    row.refresh_from_db()
    return result, row


# -- the email ------------------------------------------------------------------------------------


def test_reminder_shows_the_items_one_call_to_action_and_the_unsubscribe(due_cart, esp):
    cart, row = due_cart
    result, row = send(row)
    assert result == Status.SENT
    message = esp.sent[0]
    assert message.to == [cart.email]
    assert "cart" in row.subject.lower()
    # Readable without clicking: names, quantities, prices, images, total.
    for text in ("Fjord knit sweater", "Merino socks", "€129.00", "€19.90", "€168.80"):
        assert text in row.body_html, text
        assert text in row.body_text, text
    assert 'src="https://shop.example/img/SWTR.png"' in row.body_html
    assert "Only 3 left in stock" in row.body_html  # stock_left 3 <= threshold 5
    assert "only 3 left" in row.body_text
    # One call to action: the signed restore link, once as a button.
    assert row.body_html.count('class="button"') == 1
    assert "/mail/cart/restore/" in row.body_html and "/mail/cart/restore/" in row.body_text
    # Commercial mail: one-click unsubscribe header and a footer link, each
    # signed for this row (tokens carry their signing second, so compare ids).
    header = message.extra_headers["List-Unsubscribe"]
    assert header.startswith("<https://shop.example/mail/unsubscribe/") and header.endswith("/>")
    assert message.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    pattern = r"https://shop\.example/mail/unsubscribe/([^/\s\"]+)/"
    tokens = {
        *re.findall(pattern, header),
        *re.findall(pattern, row.body_html),
        *re.findall(pattern, row.body_text),
    }
    assert len(re.findall(pattern, row.body_html)) == 1 and len(re.findall(pattern, row.body_text)) == 1
    assert {read_unsubscribe_token(t) for t in tokens} == {row.pk}
    assert message.tags[0] == "abandoned_cart"


def test_user_text_is_escaped_in_the_html(broker, esp):
    now = timezone.now()
    cart = make_cart(
        idle_since=now - hours(13),
        customer_name="<b>Eve</b>",
        items=[("X", "<script>alert(1)</script>", "5.00", 1, None)],
    )
    scan_at(now)
    _result, row = send(reminders(cart)[0])
    tags = []

    class Tags(HTMLParser):
        def handle_starttag(self, tag, attrs):
            tags.append(tag)

    Tags().feed(row.body_html)
    # Text, never markup (inside a quoted alt="" a "<" is harmless and the
    # CSS inliner's serialiser leaves it unescaped there).
    assert "script" not in tags and "b" not in tags
    assert "&lt;script&gt;alert(1)&lt;/script&gt;</a>" in row.body_html
    assert "&lt;b&gt;Eve&lt;/b&gt;" in row.body_html


def test_no_low_stock_line_without_real_stock_figures(broker, esp, mail_settings):
    mail_settings(ABANDONED_CART_LOW_STOCK_THRESHOLD=None)
    now = timezone.now()
    cart = make_cart(idle_since=now - hours(13))
    scan_at(now)
    _result, row = send(reminders(cart)[0])
    assert "left in stock" not in row.body_html


def test_reminder_is_rendered_in_the_customers_language(broker, esp, settings):
    settings.LANGUAGES = [("en", "English"), ("nb", "Norsk")]
    now = timezone.now()
    cart = make_cart(idle_since=now - hours(13), language="nb")
    scan_at(now)
    row = reminders(cart)[0]
    assert row.language == "nb"
    assert send(row)[0] == Status.SENT


# -- stop conditions, re-checked at send time ---------------------------------------------------


def test_ordered_after_the_reminder_was_written_cancels_it(due_cart, esp):
    cart, row = due_cart
    cart.mark_ordered(None)
    result, row = send(row)
    assert result == Status.CANCELLED
    assert "ordered" in row.last_error
    assert esp.sent == []
    assert EmailLog.objects.filter(email=row, status=Status.CANCELLED).exists()


def test_an_order_from_another_cart_of_the_customer_cancels_it(due_cart, esp):
    cart, row = due_cart
    other = make_cart(email=cart.email, idle_since=timezone.now())
    other.mark_ordered(None)
    result, row = send(row)
    assert result == Status.CANCELLED
    assert "placed an order since" in row.last_error


def test_shop_hook_reporting_an_order_cancels_it(due_cart, esp, monkeypatch):
    cart, row = due_cart
    monkeypatch.setattr(type(cart), "has_order_since", lambda self, since: True)
    assert send(row)[0] == Status.CANCELLED


def test_emptied_cart_cancels_the_reminder(due_cart, esp):
    cart, row = due_cart
    CartItem.objects.filter(cart=cart).delete()  # emptied without mark_emptied()
    result, row = send(row)
    assert (result, row.last_error) == (Status.CANCELLED, "the cart is empty")


def test_mark_emptied_cancels_the_reminder(due_cart, esp):
    cart, row = due_cart
    cart.mark_emptied()
    assert send(row)[0] == Status.CANCELLED


def test_reminders_turned_off_cancel_it(due_cart, esp):
    cart, row = due_cart
    cart.stop_reminders()
    result, row = send(row)
    assert result == Status.CANCELLED
    assert "turned off" in row.last_error


def test_customer_back_on_the_cart_cancels_the_stale_reminder(due_cart, esp):
    cart, row = due_cart
    cart.touch(now=row.created_at + timedelta(seconds=5))
    result, row = send(row)
    assert result == Status.CANCELLED
    assert "came back" in row.last_error


def test_unsubscribed_address_is_suppressed_not_sent(due_cart, esp):
    cart, row = due_cart
    suppress(cart.email.upper(), "unsubscribe", source="test")
    result, row = send(row)
    assert result == Status.SUPPRESSED
    assert "unsubscribe" in row.last_error
    assert esp.sent == []


def test_a_deleted_cart_fails_with_a_reason(due_cart, esp):
    cart, row = due_cart
    cart.delete()
    result, row = send(row)
    assert result == Status.FAILED
    assert row.last_error


# -- the per-address frequency cap for commercial mail ---------------------------------------------


def test_frequency_cap_skips_a_second_commercial_email_within_24h(due_cart, esp, order):
    cart, row = due_cart
    order.email = cart.email
    order.save()
    feedback = queued_row(order, "feedback_request")
    assert deliver(feedback.pk) == Status.SENT
    result, row = send(row)
    assert result == Status.SKIPPED
    assert row.last_error.startswith("frequency cap: 1 commercial email(s)")
    assert EmailLog.objects.filter(email=row, status=Status.SKIPPED).exists()
    # Transactional mail is never capped.
    assert deliver(queued_row(order, MailEvent.ORDER_CONFIRMATION).pk) == Status.SENT


def test_frequency_cap_window_passes(due_cart, esp, order):
    cart, row = due_cart
    order.email = cart.email
    order.save()
    feedback = queued_row(order, "feedback_request")
    assert deliver(feedback.pk) == Status.SENT
    OutboxEmail.objects.filter(pk=feedback.pk).update(sent_at=timezone.now() - hours(24.1))
    assert send(row)[0] == Status.SENT


def test_frequency_cap_postpones_a_deferred_event_until_the_window_passes(due_cart, esp, order, broker):
    cart, row = due_cart
    assert send(row)[0] == Status.SENT
    order.email = cart.email
    order.save()
    feedback = queued_row(order, "feedback_request")
    result, feedback = send(feedback)
    assert result == Status.SCHEDULED
    assert "postponed" in feedback.last_error
    row.refresh_from_db()
    assert abs(feedback.send_after - (row.sent_at + hours(24))) < timedelta(seconds=1)
    assert feedback.attempts == 0  # waiting is not a failed attempt


def test_frequency_cap_can_allow_more_or_be_switched_off(due_cart, esp, order, mail_settings):
    cart, row = due_cart
    order.email = cart.email
    order.save()
    assert deliver(queued_row(order, "feedback_request").pk) == Status.SENT
    mail_settings(COMMERCIAL_FREQUENCY_CAP={"max": 2, "hours": 24})
    assert send(row)[0] == Status.SENT
    mail_settings(COMMERCIAL_FREQUENCY_CAP=None)
    assert deliver(queued_row(order, "feedback_request", discriminator="again").pk) == Status.SENT


def test_two_commercial_rows_claimed_at_once_send_exactly_one(due_cart, esp, order):
    """Both rows are ``sending``: the lower id goes, the other is capped."""
    cart, row = due_cart
    order.email = cart.email
    order.save()
    feedback = queued_row(order, "feedback_request")
    now = timezone.now()
    OutboxEmail.objects.filter(pk__in=[row.pk, feedback.pk]).update(status=Status.SENDING, claimed_at=now)
    row.refresh_from_db()
    feedback.refresh_from_db()
    first, second = sorted([row, feedback], key=lambda r: r.pk)
    assert frequency_cap(first, first.recipient, now) is None
    verdict = frequency_cap(second, second.recipient, now)
    assert verdict is not None and verdict.status in (Status.SKIPPED, Status.SCHEDULED)


def test_staff_resend_is_not_capped(due_cart, esp, order):
    _cart, row = due_cart
    assert send(row)[0] == Status.SENT
    from django_order_mail.outbox.actions import resend

    copy = resend(row)
    assert deliver(copy.pk) == Status.SENT


def test_one_click_unsubscribe_from_a_reminder_stops_the_next_step(broker, esp, mail_settings):
    from urllib.parse import urlsplit

    from django.test import Client

    mail_settings(ABANDONED_CART_STEPS=[1, 24], COMMERCIAL_FREQUENCY_CAP=None)
    now = timezone.now()
    cart = make_cart(idle_since=now - hours(30))
    scan_at(now - hours(25))
    first = reminders(cart)[0]
    assert deliver(first.pk) == Status.SENT
    header = esp.sent[0].extra_headers["List-Unsubscribe"][1:-1]
    response = Client(enforce_csrf_checks=True).post(urlsplit(header).path, {"List-Unsubscribe": "One-Click"})
    assert response.status_code == 200
    scan_at(now)
    second = reminders(cart)[1]
    assert second.extra["step"] == 2
    result, second = send(second)
    assert result == Status.SUPPRESSED
    assert len(esp.sent) == 1


def test_a_failing_shop_hook_fails_the_reminder_with_the_reason(due_cart, esp, monkeypatch):
    """If "no order since" cannot be checked, the reminder is not sent."""
    cart, row = due_cart

    def broken(self, since):
        raise RuntimeError("order table unavailable")

    monkeypatch.setattr(type(cart), "has_order_since", broken)
    result, row = send(row)
    assert result == Status.FAILED
    assert row.last_error == "could not check the cart: RuntimeError: order table unavailable"
    assert esp.sent == []
