"""Revenue per email (tracking.attribution): an order placed within
ATTRIBUTION_DAYS after a click in an email is credited to that email and
its subject variant; the last click wins, each order counts once, and
another customer's clicks never credit an order.

Clicks arrive as real Postmark click webhooks; times are given explicitly
(the click's time in the webhook, the order's ``placed_at``), never raced.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.db import transaction
from django.urls import reverse

from django_order_mail.events import MailEvent
from django_order_mail.outbox.models import EmailLog
from django_order_mail.tracking import attribution
from django_order_mail.tracking.attribution import record_order, revenue_by_event, revenue_by_variant
from django_order_mail.tracking.models import EmailAttribution, SubjectTest, SubjectVariant
from tests.factories import OrderFactory
from tests.tracking_utils import POSTMARK_URL, WEBHOOK_SECRET, post_json, postmark_click, sent_row

pytestmark = pytest.mark.django_db

PLACED = dt.datetime(2026, 3, 10, 12, 0, tzinfo=dt.timezone.utc)
CUSTOMER = "kari@example.no"


@pytest.fixture(autouse=True)
def webhook_secret(settings, broker, esp):
    settings.ANYMAIL = {**settings.ANYMAIL, "WEBHOOK_SECRET": WEBHOOK_SECRET}


def iso(moment: dt.datetime) -> str:
    return moment.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def clicked(client, email, at: dt.datetime, *, link="https://shop.example/p/socks/", recipient=None):
    payload = postmark_click(email, at=iso(at), link=link)
    if recipient is not None:
        payload["Recipient"] = recipient
    assert post_json(client, POSTMARK_URL, payload).status_code == 200


def customer_email(event=MailEvent.SHIPPING_CONFIRMATION, address=CUSTOMER):
    """A sent email of an earlier order of the customer's."""
    return sent_row(OrderFactory(email=address), event)


def new_order(address=CUSTOMER):
    return OrderFactory(email=address)  # two lines: 2 × 12.50 + 9.90, USD


# -- the window ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("before", "credited"),
    [
        (dt.timedelta(0), True),  # the same second
        (dt.timedelta(days=5), True),  # exactly the window
        (dt.timedelta(days=5, seconds=1), False),  # one second too early
        (dt.timedelta(seconds=-1), False),  # after the order
    ],
)
def test_the_window_edges(client, before, credited):
    email = customer_email()
    clicked(client, email, PLACED - before)
    credit = record_order(new_order(), placed_at=PLACED)
    assert (credit is not None) is credited
    if credited:
        assert credit.email_id == email.pk and credit.event == MailEvent.SHIPPING_CONFIRMATION
        assert credit.clicked_at == PLACED - before


def test_the_window_follows_the_setting(client, mail_settings):
    mail_settings(ATTRIBUTION_DAYS=1)
    email = customer_email()
    clicked(client, email, PLACED - dt.timedelta(days=2))
    assert record_order(new_order(), placed_at=PLACED) is None


# -- whose click, which click ---------------------------------------------------------------


def test_the_last_click_wins(client):
    first, second = customer_email(MailEvent.ORDER_CONFIRMATION), customer_email(MailEvent.DELIVERED)
    clicked(client, second, PLACED - dt.timedelta(days=3))
    clicked(client, first, PLACED - dt.timedelta(days=1))  # clicked last, though sent first
    clicked(client, second, PLACED + dt.timedelta(hours=1))  # after the order: not a reason for it
    credit = record_order(new_order(), placed_at=PLACED)
    assert credit.email_id == first.pk and credit.event == MailEvent.ORDER_CONFIRMATION


def test_another_customers_clicks_never_credit_an_order(client):
    theirs = customer_email(address="someone.else@example.com")
    clicked(client, theirs, PLACED - dt.timedelta(hours=1))
    assert record_order(new_order(), placed_at=PLACED) is None


def test_a_forwarded_link_clicked_by_someone_else_credits_neither(client):
    """The customer forwarded the email; the ESP reports the click for the
    other reader. Neither the customer's order nor the reader's is credited."""
    email = customer_email()
    clicked(client, email, PLACED - dt.timedelta(hours=1), recipient="friend@example.com")
    assert record_order(new_order(), placed_at=PLACED) is None
    assert record_order(new_order("friend@example.com"), placed_at=PLACED) is None


def test_addresses_compare_case_insensitively(client):
    email = customer_email(address="Kari@Example.NO")
    clicked(client, email, PLACED - dt.timedelta(hours=1))
    assert record_order(new_order(CUSTOMER), placed_at=PLACED).email_id == email.pk


def test_an_unsubscribe_click_is_no_reason_to_buy(client):
    email = customer_email()
    link = "https://shop.example" + reverse("django_order_mail:unsubscribe", kwargs={"token": "abc"})
    clicked(client, email, PLACED - dt.timedelta(hours=1), link=link)
    assert record_order(new_order(), placed_at=PLACED) is None


# -- one credit, with the order's revenue and the email's variant ---------------------------


def test_one_credit_per_order_with_its_revenue_and_currency(client):
    email = customer_email()
    clicked(client, email, PLACED - dt.timedelta(hours=2))
    order = new_order()
    credit = record_order(order, placed_at=PLACED)
    assert record_order(order, placed_at=PLACED + dt.timedelta(minutes=1)) == credit
    assert EmailAttribution.objects.count() == 1
    assert credit.revenue == Decimal("43.29") and credit.currency == "USD"  # 34.90 + 4.90 shipping + 3.49 tax
    assert credit.order_reference == order.number
    assert EmailLog.objects.filter(email=email, status="attributed").exists()


def test_the_order_confirmation_places_the_order_and_credits_it(client):
    email = customer_email()
    clicked(client, email, dt.datetime.now(dt.timezone.utc) - dt.timedelta(hours=1))
    order = new_order()
    with transaction.atomic():
        order.confirm_payment()
        order.save()
    [credit] = EmailAttribution.objects.all()
    assert credit.order_id == str(order.pk) and credit.email_id == email.pk
    with transaction.atomic():  # a later transition credits nothing more
        order.ship(order.add_shipment("ups", "1Z1"))
        order.save()
    assert EmailAttribution.objects.count() == 1


def test_a_rolled_back_order_leaves_no_credit(client):
    email = customer_email()
    clicked(client, email, dt.datetime.now(dt.timezone.utc) - dt.timedelta(hours=1))
    order = new_order()
    with pytest.raises(RuntimeError), transaction.atomic():
        order.confirm_payment()
        order.save()
        raise RuntimeError("the payment provider said no after all")
    assert not EmailAttribution.objects.exists()


def test_a_failing_attribution_never_stops_the_order(client, monkeypatch):
    email = customer_email()
    clicked(client, email, dt.datetime.now(dt.timezone.utc) - dt.timedelta(hours=1))
    monkeypatch.setattr(attribution, "find_click", lambda *a, **kw: 1 / 0)
    order = new_order()
    with transaction.atomic():
        order.confirm_payment()
        order.save()
    order.refresh_from_db()
    assert order.state == "awaiting_shipment" and not EmailAttribution.objects.exists()


def test_an_order_after_no_click_costs_one_read_in_its_transaction(client):
    """The receiver runs in every paid order's transaction: without a click
    it reads the customer's clicked emails once and nothing else (no
    savepoint, no look for an earlier credit)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    customer_email()  # sent, never clicked
    order = new_order()
    with CaptureQueriesContext(connection) as with_tracking, transaction.atomic():
        order.confirm_payment()
        order.save()
    statements = [q["sql"] for q in with_tracking]
    assert not [sql for sql in statements if "emailattribution" in sql]
    reads = [sql for sql in statements if sql.startswith("SELECT") and '."clicked_at" IS NOT NULL' in sql]
    assert len(reads) == 1, statements
    assert not EmailAttribution.objects.exists()


def test_a_later_call_keeps_the_first_credit(client):
    email = customer_email()
    clicked(client, email, PLACED - dt.timedelta(hours=2))
    order = new_order()
    first = record_order(order, placed_at=PLACED)
    with transaction.atomic():
        order.confirm_payment()
        order.save()
    assert list(EmailAttribution.objects.all()) == [first]


def test_the_credit_carries_the_subject_variant(client):
    test = SubjectTest.objects.create(name="Shipping subject", event=MailEvent.SHIPPING_CONFIRMATION)
    SubjectVariant.objects.create(test=test, label="A", subject="On its way, {{ customer_name }}!")
    email = customer_email()
    clicked(client, email, PLACED - dt.timedelta(hours=1))
    credit = record_order(new_order(), placed_at=PLACED)
    assert credit.variant is not None and credit.variant.label == "A"
    [row] = revenue_by_variant(since=PLACED - dt.timedelta(days=1))
    assert (row["test"], row["label"], row["revenue"].orders) == ("Shipping subject", "A", 1)


def test_sums_are_per_currency(client):
    kroner, dollars = OrderFactory(email=CUSTOMER, currency="NOK"), new_order("james@example.com")
    clicked(client, customer_email(), PLACED - dt.timedelta(hours=1))
    clicked(client, customer_email(address="james@example.com"), PLACED - dt.timedelta(hours=1))
    record_order(kroner, placed_at=PLACED)
    record_order(dollars, placed_at=PLACED, revenue="100")
    [(event, found)] = revenue_by_event(since=PLACED - dt.timedelta(days=1)).items()
    assert event == MailEvent.SHIPPING_CONFIRMATION and found.orders == 2
    assert found.by_currency == {"NOK": Decimal("43.29"), "USD": Decimal("100.00")}


def test_tracking_events_kept_shorter_than_the_window_are_reported(mail_settings):
    from django_order_mail.conf import user_settings
    from django_order_mail.data.checks import retention_setting_errors

    mail_settings(RETENTION={"tracking_events": 3})
    [warning] = [m for m in retention_setting_errors(user_settings()) if "ATTRIBUTION_DAYS" in m.msg]
    assert warning.id == "django_order_mail.W006"
    mail_settings(RETENTION={"tracking_events": 5})
    assert not [m for m in retention_setting_errors(user_settings()) if "ATTRIBUTION_DAYS" in m.msg]
