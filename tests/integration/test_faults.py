"""Fault injection on real services: what the fake ESP accepted per idempotency key.

Each test breaks one thing while orders move - the broker, the worker, the
ESP, the database connections, or several processes racing for the same
orders - then lets the system recover the way production would (the worker
keeps running, the periodic sweep re-drives what is left) and counts:

* **lost**: a key the ESP never accepted. Must be zero, always.
* **duplicates**: extra acceptances of a key. Possible only in the one
  documented window (the ESP accepted, the worker died before recording);
  each test that can open the window counts the rows that were caught in it
  and asserts ``duplicates <= in_window``. The others assert zero.

Sizes are small for CI (the file runs well under three minutes);
``ORDER_MAIL_FAULT_SCALE=10`` multiplies them, and
``ORDER_MAIL_FAULT_REPORT=path.jsonl`` appends each test's figures there
(``bench/run.py --faults`` uses both for docs/reliability.md).
"""

from __future__ import annotations

import os
import random
import re
import signal
import subprocess
import sys
import time
from collections import Counter, defaultdict
from itertools import pairwise

import pytest
from django.db import connection

from django_order_mail.conf import get_setting
from django_order_mail.models import Shipment
from django_order_mail.outbox.models import EmailLog, OutboxEmail, Status
from tests.integration.conftest import ROOT, CeleryWorker, wait_until
from tests.integration.fault_settings import ANYMAIL as FAULT_ANYMAIL
from tests.integration.fault_settings import FAULT_QUEUE
from tests.integration.fault_tools import (
    active,
    assert_all_sent,
    confirm,
    make_orders,
    recover,
    report,
    scaled,
    tally,
    wait_for_accepted,
)
from tests.testapp.models import Order

WORKER_APP_NAME = "order-mail-fault-worker"
TIMEOUT = FAULT_ANYMAIL["REQUESTS_TIMEOUT"]


# -- fixtures -----------------------------------------------------------------
@pytest.fixture(scope="module")
def fault_worker_process(redis_server, fake_esp_server, django_db_setup):
    worker = CeleryWorker(
        connection.settings_dict["NAME"],
        name="faults",
        settings_module="tests.integration.fault_settings",
        queues=FAULT_QUEUE,
        env={"ORDER_MAIL_FAULT_APP_NAME": WORKER_APP_NAME},
    )
    worker.start()
    yield worker
    worker.stop()


@pytest.fixture
def fault_worker(fault_worker_process, transactional_db, settings):
    """The fault worker, consuming its own queue; this process publishes there too."""
    settings.ORDER_MAIL = {**settings.ORDER_MAIL, "CELERY_QUEUE": FAULT_QUEUE}
    fault_worker_process.ensure_running()  # a process manager restarts a worker that gave up
    yield fault_worker_process
    fault_worker_process.ensure_running()


# -- the faults ---------------------------------------------------------------
def test_redis_outage_during_transitions_loses_nothing(fault_worker, fake_esp, redis_server):
    n = scaled(150, 6)
    orders = make_orders(n)
    down, up = n // 3, 2 * n // 3
    started = time.monotonic()
    try:
        for i, order in enumerate(orders):
            if i == down:
                redis_server.stop()
                outage_started = time.monotonic()
            if i == up:
                # Long enough for the worker to notice and have to reconnect.
                time.sleep(max(0.0, 3.0 - (time.monotonic() - outage_started)))
                outage = time.monotonic() - outage_started
                redis_server.start()
            confirm(order)  # publishing fails during the outage; the order still moves
    finally:
        if redis_server.proc is None:
            redis_server.start()
    transitions = time.monotonic() - started
    assert Order.objects.filter(state="awaiting_shipment").count() == n
    assert OutboxEmail.objects.count() == n
    recovered = recover(fake_esp)
    result = tally(fake_esp)
    report(
        "redis_outage",
        transitions=n,
        during_outage=up - down,
        outage_seconds=round(outage, 1),
        transitions_seconds=round(transitions, 1),
        **recovered,
        **result,
    )
    assert_all_sent(result)
    assert result["duplicates"] == 0 and recovered["in_window"] == 0  # nobody died mid-send


def _kill_child(worker) -> bool:
    """SIGKILL one pool process, as the OOM killer would; the worker replaces it."""
    for _ in range(50):
        children = worker.pool_pids()
        if children:
            os.kill(random.choice(children), signal.SIGKILL)
            return True
        time.sleep(0.1)
    return False


def test_worker_sigkilled_repeatedly_loses_nothing(fault_worker, fake_esp):
    n, kills = scaled(300, 20), scaled(4, 2)
    # A real ESP takes tens of milliseconds to answer; without that, batched
    # workers send all 300 before the second kill and nothing is killed mid-run.
    fake_esp.latency = 0.05
    orders = make_orders(n)
    for order in orders:
        confirm(order)
    done = []
    in_window = 0
    for k in range(kills):
        threshold = n * (k + 1) // (kills + 2)
        # Kill mid-run: past the threshold, and only once the (restarted)
        # pool is sending again. A killed worker takes its claimed batch and
        # its prefetched (unacknowledged) messages with it; those rows come
        # back only through the sweep, which runs here whenever sending
        # stalls, as beat would run it.
        target = max(threshold, len(fake_esp.accepted) + 1)
        in_window += wait_for_accepted(fake_esp, target, worker=fault_worker)
        if k % 2 and _kill_child(fault_worker):
            done.append("child")
        else:
            fault_worker.kill()  # the whole worker: main process and pool
            fault_worker.start()
            done.append("worker")
    recovered = recover(fake_esp, worker=fault_worker)
    recovered["in_window"] += in_window
    result = tally(fake_esp)
    report("worker_sigkill", transitions=n, kills=done, **recovered, **result)
    assert_all_sent(result)
    assert result["duplicates"] <= recovered["in_window"]


def test_waiting_for_sends_ends_when_nothing_is_left_to_send(fake_esp, transactional_db):
    """The fault tests wait for "n more emails accepted" before each fault;
    when every email was already accepted (a fast machine, or a slow one
    that caught up) that wait must end by itself, not time out."""
    assert not OutboxEmail.objects.exists()
    assert wait_for_accepted(fake_esp, len(fake_esp.accepted) + 1, timeout=10) == 0


def _terminate_worker_connections() -> int:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
            " WHERE datname = current_database() AND application_name = %s",
            [WORKER_APP_NAME],
        )
        return cursor.fetchone()[0]


def test_postgres_connections_dropped_mid_run_lose_nothing(fault_worker, fake_esp):
    n, drops = scaled(300, 20), scaled(6, 2)
    fake_esp.latency = 0.02  # a real ESP's answer takes a while: drops land mid-run
    orders = make_orders(n)
    for order in orders:
        confirm(order)
    terminated = in_window = 0
    for k in range(drops):
        threshold = n * (k + 1) // (drops + 2)
        in_window += wait_for_accepted(fake_esp, threshold, worker=fault_worker)
        for _ in range(50):  # catch the worker while it holds a connection
            hit = _terminate_worker_connections()
            if hit:
                terminated += hit
                break
            time.sleep(0.01)
    recovered = recover(fake_esp, worker=fault_worker)
    recovered["in_window"] += in_window
    result = tally(fake_esp)
    report("postgres_dropped", transitions=n, connections_terminated=terminated, **recovered, **result)
    assert terminated >= 1, "the test never caught a worker connection"
    assert_all_sent(result)
    assert result["duplicates"] <= recovered["in_window"]


def _backoff_bounds(attempt: int, outcome) -> tuple[float, float]:
    """Smallest and largest delay retry_delay() allows after failed ``attempt``."""
    base, cap = get_setting("RETRY_BACKOFF_BASE"), get_setting("RETRY_BACKOFF_MAX")
    delay = min(cap, base * 2 ** (attempt - 1))
    low, high = delay / 2, delay
    if outcome == 429:  # the fake ESP sends Retry-After: 1
        low, high = max(low, min(cap, 1.0)), max(high, min(cap, 1.0))
    return low, high


def test_esp_failing_ten_percent_delivers_everything_with_backoff(fault_worker, fake_esp):
    n = scaled(200, 20)
    fake_esp.slow_seconds = TIMEOUT + 1.5  # slower than Anymail waits
    fake_esp.fail_randomly(0.10, (500, 429, "slow"), seed=7)
    for order in make_orders(n):
        confirm(order)
    wait_until(lambda: not active(), timeout=150, interval=0.25, what="every email final")
    result = tally(fake_esp)

    per_email = defaultdict(list)
    for at, outbox_id, outcome in fake_esp.attempts:
        per_email[outbox_id].append((at, outcome))
    failures = Counter(outcome for _at, _id, outcome in fake_esp.attempts if outcome != "ok")
    gaps, slack = [], []
    for outbox_id, attempts in per_email.items():
        attempts.sort()
        for number, ((at, outcome), (next_at, _)) in enumerate(pairwise(attempts), start=1):
            assert outcome != "ok", "a message the ESP accepted was sent again"
            low, _high = _backoff_bounds(number, outcome)
            waited = TIMEOUT if outcome == "slow" else 0.0  # the failure shows only after the timeout
            gaps.append(next_at - at)
            slack.append(next_at - at - low - waited)
            # No upper bound: a retry's countdown is a minimum, and behind a
            # backlog the message waits its turn in the queue.
            assert slack[-1] >= -0.05, (outbox_id, number, outcome, next_at - at)
    # The send log tells the same story: one "retry in Ns" line per failed
    # attempt with N inside the backoff range, and the next outcome no
    # earlier than the backoff allowed.
    rows = {r.pk: r for r in OutboxEmail.objects.all()}
    for outbox_id, attempts in per_email.items():
        assert rows[outbox_id].attempts == len(attempts)
        logs = list(EmailLog.objects.filter(email_id=outbox_id).order_by("created_at", "id"))
        retries = [log for log in logs if log.status == Status.QUEUED and "retry in" in log.message]
        assert len(retries) == len(attempts) - 1
        for number, (log, following) in enumerate(pairwise(logs), start=1):
            if log in retries:
                low, high = _backoff_bounds(number, attempts[number - 1][1])
                said = float(re.search(r"retry in (\d+)s", log.message).group(1))  # rounded to 1 s
                assert low - 0.5 <= said <= high + 0.5, log.message
                # The log line is written a moment after send_after was set; the
                # ESP-side check above is the exact one.
                assert (following.created_at - log.created_at).total_seconds() >= low - 0.25
    report(
        "esp_failures",
        transitions=n,
        requests=len(fake_esp.attempts),
        failures=dict(failures),
        timed_out=fake_esp.timed_out,
        retried_emails=sum(len(a) > 1 for a in per_email.values()),
        max_attempts=max(len(a) for a in per_email.values()),
        gap_seconds=[round(min(gaps), 2), round(max(gaps), 2)] if gaps else None,
        least_slack=round(min(slack), 2) if slack else None,
        **result,
    )
    assert sum(failures.values()) >= 1, "no failure was injected"
    assert_all_sent(result)
    assert result["duplicates"] == 0


RACER = r"""
import sys
import django
django.setup()
import tests.integration.celery_app  # noqa: F401 - the shop's Celery app
from django.db import transaction
from django_fsm import ConcurrentTransition
from django_order_mail.models import Shipment
from tests.testapp.models import Order

pairs = [tuple(map(int, p.split(":"))) for p in sys.argv[1:]]
orders = [(Order.objects.get(pk=o), Shipment.objects.get(pk=s)) for o, s in pairs]
print("ready", flush=True)
sys.stdin.readline()  # every process holds stale copies; now all go at once
for order, shipment in orders:
    try:
        with transaction.atomic():
            order.confirm_payment()
            order.save()
        print("won", order.pk, flush=True)
    except ConcurrentTransition:
        print("lost", order.pk, flush=True)
    order.notify_shipping_update(shipment)  # no state guards it: the unique key must
print("done", flush=True)
"""


def test_many_processes_moving_the_same_orders_send_one_email_per_key(fault_worker, fake_esp):
    n, processes = scaled(30, 5), 4
    orders = make_orders(n)
    shipments = [
        Shipment.objects.create(order=o, carrier="dhl", tracking_number=f"JD0{o.pk:09d}") for o in orders
    ]
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.integration.fault_settings",
        "ORDER_MAIL_WORKER_DB": connection.settings_dict["NAME"],
        "PYTHONPATH": str(ROOT),
    }
    args = [f"{o.pk}:{s.pk}" for o, s in zip(orders, shipments, strict=True)]
    racers = [
        subprocess.Popen(
            [sys.executable, "-c", RACER, *args],
            cwd=ROOT,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(processes)
    ]
    for racer in racers:  # barrier: everyone has loaded the orders
        line = racer.stdout.readline().strip()
        assert line == "ready", line + racer.stderr.read()
    for racer in racers:
        racer.stdin.write("go\n")
        racer.stdin.flush()
    lines = []
    for racer in racers:
        out, err = racer.communicate(timeout=120)
        assert racer.returncode == 0, err
        lines.extend(out.split())
    outcomes = Counter(token for token in lines if token in ("won", "lost"))
    assert outcomes == {"won": n, "lost": n * (processes - 1)}, outcomes
    wait_until(lambda: not active(), timeout=120, interval=0.25, what="every email final")
    result = tally(fake_esp)
    events = Counter(OutboxEmail.objects.values_list("event", flat=True))
    report("concurrent_transitions", orders=n, processes=processes, **result)
    assert events == {"order_confirmation": n, "shipping_update": n}
    assert_all_sent(result)
    assert result["duplicates"] == 0
