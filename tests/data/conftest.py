from datetime import timedelta
from itertools import count

import pytest
from django.contrib.contenttypes.models import ContentType
from django.utils import timezone

from django_order_mail.outbox.models import EmailLog, OutboxEmail

_keys = count()


@pytest.fixture
def row():
    """``row(order, status="sent", days=0, **fields)``: an outbox row written
    ``days`` ago, with a body and a timeline line."""

    def make(order, status="sent", days=0, event="order_confirmation", **fields):
        at = timezone.now() - timedelta(days=days)
        email = OutboxEmail.objects.create(
            idempotency_key=f"test:{next(_keys)}",
            event=event,
            status=status,
            content_type=ContentType.objects.get_for_model(order),
            object_id=str(order.pk),
            reference=order.number,
            recipient=fields.pop("recipient", order.email),
            subject=f"Your order {order.number}, {order.customer_name}",
            body_text=f"Hello {order.customer_name}",
            body_html=f"<p>Hello {order.customer_name}</p>",
            sent_at=at if status == "sent" else None,
            **fields,
        )
        OutboxEmail.objects.filter(pk=email.pk).update(created_at=at)
        EmailLog.objects.create(email=email, status=status, message=f"to {email.recipient}")
        email.refresh_from_db()
        return email

    return make
