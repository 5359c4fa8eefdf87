"""End to end on real services: PostgreSQL, Redis, celery worker, Anymail's
Postmark backend and the fake ESP. Each test counts what the ESP *accepted*
per idempotency key: nothing lost, nothing doubled."""

from __future__ import annotations

from datetime import timedelta

from django.db import transaction

from django_order_mail.delivery.sweep import sweep
from django_order_mail.outbox.models import EmailLog, OutboxEmail, Status
from tests.factories import OrderFactory
from tests.integration.conftest import wait_until


def transition(order, name, *args, **kwargs):
    with transaction.atomic():
        getattr(order, name)(*args, **kwargs)
        order.save()


def keys_by_id():
    return dict(OutboxEmail.objects.values_list("pk", "idempotency_key"))


def age_rows(**delta):
    """Time travel: make every row look older (timestamps moved back)."""
    shift = timedelta(**delta)
    for row in OutboxEmail.objects.all():
        for name in ("created_at", "enqueued_at", "claimed_at", "send_after"):
            value = getattr(row, name)
            if value is not None:
                setattr(row, name, value - shift)
        row.save(update_fields=["created_at", "enqueued_at", "claimed_at", "send_after"])


def settled():
    """True once no row is waiting for the worker."""
    return not OutboxEmail.objects.filter(status__in=(Status.QUEUED, Status.SENDING)).exists()


def test_full_lifecycle_sends_each_email_once(worker, fake_esp):
    order = OrderFactory(customer_name="Tina")
    transition(order, "confirm_payment")
    first = order.add_shipment("posten_bring", "70701234567890123")
    transition(order, "ship_partially", first)
    second = order.add_shipment("ups", "1Z999AA10123456784")
    transition(order, "ship", second)
    transition(order, "mark_out_for_delivery", second)
    transition(order, "mark_delivered")
    wait_until(settled, what="lifecycle emails sent")
    # The feedback request waits FEEDBACK_DELAY_DAYS; let the sweep find it due.
    age_rows(days=30)
    assert sweep()["due"] == 1
    wait_until(settled, what="feedback request sent")

    rows = list(OutboxEmail.objects.order_by("pk"))
    assert [r.event for r in rows] == [
        "order_confirmation",
        "shipping_confirmation",
        "shipping_confirmation",
        "out_for_delivery",
        "delivered",
        "feedback_request",
    ]
    assert all(r.status == Status.SENT for r in rows), [(r.event, r.status, r.last_error) for r in rows]
    per_key = fake_esp.accepted_by_key(keys_by_id())
    assert len(per_key) == 6 and set(per_key.values()) == {1}
    # What the ESP got is what the log says was sent, with Anymail's metadata.
    by_id = {int(a.metadata["outbox_id"]): a for a in fake_esp.accepted}
    confirmation = by_id[rows[0].pk]
    assert confirmation.subject == rows[0].subject
    assert rows[0].esp_message_id == confirmation.message_id
    assert confirmation.metadata["event"] == "order_confirmation"
    assert confirmation.tags == ["order_confirmation"]
    assert "1Z999AA10123456784" in by_id[rows[2].pk].text
    assert "style=" in confirmation.html  # CSS inlined at render time


def test_esp_500_and_429_are_retried_then_delivered(worker, fake_esp):
    fake_esp.script(500, 429)
    order = OrderFactory()
    transition(order, "confirm_payment")
    row = OutboxEmail.objects.get()
    wait_until(
        lambda: OutboxEmail.objects.filter(pk=row.pk, status=Status.SENT).exists(),
        timeout=60,
        what="delivery after retries",
    )
    row.refresh_from_db()
    assert row.attempts == 3
    assert fake_esp.refused == {500: 1, 429: 1}
    assert fake_esp.accepted_by_outbox_id() == {row.pk: 1}
    retries = EmailLog.objects.filter(email=row, status=Status.QUEUED).values_list("message", flat=True)
    assert any("HTTP 500" in m for m in retries) and any("HTTP 429" in m for m in retries)


def test_esp_422_fails_with_the_reason_and_other_emails_still_go(worker, fake_esp):
    fake_esp.script(422)
    bad = OrderFactory(email="bounce@example.com")
    transition(bad, "confirm_payment")
    wait_until(lambda: OutboxEmail.objects.filter(status=Status.FAILED).exists(), what="failure recorded")
    good = OrderFactory()
    transition(good, "confirm_payment")
    wait_until(settled, what="second order sent")
    failed = OutboxEmail.objects.get(status=Status.FAILED)
    assert failed.reference == bad.number
    assert "AnymailRecipientsRefused" in failed.last_error and "rejected or invalid" in failed.last_error
    assert failed.attempts == 1  # permanent: not retried
    sent = OutboxEmail.objects.get(status=Status.SENT)
    assert sent.reference == good.number
    assert fake_esp.accepted_by_outbox_id() == {sent.pk: 1}


def test_esp_422_request_error_fails_with_http_status(worker, fake_esp):
    fake_esp.script("422-from")
    order = OrderFactory()
    transition(order, "confirm_payment")
    wait_until(settled, what="failure recorded")
    row = OutboxEmail.objects.get()
    assert row.status == Status.FAILED and row.attempts == 1
    assert row.last_error.startswith("HTTP 422") and "Invalid 'From' address" in row.last_error
    assert not fake_esp.accepted


def test_transition_during_redis_outage_is_delivered_after_it_returns(worker, fake_esp, redis_server):
    redis_server.stop()
    try:
        orders = [OrderFactory() for _ in range(3)]
        for order in orders:
            transition(order, "confirm_payment")  # publish fails; the order still moves
        assert all(o.state == "awaiting_shipment" for o in orders)
        assert OutboxEmail.objects.filter(status=Status.QUEUED).count() == 3
    finally:
        redis_server.start()
    # The messages never reached a broker: only the sweep can deliver them.
    age_rows(minutes=10)
    counts = sweep()
    assert counts["requeued"] == 3 and counts["requeued_published"] == 3
    wait_until(settled, timeout=60, what="delivery after the outage")
    assert set(OutboxEmail.objects.values_list("status", flat=True)) == {Status.SENT}
    assert sorted(fake_esp.accepted_by_outbox_id().values()) == [1, 1, 1]


def test_worker_killed_mid_send_loses_nothing(worker, fake_esp):
    fake_esp.script("hang")
    order = OrderFactory()
    transition(order, "confirm_payment")
    row = OutboxEmail.objects.get()
    wait_until(lambda: fake_esp.hanging == 1, what="the send to reach the ESP")
    assert OutboxEmail.objects.get(pk=row.pk).status == Status.SENDING
    worker.kill()  # SIGKILL while the ESP call is in flight
    wait_until(
        lambda: fake_esp.requests == 1 and not fake_esp.accepted, timeout=5, what="ESP to see the drop"
    )
    worker.start()
    # The row is stuck in "sending"; the sweep releases it after SENDING_TIMEOUT.
    age_rows(hours=1)
    assert sweep()["released"] == 1
    wait_until(settled, timeout=60, what="delivery after the kill")
    row.refresh_from_db()
    assert row.status == Status.SENT
    assert row.attempts == 2
    assert fake_esp.accepted_by_outbox_id() == {row.pk: 1}


def test_a_worker_keeps_several_calls_in_flight_on_kept_alive_connections(worker, fake_esp, settings):
    """DELIVERY_CONCURRENCY sending threads per worker process, each with its
    own kept-alive ESP connection. The fake ESP holds every call until six are
    in flight at once: two worker processes sending one email at a time could
    never get there (each call would wait out the rendezvous and max_in_flight
    would stay at 2)."""
    concurrency = settings.ORDER_MAIL.get("DELIVERY_CONCURRENCY", 8)
    assert concurrency >= 4, "the integration worker runs the default concurrency"
    fake_esp.rendezvous = 6
    waves = []
    for wave in range(2):
        with transaction.atomic():
            orders = [OrderFactory(number=f"K{wave}-{i:03d}") for i in range(24)]
            for order in orders:
                order.confirm_payment()
                order.save()
        wait_until(settled, what=f"wave {wave} sent")
        waves.append(fake_esp.connections)
        fake_esp.rendezvous = 0
    assert OutboxEmail.objects.filter(status=Status.SENT).count() == 48
    assert set(fake_esp.accepted_by_key(keys_by_id()).values()) == {1}
    assert fake_esp.max_in_flight >= 6
    # Kept alive: at most one connection per sending thread of each of the
    # worker's processes, and the second wave reuses the first wave's.
    assert waves[1] <= worker.concurrency * concurrency < 48
