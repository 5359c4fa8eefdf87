"""Shared bits of the staff-notification tests."""

from __future__ import annotations

from decimal import Decimal

from django.db import transaction

from django_order_mail.notifications.models import StaffNotification
from django_order_mail.outbox.models import OutboxEmail
from tests.factories import OrderFactory


def set_up(
    event: str, emails: str = "", *, users=(), enabled=True, threshold=None, currency=""
) -> StaffNotification:
    row = StaffNotification.objects.create(
        event=event,
        enabled=enabled,
        emails=emails,
        threshold=Decimal(threshold) if threshold is not None else None,
        currency=currency,
    )
    row.users.set(users)
    return row


def paid_order(**fields):
    """An order moved to awaiting_shipment: the "new order" transition."""
    order = OrderFactory(**fields)
    with transaction.atomic():
        order.confirm_payment()
        order.save()
    return order


def staff_rows(order, event: str):
    return OutboxEmail.for_order(order).filter(event=event).order_by("recipient")
