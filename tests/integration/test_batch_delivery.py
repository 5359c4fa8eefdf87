"""ESP_BATCH_SEND end to end: a real worker (``tests.integration.batch_settings``,
a queue of its own) sends each claimed batch in one ``POST /email/batch`` to
the fake ESP through Anymail's Postmark backend. Counted per idempotency
key, as everywhere: nothing lost, nothing doubled; and far fewer HTTP calls
than emails."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.db import connection, transaction

from django_order_mail.delivery.sweep import sweep
from django_order_mail.outbox.models import OutboxEmail, Status
from tests.integration.batch_settings import BATCH_QUEUE
from tests.integration.batch_settings import ORDER_MAIL as BATCH_ORDER_MAIL
from tests.integration.conftest import CeleryWorker, wait_until
from tests.integration.fault_tools import active, assert_all_sent, recover, tally
from tests.testapp.models import Order, OrderLine


@pytest.fixture(scope="module")
def batch_worker_process(redis_server, fake_esp_server, django_db_setup):
    worker = CeleryWorker(
        connection.settings_dict["NAME"],
        name="batch",
        settings_module="tests.integration.batch_settings",
        queues=BATCH_QUEUE,
    )
    worker.start()
    yield worker
    worker.stop()


@pytest.fixture
def batch_worker(batch_worker_process, transactional_db, settings):
    """The batch worker; this process publishes to its queue, in tasks of its size."""
    settings.ORDER_MAIL = {**settings.ORDER_MAIL, **BATCH_ORDER_MAIL}
    if batch_worker_process.proc is None or batch_worker_process.proc.poll() is not None:
        batch_worker_process.start()
    yield batch_worker_process
    if batch_worker_process.proc is None or batch_worker_process.proc.poll() is not None:
        batch_worker_process.start()


def make_orders(n: int, prefix: str = "B") -> list[Order]:
    orders = [Order(number=f"{prefix}{i:05d}", email=f"{prefix.lower()}{i}@example.com") for i in range(n)]
    orders = Order.objects.bulk_create(orders)
    OrderLine.objects.bulk_create(
        [OrderLine(order=o, name="Wool socks", quantity=2, unit_price=Decimal("12.50")) for o in orders]
    )
    return orders


def confirm_all(orders) -> None:
    """One transaction: its ids reach the broker together, in tasks of
    DELIVERY_BATCH_SIZE."""
    with transaction.atomic():
        for order in orders:
            order.confirm_payment()
            order.save()


def settled() -> bool:
    return not active()


def test_a_burst_goes_out_in_few_calls_nothing_lost_nothing_doubled(batch_worker, fake_esp):
    n = 150
    confirm_all(make_orders(n))
    wait_until(settled, timeout=120, what=f"{n} emails sent in batches")
    result = tally(fake_esp)
    assert_all_sent(result)
    assert result["emails"] == n and result["duplicates"] == 0
    print(f"\n[batch] {n} emails in {fake_esp.requests} HTTP calls, batch sizes {fake_esp.batch_sizes}")
    assert sum(fake_esp.batch_sizes) == n
    assert fake_esp.requests == len(fake_esp.batch_sizes)  # never one by one
    assert fake_esp.requests <= n // 10  # tasks carry up to 50 ids: about 3 calls
    # Each row's ESP message id is the one the ESP gave its message.
    accepted = {int(a.metadata["outbox_id"]): a.message_id for a in fake_esp.accepted}
    assert dict(OutboxEmail.objects.values_list("pk", "esp_message_id")) == accepted


def test_per_message_errors_and_a_failed_call_in_batches(batch_worker, fake_esp):
    """A per-message 422 in a 200 answer fails that email alone, for good;
    a whole call answered 500 sends every email of the call back for a retry,
    and each is delivered once."""
    fake_esp.script("ok", "ok", 422)
    confirm_all(make_orders(5))
    wait_until(settled, timeout=60, what="first batch recorded")
    [failed] = OutboxEmail.objects.filter(status=Status.FAILED)
    assert "Invalid 'To' address" in failed.last_error and failed.attempts == 1
    assert OutboxEmail.objects.filter(status=Status.SENT).count() == 4
    assert fake_esp.accepted_by_outbox_id() == dict.fromkeys(
        OutboxEmail.objects.filter(status=Status.SENT).values_list("pk", flat=True), 1
    )

    fake_esp.reset()
    fake_esp.script(500)  # the first message of the next call fails the whole call
    second = make_orders(10, prefix="R")
    confirm_all(second)
    wait_until(
        lambda: OutboxEmail.objects.filter(status=Status.SENT).count() == 4 + len(second),
        timeout=90,
        what="delivery after the failed call",
    )
    assert fake_esp.refused == {500: 1}
    failed_call = fake_esp.batch_sizes[0]
    retried = OutboxEmail.objects.filter(attempts=2)
    assert retried.count() == failed_call
    assert all("HTTP 500" in row.last_error or row.last_error == "" for row in retried)
    assert set(fake_esp.accepted_by_outbox_id().values()) == {1}
    assert len(fake_esp.accepted) == len(second)


def test_worker_killed_mid_call_loses_nothing(batch_worker, fake_esp):
    """The call hangs, the worker is killed: the ESP took nothing, the rows
    stay ``sending`` (send_started) until the sweep releases them, and each
    is then delivered once."""
    fake_esp.script("hang")
    confirm_all(make_orders(8))
    wait_until(lambda: fake_esp.hanging == 1, what="the batch call to reach the ESP")
    in_call = fake_esp.batch_sizes[0]
    assert OutboxEmail.objects.filter(status=Status.SENDING).count() >= in_call
    batch_worker.kill()
    wait_until(lambda: not fake_esp.accepted and fake_esp.in_flight == 0, timeout=10, what="the drop")
    batch_worker.start()
    recovered = recover(fake_esp)
    result = tally(fake_esp)
    assert_all_sent(result)
    assert result["duplicates"] == 0 and recovered["in_window"] == 0
    assert OutboxEmail.objects.filter(attempts=2).count() >= in_call
    assert sweep()["released"] == 0


def test_a_worker_process_keeps_several_batch_calls_in_flight(batch_worker, fake_esp):
    """The fake ESP holds every call until three are in flight: two worker
    processes making one batch call at a time never get there. A task with
    room claims the next due rows (up to ``DELIVERY_BATCH_SIZE``) and sends
    them in a call of their own from another sending thread."""
    fake_esp.rendezvous = 3
    fake_esp.rendezvous_timeout = 60
    n = 200
    confirm_all(make_orders(n, prefix="F"))
    wait_until(settled, timeout=120, what=f"{n} emails sent in batches")
    assert fake_esp.max_in_flight >= 3
    result = tally(fake_esp)
    assert_all_sent(result)
    assert result["emails"] == n and result["duplicates"] == 0
    assert fake_esp.requests == len(fake_esp.batch_sizes) and max(fake_esp.batch_sizes) <= 50
