"""Staff notifications with the core alone: set up in the admin, written by
the transition, sent to staff, with no feature app (docs/staff-guide.rst)."""

import pytest
from django.core import mail
from django.urls import reverse

from django_order_mail.delivery.sender import deliver
from django_order_mail.events import StaffEvent
from django_order_mail.outbox.models import OutboxEmail, Status
from tests.core_only.shop.models import Order
from tests.core_only.test_core_alone import feature_modules

pytestmark = pytest.mark.django_db


def test_new_order_reaches_the_address_set_in_the_admin(admin_client):
    listing = admin_client.get(reverse("admin:django_order_mail_staffnotification_changelist"))
    assert listing.status_code == 200 and b'id="staff-new_order"' in listing.content
    response = admin_client.post(
        reverse("admin:django_order_mail_staffnotification_add") + "?event=new_order",
        {"event": StaffEvent.NEW_ORDER, "enabled": "on", "emails": "orders@shop.example"},
    )
    assert response.status_code == 302
    mail.outbox.clear()
    order = Order.objects.create(number="C-3001", email="tina@example.com")
    order.confirm_payment()
    order.save()
    row = OutboxEmail.objects.get(event=StaffEvent.NEW_ORDER)
    assert deliver(row.pk) == Status.SENT
    [message] = mail.outbox
    assert message.to == ["orders@shop.example"]
    assert message.subject.startswith("New order C-3001")
    assert "Open the order in the admin" not in message.body  # the order is not in this admin
    assert feature_modules() == []
