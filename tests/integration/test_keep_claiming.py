"""A worker process keeps its ESP calls in flight (``django_order_mail.delivery.flow``):
its sending threads never wait for the slowest email of a batch, nor for the
next broker message when orders come one id per message; with
``ESP_BATCH_SEND`` it keeps several batch calls in flight. Real worker,
Redis, PostgreSQL and the fake ESP; counted per idempotency key."""

from __future__ import annotations

import pytest
from django.db import connection, transaction

from django_order_mail.outbox.models import OutboxEmail, Status
from tests.factories import OrderFactory
from tests.integration.conftest import CeleryWorker, wait_until
from tests.integration.fault_tools import active

SINGLE_QUEUE = "order-mail-one-process"


def settled() -> bool:
    return not active()


def keys_by_id() -> dict[int, str]:
    return dict(OutboxEmail.objects.values_list("pk", "idempotency_key"))


def confirm_in_one_transaction(n: int, prefix: str) -> None:
    """All rows commit together: every broker message is published after
    every row is there."""
    with transaction.atomic():
        for i in range(n):
            order = OrderFactory(number=f"{prefix}{i:03d}")
            order.confirm_payment()
            order.save()


def test_one_id_per_message_still_fills_the_sending_threads(worker, fake_esp, settings):
    """A trickle of orders reaches the workers one id per ``send_emails``
    message. The fake ESP holds every call until eight are in flight: a
    worker that sends each message's one email on its own (two processes,
    two calls at most) never gets there, and every call would wait out the
    rendezvous. The task that takes the first message claims the other due
    rows itself and keeps its sending threads busy."""
    concurrency = settings.ORDER_MAIL.get("DELIVERY_CONCURRENCY", 8)
    assert concurrency >= 8, "the integration worker runs the default concurrency"
    settings.ORDER_MAIL = {**settings.ORDER_MAIL, "DELIVERY_BATCH_SIZE": 1}  # one id per message
    fake_esp.rendezvous = 8
    fake_esp.rendezvous_timeout = 60
    confirm_in_one_transaction(40, "T")
    wait_until(settled, timeout=90, what="40 emails sent")
    assert fake_esp.max_in_flight >= 8
    assert OutboxEmail.objects.filter(status=Status.SENT).count() == 40
    assert set(fake_esp.accepted_by_key(keys_by_id()).values()) == {1}
    # Kept alive: one connection per sending thread at most, however many emails.
    assert fake_esp.connections <= worker.concurrency * concurrency


@pytest.fixture(scope="module")
def one_process_worker(redis_server, fake_esp_server, django_db_setup):
    """One prefork process consuming a queue of its own."""
    worker = CeleryWorker(connection.settings_dict["NAME"], name="one", concurrency=1, queues=SINGLE_QUEUE)
    worker.start()
    yield worker
    worker.stop()


@pytest.fixture
def one_process(one_process_worker, transactional_db, settings):
    settings.ORDER_MAIL = {**settings.ORDER_MAIL, "CELERY_QUEUE": SINGLE_QUEUE}
    if one_process_worker.proc is None or one_process_worker.proc.poll() is not None:
        one_process_worker.start()
    yield one_process_worker


def test_a_hanging_call_does_not_hold_up_the_emails_behind_it(one_process, fake_esp):
    """One worker process, and the ESP holds the first call open. The rest of
    that message's batch and the next message's emails go out meanwhile: a
    task that waited for its whole batch would block the process on the one
    hanging call."""
    fake_esp.script("hang")
    confirm_in_one_transaction(45, "H")  # three messages of up to 20 ids
    wait_until(lambda: len(fake_esp.accepted) == 44, timeout=60, what="the other 44 emails")
    # The ESP's answer reaches the worker before the worker records it: wait
    # for the 44 records, then only the held email is still sending.
    wait_until(
        lambda: OutboxEmail.objects.filter(status=Status.SENT).count() == 44,
        timeout=60,
        what="the other 44 emails recorded as sent",
    )
    assert fake_esp.hanging == 1
    assert OutboxEmail.objects.filter(status=Status.SENDING).count() == 1
    fake_esp.release_hanging()
    wait_until(settled, timeout=60, what="the held email")
    assert OutboxEmail.objects.filter(status=Status.SENT).count() == 45
    assert set(fake_esp.accepted_by_key(keys_by_id()).values()) == {1}


def test_rows_committed_while_a_call_hangs_are_sent_meanwhile(one_process, fake_esp):
    """One worker process, its only running call held open by the ESP. The
    broker message of an order committed now waits behind the running task,
    but the task's free threads keep looking for due rows and send it."""
    fake_esp.script("hang")
    confirm_in_one_transaction(1, "W")
    wait_until(lambda: fake_esp.hanging == 1, what="the first call to hang")
    confirm_in_one_transaction(5, "L")
    wait_until(lambda: len(fake_esp.accepted) == 5, timeout=30, what="the later five emails")
    assert fake_esp.hanging == 1
    fake_esp.release_hanging()
    wait_until(settled, timeout=60, what="the held email")
    assert OutboxEmail.objects.filter(status=Status.SENT).count() == 6
    assert set(fake_esp.accepted_by_key(keys_by_id()).values()) == {1}
