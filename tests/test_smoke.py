from django.core import mail

from django_order_mail.delivery.sender import deliver
from django_order_mail.outbox.models import OutboxEmail, Status


def test_confirm_payment_writes_and_delivers(order, no_broker, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        order.confirm_payment()
        order.save()
    row = OutboxEmail.objects.get()
    assert row.status == Status.QUEUED
    assert no_broker == [row.pk]
    assert deliver(row.pk) == Status.SENT
    row.refresh_from_db()
    assert row.status == Status.SENT
    msg = mail.outbox[0]
    print(msg.subject)
    print(msg.body)
    print(msg.alternatives[0][0][:3000])
