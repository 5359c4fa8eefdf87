"""The background publisher: ids committed in a request reach the broker
from a thread, batched, and a failing broker never loses them for good."""

import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from django.db import connections

from django_order_mail.outbox import enqueue as enqueue_module
from django_order_mail.outbox.models import OutboxEmail, Status
from django_order_mail.outbox.publisher import BackgroundPublisher


class Recorder:
    def __init__(self, fail_first: int = 0, delay: float = 0.0):
        self.calls: list[tuple[list[int], float | None]] = []
        self.threads: set[str] = set()
        self.fail_first = fail_first
        self.delay = delay

    def __call__(self, ids, countdown):
        self.threads.add(threading.current_thread().name)
        time.sleep(self.delay)
        if self.fail_first:
            self.fail_first -= 1
            raise ConnectionError("broker down")
        self.calls.append((list(ids), countdown))
        return len(ids)


def test_ids_are_published_from_the_background_thread():
    recorder = Recorder()
    publisher = BackgroundPublisher(recorder, linger=0.0)
    publisher.submit([1, 2])
    assert publisher.flush(5)
    assert recorder.calls == [([1, 2], None)]
    assert recorder.threads == {"order-mail-publisher"}
    publisher.stop()


def test_a_burst_becomes_few_batches():
    recorder = Recorder()
    publisher = BackgroundPublisher(recorder, linger=0.2)
    for pk in range(1, 51):
        publisher.submit([pk])
    assert publisher.flush(5)
    published = [pk for ids, _ in recorder.calls for pk in ids]
    assert sorted(published) == list(range(1, 51))
    assert len(recorder.calls) < 5  # lingering gathered the burst
    publisher.stop()


def test_a_sustained_burst_is_gathered_into_full_batches():
    """While ids keep pouring in, the thread keeps gathering until a full
    send_emails message (target) is ready, instead of publishing small ones."""
    recorder = Recorder()
    publisher = BackgroundPublisher(recorder, linger=0.02, max_linger=5, target=lambda: 25)
    for pk in range(100):
        publisher.submit([pk])
        time.sleep(0.002)  # 500 transitions a second
    assert publisher.flush(10)
    sizes = [len(ids) for ids, _ in recorder.calls]
    assert sorted(pk for ids, _ in recorder.calls for pk in ids) == list(range(100))
    assert min(sizes[:-1], default=25) >= 25  # every message but the last is full
    publisher.stop()


def test_a_quiet_shop_is_not_kept_waiting():
    """One order now and then: each is published after one linger, not held
    back for a batch that is not coming."""
    recorder = Recorder()
    publisher = BackgroundPublisher(recorder, linger=0.02, max_linger=5, target=lambda: 25)
    started = time.monotonic()
    publisher.submit([1])
    assert publisher.flush(5)
    assert time.monotonic() - started < 1.0
    assert recorder.calls == [([1], None)]
    publisher.stop()


def test_countdowns_are_kept_apart():
    recorder = Recorder()
    publisher = BackgroundPublisher(recorder, linger=0.2)
    publisher.submit([1])
    publisher.submit([2], 30)
    publisher.submit([3])
    assert publisher.flush(5)
    assert sorted(recorder.calls) == [([1, 3], None), ([2], 30)]
    publisher.stop()


def test_a_broker_error_does_not_kill_the_thread():
    recorder = Recorder(fail_first=1)
    publisher = BackgroundPublisher(recorder, linger=0.0)
    publisher.submit([1])
    assert publisher.flush(5)
    publisher.submit([2])
    assert publisher.flush(5)
    assert recorder.calls == [([2], None)]  # 1 is left to the sweep (its row stays queued)
    publisher.stop()


def test_stop_publishes_what_is_queued():
    recorder = Recorder(delay=0.05)
    publisher = BackgroundPublisher(recorder, linger=0.0)
    for pk in range(5):
        publisher.submit([pk])
    publisher.stop(timeout=5)
    assert sorted(pk for ids, _ in recorder.calls for pk in ids) == list(range(5))


def test_a_forked_child_starts_its_own_thread():
    """gunicorn and celery prefork fork after import: the child's publisher
    must not wait on a thread that only exists in the parent."""
    recorder = Recorder()
    publisher = BackgroundPublisher(recorder, linger=0.0)
    publisher.submit([1])
    assert publisher.flush(5)
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child
        try:
            publisher.submit([2])
            ok = publisher.flush(5) and recorder.calls[-1] == ([2], None)
            os.write(write, b"ok" if ok else b"no")
        finally:
            os._exit(0)
    os.waitpid(pid, 0)
    assert os.read(read, 2) == b"ok"
    publisher.stop()


def test_a_normal_exit_flushes_the_queue(tmp_path: Path):
    """A management command that transitions orders and exits right away
    still hands its ids to the broker (atexit)."""
    out = tmp_path / "published.txt"
    script = f"""
import time
from django_order_mail.outbox.publisher import BackgroundPublisher, atexit
def slow(ids, countdown):
    time.sleep(0.2)
    with open({str(out)!r}, "a") as f:
        f.write(",".join(map(str, ids)) + "\\n")
p = BackgroundPublisher(slow, linger=0.0)
atexit.register(p.stop)
p.submit([7, 8])
"""
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "tests.settings"}
    subprocess.run([sys.executable, "-c", script], check=True, env=env, timeout=60)
    assert out.read_text() == "7,8\n"


@pytest.mark.django_db(transaction=True)
def test_a_transition_is_published_after_commit_in_the_background(order, monkeypatch, mail_settings):
    mail_settings(PUBLISH_IN_BACKGROUND=True)
    seen = []
    main = threading.current_thread().name

    def publish(ids, countdown=None):
        # The row is committed when the broker hears of it.
        seen.append((ids, OutboxEmail.objects.filter(pk__in=ids, status=Status.QUEUED).count()))
        seen.append(threading.current_thread().name)
        connections.close_all()  # this thread's, opened by the line above (the real publish opens none)
        return len(ids)

    monkeypatch.setattr(enqueue_module, "publish", publish)
    order.confirm_payment()
    order.save()
    from django_order_mail.outbox.publisher import publisher

    assert publisher.flush(5)
    row = OutboxEmail.objects.get()
    assert seen == [([row.pk], 1), "order-mail-publisher"]
    assert main != "order-mail-publisher"
