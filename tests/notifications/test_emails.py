"""Staff emails through the real path: outbox row -> sender -> Anymail's test
backend. Rendered in the shop's language with the order's admin link, the
customer's text escaped, never capped or stopped by the customer's choices."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from django_order_mail.delivery.sender import deliver
from django_order_mail.events import StaffEvent
from django_order_mail.outbox.models import OutboxEmail, Status
from django_order_mail.rendering.render import render_event
from django_order_mail.rendering.sample import sample_context
from django_order_mail.tracking.suppression import suppress
from tests.factories import OrderFactory

from .helpers import paid_order, set_up, staff_rows

pytestmark = pytest.mark.django_db

NEW = StaffEvent.NEW_ORDER
HIGH = StaffEvent.HIGH_VALUE_ORDER
EVIL = '<script>alert("x")</script> & "Tina"'


@pytest.fixture
def outbox(settings):
    """Anymail's test backend (tests.settings), emptied."""
    from django_order_mail.delivery.sender import reset_connection

    settings.EMAIL_BACKEND = "anymail.backends.test.EmailBackend"
    reset_connection()
    mail.outbox.clear()
    yield mail.outbox
    reset_connection()


@pytest.fixture
def order_admin(monkeypatch):
    """The test shop's orders live on its own admin site (tests/browser/urls.py):
    the model names its page with the documented hook."""
    from tests.testapp.models import Order

    monkeypatch.setattr(
        Order,
        "get_mail_admin_url",
        lambda self: f"/shop-admin/testapp/order/{self.pk}/change/",
        raising=False,
    )


def send(row: OutboxEmail):
    assert deliver(row.pk) == Status.SENT
    return mail.outbox[-1]


def test_new_order_email_reaches_staff_with_a_link_to_the_order(broker, outbox, order_admin):
    set_up(NEW, "orders@shop.example")
    order = paid_order(email="tina@example.com", customer_name="Tina Nordmann")
    message = send(staff_rows(order, NEW).get())
    assert message.to == ["orders@shop.example"]
    assert "tina@example.com" not in message.to and "tina@example.com" not in (message.cc + message.bcc)
    assert message.subject == f"New order {order.number}: $43.29 – Tina Nordmann"
    assert "was paid and is waiting to be shipped" in message.body
    assert "Wool socks: 2 × $12.50 = $25.00" in message.body
    link = f"https://shop.example/shop-admin/testapp/order/{order.pk}/change/"
    assert f"Open the order in the admin: {link}" in message.body
    html = message.alternatives[0][0]
    assert f'href="{link}"' in html
    assert "unsubscribe" not in html.lower() and "List-Unsubscribe" not in message.extra_headers
    assert message.tags[0] == NEW


def test_customer_text_is_escaped_in_the_html(broker, outbox):
    set_up(NEW, "orders@shop.example")
    order = paid_order(customer_name=EVIL, lines=[('<img src=x onerror="boom()">', 1, "5.00")])
    message = send(staff_rows(order, NEW).get())
    html = message.alternatives[0][0]
    assert "<script>" not in html and "<img src=x" not in html
    # (css-inline writes the text back with bare quotes: they are harmless in text)
    assert '&lt;script&gt;alert("x")&lt;/script&gt; &amp; "Tina"' in html
    assert '&lt;img src=x onerror="boom()"&gt;' in html
    assert EVIL in message.body  # the plain part is plain text, shown as typed
    assert "\n" not in message.subject


def test_staff_email_is_in_the_shops_language_not_the_customers(broker, outbox, settings):
    settings.LANGUAGE_CODE = "de"
    set_up(NEW, "orders@shop.example")
    order = paid_order(language="nb", customer_name="Kari")
    message = send(staff_rows(order, NEW).get())
    assert message.subject.startswith(f"Neue Bestellung {order.number}:")
    assert "Kunde" in message.body
    assert 'lang="de"' in message.alternatives[0][0]
    customer = send(OutboxEmail.for_order(order).get(event="order_confirmation"))
    assert customer.to == [order.email] and "Bestilling" in customer.subject  # the customer's own: Norwegian


def test_high_value_email_names_the_total_and_the_threshold(broker, outbox):
    set_up(HIGH, "boss@shop.example", threshold="500", currency="USD")
    order = paid_order(lines=[("Gold ring", 1, "900.00")], currency="USD")
    message = send(staff_rows(order, HIGH).get())
    assert message.to == ["boss@shop.example"]
    assert message.subject.startswith(f"High-value order {order.number}: $994.90")
    assert "came to $994.90, at or above your high-value threshold of $500.00" in message.body


def test_retries_and_a_second_delivery_send_once(broker, outbox):
    set_up(NEW, "orders@shop.example")
    row = staff_rows(paid_order(), NEW).get()
    send(row)
    assert deliver(row.pk) == "not-claimed"  # a redelivered broker message
    assert len(outbox) == 1


def test_not_counted_against_the_frequency_cap_nor_stopped_by_unsubscribes(broker, outbox, mail_settings):
    """The staff inbox also buys in the shop: its commercial unsubscribe and
    cap must not silence the staff notifications (and the other way round)."""
    mail_settings(COMMERCIAL_FREQUENCY_CAP={"max": 1, "hours": 24})
    set_up(NEW, "orders@shop.example")
    suppress("orders@shop.example", "unsubscribe", source="test")
    suppress("tina@example.com", "unsubscribe", source="test")
    sent_before = timezone.now() - timedelta(hours=1)
    for event in ("abandoned_cart", "feedback_request"):
        OutboxEmail.objects.create(
            idempotency_key=f"earlier:{event}",
            event=event,
            status=Status.SENT,
            content_type_id=1,
            object_id="1",
            recipient="orders@shop.example",
            sent_at=sent_before,
        )
    for _ in range(3):
        row = staff_rows(paid_order(email="tina@example.com"), NEW).get()
        assert send(row).to == ["orders@shop.example"]
    assert OutboxEmail.objects.filter(event=NEW, status=Status.SENT).count() == 3


def test_a_hard_bounced_staff_address_is_suppressed_alone(broker, outbox):
    set_up(NEW, "old.colleague@shop.example\norders@shop.example")
    suppress("old.colleague@shop.example", "hard_bounce", source="test")
    order = paid_order()
    outcomes = {r.recipient: deliver(r.pk) for r in staff_rows(order, NEW)}
    assert outcomes == {"old.colleague@shop.example": Status.SUPPRESSED, "orders@shop.example": Status.SENT}


def test_the_staff_templates_render_for_the_preview_sample():
    for event in (NEW, HIGH):
        context = sample_context(event)
        rendered = render_event(event, context, channel="web")
        assert context["order_number"] in rendered.subject
        assert "Open the order in the admin" not in rendered.text  # a sample has no admin page


def test_the_default_admin_site_link_when_the_order_is_registered_there(settings):
    from django_order_mail.notifications.context import order_admin_url

    settings.ROOT_URLCONF = "tests.notifications.urls"
    order = OrderFactory()
    assert order_admin_url(order) == f"https://shop.example/admin/testapp/order/{order.pk}/change/"


def test_no_link_when_the_order_is_not_in_the_admin():
    from django_order_mail.notifications.context import order_admin_url

    assert order_admin_url(OrderFactory()) == ""


def test_a_broken_link_hook_does_not_lose_the_email(broker, outbox, monkeypatch):
    from tests.testapp.models import Order

    def broken(self):
        raise LookupError("admin moved")

    monkeypatch.setattr(Order, "get_mail_admin_url", broken, raising=False)
    set_up(NEW, "orders@shop.example")
    order = paid_order()
    message = send(staff_rows(order, NEW).get())
    assert order.number in message.subject
    assert not re.search(r"Open the order in the admin: \S", message.body)
