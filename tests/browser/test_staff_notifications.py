"""In a real browser: staff set who hears of high-value orders, orders are
paid from the shop's order page, and the staff email goes through the outbox
and the sender (Anymail's test backend) to exactly the people set up, for
orders at or over the threshold of their currency only; removing a
recipient stops it.

Set ``ORDER_MAIL_SCREENSHOTS=1`` to also write the screenshots used in
``docs/staff-guide.rst`` to ``docs/_static/``.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from django.core import mail
from playwright.sync_api import expect

from django_order_mail.delivery.sender import deliver_batch, reset_connection
from django_order_mail.events import StaffEvent
from django_order_mail.outbox.models import OutboxEmail, Status
from tests.factories import OrderFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

HIGH = StaffEvent.HIGH_VALUE_ORDER
LIST = "/admin/django_order_mail/staffnotification/"
DOCS_STATIC = Path(__file__).resolve().parents[2] / "docs" / "_static"
RING = [("Gold ring <b>18k</b>", 1, "900.00")]  # 994.90 EUR with shipping and tax (tests.testapp)


def shoot(page, name: str) -> None:
    if os.environ.get("ORDER_MAIL_SCREENSHOTS"):
        DOCS_STATIC.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(DOCS_STATIC / name), full_page=True)


@pytest.fixture
def outbox(settings):
    settings.EMAIL_BACKEND = "anymail.backends.test.EmailBackend"
    settings.ORDER_MAIL = {**settings.ORDER_MAIL, "SITE_URL": "https://shop.example"}
    reset_connection()
    mail.outbox.clear()
    yield mail.outbox
    reset_connection()


@pytest.fixture
def order_admin_link(monkeypatch):
    """The test shop's orders are on its own admin site (tests/browser/urls.py)."""
    from tests.testapp.models import Order

    def admin_url(self):
        return f"/shop-admin/testapp/order/{self.pk}/change/"

    monkeypatch.setattr(Order, "get_mail_admin_url", admin_url, raising=False)


def pay_in_the_admin(page, site, **fields):
    """Staff confirm the payment on the shop's order page: the "new order" transition."""
    order = OrderFactory(**{"currency": "EUR", **fields})
    page.goto(f"{site}/shop-admin/testapp/order/{order.pk}/change/")
    page.click('button[value="confirm_payment"]')
    expect(page.locator("#order-mail-state")).to_have_text("Awaiting shipment")
    return order


def worker_sends(no_broker: list[int]) -> dict[int, str]:
    """What the Celery worker does with the ids the transition published."""
    ids = list(no_broker)
    no_broker.clear()
    return deliver_batch(ids) if ids else {}


def high_value_mail(outbox, order):
    return [m for m in outbox if m.tags and m.tags[0] == HIGH and order.number in m.subject]


def test_staff_set_up_high_value_orders_and_remove_a_recipient(
    staff_page, site, no_broker, outbox, order_admin_link, django_user_model
):
    page = staff_page
    django_user_model.objects.create_user("lars", "lars@shop.example", "pw", is_staff=True, first_name="Lars")

    # 1. The list of staff emails: high-value orders are off until set up.
    page.goto(f"{site}{LIST}")
    row = page.locator("#staff-high_value_order")
    expect(row.locator(".staff-status")).to_have_text("Off until set up here")
    row.get_by_role("link", name="Set recipients").click()

    # 2. A typo and a missing currency are refused with clear messages.
    page.fill("#id_emails", "boss@shop")
    page.fill("#id_threshold", "500")
    page.click('input[name="_save"]')
    expect(page.locator(".errorlist")).to_contain_text(["“boss@shop” is not a valid email address."])
    expect(page.locator(".field-currency .errorlist, .errorlist")).to_contain_text(
        ["Enter the threshold's currency, such as EUR."]
    )

    # 3. The owner's address and a colleague's account, from 500 EUR.
    page.fill("#id_emails", "boss@shop.example")
    page.fill("#id_currency", "eur")
    page.get_by_label("Lars <lars@shop.example>").check()
    # The marketplace sells in kronor: a threshold of its own, typed as EUR first by mistake.
    page.fill("#id_other_thresholds-0-currency", "eur")
    page.fill("#id_other_thresholds-0-threshold", "5000")
    page.click('input[name="_save"]')
    expect(page.locator(".errorlist")).to_contain_text(
        ["This is the currency of the threshold above: enter another one."]
    )
    page.fill("#id_other_thresholds-0-currency", "nok")
    page.click('input[name="_save"]')
    expect(page.locator(".messagelist")).to_contain_text("now goes to: boss@shop.example, lars@shop.example")
    row = page.locator("#staff-high_value_order")
    expect(row.locator(".staff-status")).to_have_text("On")
    expect(row.locator(".staff-recipients")).to_contain_text("boss@shop.example")
    expect(row).to_contain_text("€500.00, NOK 5,000.00")
    shoot(page, "staff-notifications-list.png")

    # 4. An order over the threshold is paid: both get the staff email.
    big = pay_in_the_admin(page, site, lines=RING, email="tina@example.com", customer_name="Tina <i>T</i>")
    outcomes = worker_sends(no_broker)
    assert Status.SENT in outcomes.values()
    sent = high_value_mail(outbox, big)
    assert sorted(m.to[0] for m in sent) == ["boss@shop.example", "lars@shop.example"]
    message = sent[0]
    assert message.subject == f"High-value order {big.number}: €994.90 – Tina <i>T</i>"
    html = message.alternatives[0][0]
    assert "Gold ring &lt;b&gt;18k&lt;/b&gt;" in html and "<b>18k</b>" not in html
    assert "Tina &lt;i&gt;T&lt;/i&gt;" in html
    assert f'href="https://shop.example/shop-admin/testapp/order/{big.pk}/change/"' in html
    assert not [m for m in outbox if "tina@example.com" in m.to and m.tags[0] == HIGH]

    # 5. An order under the threshold is paid: no high-value email. Nor for
    #    994.90 in kronor; 5,944.90 kronor is over the kronor threshold.
    small = pay_in_the_admin(page, site)  # 43.29 EUR
    kroner = pay_in_the_admin(page, site, lines=RING, currency="NOK")
    worker_sends(no_broker)
    assert not OutboxEmail.objects.filter(event=HIGH, object_id__in=[str(small.pk), str(kroner.pk)]).exists()
    assert high_value_mail(outbox, small) == high_value_mail(outbox, kroner) == []
    many = pay_in_the_admin(page, site, lines=[("Gold ring", 6, "900.00")], currency="NOK")
    worker_sends(no_broker)
    sent = high_value_mail(outbox, many)
    assert sorted(m.to[0] for m in sent) == ["boss@shop.example", "lars@shop.example"]
    assert "5,944.90" in sent[0].subject

    # 6. The owner's address is removed: only the colleague hears of the next one.
    page.goto(f"{site}{LIST}")
    page.locator("#staff-high_value_order").get_by_role("link", name="Set recipients").click()
    shoot(page, "staff-notifications-form.png")
    page.fill("#id_emails", "")
    page.click('input[name="_save"]')
    expect(page.locator(".messagelist")).to_contain_text("now goes to: lars@shop.example")
    second = pay_in_the_admin(page, site, lines=RING)
    worker_sends(no_broker)
    assert [m.to for m in high_value_mail(outbox, second)] == [["lars@shop.example"]]

    # 7. The colleague is removed too: the form asks to switch it off instead...
    page.goto(f"{site}{LIST}")
    page.locator("#staff-high_value_order").get_by_role("link", name="Set recipients").click()
    page.get_by_label("Lars <lars@shop.example>").uncheck()
    page.click('input[name="_save"]')
    expect(page.locator(".errorlist")).to_contain_text(
        ["Add at least one email address or staff user, or switch this notification off."]
    )
    # ...which staff do: nobody hears of high-value orders any more.
    page.get_by_label("On", exact=True).uncheck()
    page.click('input[name="_save"]')
    expect(page.locator("#staff-high_value_order .staff-status")).to_have_text("Off")
    third = pay_in_the_admin(page, site, lines=RING)
    worker_sends(no_broker)
    assert not OutboxEmail.for_order(third).filter(event=HIGH).exists()
    assert high_value_mail(outbox, third) == []
    # The customers got their own confirmations all along, in their own emails.
    confirmations = [m for m in outbox if m.tags[0] == "order_confirmation"]
    assert len(confirmations) == 6 and all("shop.example" not in m.to[0] for m in confirmations)
