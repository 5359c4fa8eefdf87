"""Helpers of the fault-injection suite (tests/integration/test_faults.py):
bench orders, recovery the way production does it, and the per-key tally."""

from __future__ import annotations

import json
import os
import time
from collections import Counter
from datetime import timedelta
from decimal import Decimal

from django.db import transaction
from django.db.models import F

from django_order_mail.delivery.sweep import sweep
from django_order_mail.outbox.models import ACTIVE_STATUSES, OutboxEmail, Status
from tests.testapp.models import Order, OrderLine

SCALE = float(os.environ.get("ORDER_MAIL_FAULT_SCALE") or 1)
REPORT = os.environ.get("ORDER_MAIL_FAULT_REPORT")


def scaled(n: int, minimum: int = 1) -> int:
    return max(minimum, round(n * SCALE))


def make_orders(n: int) -> list[Order]:
    orders = Order.objects.bulk_create(
        [Order(number=f"F{i:07d}", email=f"fault{i}@example.com", customer_name="Tina") for i in range(n)]
    )
    OrderLine.objects.bulk_create(
        [OrderLine(order=o, name="Wool socks", quantity=2, unit_price=Decimal("12.50")) for o in orders]
    )
    return orders


def confirm(order) -> None:
    with transaction.atomic():
        order.confirm_payment()
        order.save()


def active() -> bool:
    return OutboxEmail.objects.filter(status__in=ACTIVE_STATUSES).exists()


def wait_quiet(esp, quiet: float = 1.0, timeout: float = 90.0) -> None:
    """Wait until no row changes status and the ESP sees no request for ``quiet`` s."""

    def snapshot():
        statuses = Counter(OutboxEmail.objects.values_list("status", flat=True))
        return tuple(sorted(statuses.items())), esp.requests

    last, since, deadline = snapshot(), time.monotonic(), time.monotonic() + timeout
    while time.monotonic() - since < quiet:
        if time.monotonic() > deadline:
            raise AssertionError(f"workers never went idle: {last}")
        time.sleep(0.1)
        current = snapshot()
        if current != last:
            last, since = current, time.monotonic()


def recover(esp, timeout: float = 120.0, worker=None) -> dict:
    """Let the sweep re-drive what the fault left behind, until every row is final.

    Once the workers are idle, a row still ``sending`` belongs to a dead
    worker and a ``queued`` one has no broker message left. Instead of
    waiting REQUEUE_AFTER / SENDING_TIMEOUT, their timestamps are moved an
    hour back (time travel) and the sweep runs. Returns how many rounds that
    took and how many orphaned rows the ESP had already accepted - the
    duplicate window. With ``worker``, a worker that gave up is restarted
    first, as its process manager would.
    """
    rounds = in_window = 0
    deadline = time.monotonic() + timeout
    while True:
        if worker is not None:
            worker.ensure_running()
        wait_quiet(esp)
        if not active():
            return {"sweep_rounds": rounds, "in_window": in_window}
        assert time.monotonic() < deadline, "rows still active after recovery"
        in_window += _sweep_with_time_travel(esp)
        rounds += 1


def wait_for_accepted(esp, target: int, timeout: float = 120.0, worker=None) -> int:
    """Wait until the ESP accepted ``target`` messages, running the sweep
    whenever sending stalls, as beat would: a killed worker (or one whose
    database connection died) leaves its claimed batch ``sending`` and takes
    its prefetched messages with it. Returns the rows caught in the window.

    Also returns once no row is left to send: on a fast machine every email
    may be accepted before the next fault, and waiting for more would never
    end (the fault is then injected into an idle worker, which is fine).

    With ``worker``, a worker that gave up is restarted when sending stalls,
    as its process manager would."""
    in_window = 0
    deadline = time.monotonic() + timeout
    while len(esp.accepted) < target and active():
        assert time.monotonic() < deadline, f"timed out waiting for {target} emails sent"
        before = len(esp.accepted)
        time.sleep(2)
        if len(esp.accepted) == before:
            if worker is not None:
                worker.ensure_running()
            in_window += redrive(esp)
    return in_window


def redrive(esp) -> int:
    """One sweep round once the workers are idle, as beat's sweep would do
    after REQUEUE_AFTER / SENDING_TIMEOUT (time travel again); returns the
    orphaned rows the ESP had already accepted (the duplicate window)."""
    wait_quiet(esp)
    return _sweep_with_time_travel(esp) if active() else 0


def _sweep_with_time_travel(esp) -> int:
    accepted = set(esp.accepted_by_outbox_id())
    orphans = set(OutboxEmail.objects.filter(status=Status.SENDING).values_list("pk", flat=True))
    hour = timedelta(hours=1)
    OutboxEmail.objects.filter(status__in=(Status.QUEUED, Status.SENDING)).update(
        enqueued_at=F("enqueued_at") - hour, claimed_at=F("claimed_at") - hour
    )
    sweep()
    return len(orphans & accepted)


def tally(esp) -> dict:
    """Per idempotency key: how often the ESP accepted it."""
    keys_by_id = dict(OutboxEmail.objects.values_list("pk", "idempotency_key"))
    per_key = esp.accepted_by_key(keys_by_id)
    expected = set(
        OutboxEmail.objects.exclude(status=Status.SKIPPED).values_list("idempotency_key", flat=True)
    )
    return {
        "emails": len(expected),
        "lost": sorted(k for k in expected if per_key[k] == 0),
        "duplicates": sum(count - 1 for count in per_key.values() if count > 1),
        "statuses": dict(Counter(OutboxEmail.objects.values_list("status", flat=True))),
    }


def report(name: str, **figures) -> None:
    line = {"test": name, "scale": SCALE, **figures}
    print(f"\n[fault] {json.dumps(line, default=str)}")
    if REPORT:
        with open(REPORT, "a") as fh:
            fh.write(json.dumps(line, default=str) + "\n")


def assert_all_sent(result: dict) -> None:
    assert result["lost"] == [], f"lost emails: {result['lost'][:20]}"
    assert result["statuses"] == {Status.SENT: result["emails"]}, result["statuses"]
