"""Two real processes move the same orders at the same instant: one email per
idempotency key, whichever process wins."""

from __future__ import annotations

import os
import subprocess
import sys

from django.db import connection, transaction

from django_order_mail.outbox.models import OutboxEmail, Status
from tests.factories import OrderFactory
from tests.integration.conftest import ROOT, wait_until

RACER = r"""
import sys
import django
django.setup()
import tests.integration.celery_app  # the shop's Celery app, as in its project __init__
from django.db import transaction
from django_fsm import ConcurrentTransition
from django_order_mail.models import Shipment
from tests.testapp.models import Order

action = sys.argv[1]
pairs = [tuple(map(int, p.split(":"))) for p in sys.argv[2:]]
orders = [(Order.objects.get(pk=o), Shipment.objects.get(pk=s)) for o, s in pairs]
print("ready", flush=True)
sys.stdin.readline()  # both processes hold stale copies; now go at once
for order, shipment in orders:
    try:
        with transaction.atomic():
            if action == "ship":
                order.ship(shipment)
                order.save()
            else:
                order.notify_shipping_update(shipment)
        print("won", order.pk, flush=True)
    except ConcurrentTransition:
        print("lost", order.pk, flush=True)
"""


def race(action: str, pairs: list[tuple[int, int]]) -> list[str]:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.integration.settings",
        "ORDER_MAIL_WORKER_DB": connection.settings_dict["NAME"],
        "PYTHONPATH": str(ROOT),
    }
    args = [f"{o}:{s}" for o, s in pairs]
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", RACER, action, *args],
            cwd=ROOT,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    for proc in procs:  # barrier: both processes have loaded the orders
        line = proc.stdout.readline().strip()
        assert line == "ready", line + proc.stderr.read()
    for proc in procs:
        proc.stdin.write("go\n")
        proc.stdin.flush()
    outputs = []
    for proc in procs:
        out, err = proc.communicate(timeout=60)
        assert proc.returncode == 0, err
        outputs.extend(out.split("\n"))
    return [line for line in outputs if line]


def paid_orders_with_shipments(n):
    pairs = []
    for _ in range(n):
        order = OrderFactory()
        with transaction.atomic():
            order.confirm_payment(notify=False)
            order.save()
        pairs.append((order.pk, order.add_shipment("dhl", f"JD0{order.pk:09d}").pk))
    return pairs


def test_two_processes_shipping_the_same_orders_send_one_email_each(worker, fake_esp):
    pairs = paid_orders_with_shipments(5)
    results = race("ship", pairs)
    for order_id, _ in pairs:
        outcomes = sorted(r.split()[0] for r in results if r.endswith(f" {order_id}"))
        assert outcomes == ["lost", "won"], results  # ConcurrentTransition stopped one
    wait_until(
        lambda: not OutboxEmail.objects.filter(status__in=(Status.QUEUED, Status.SENDING)).exists(),
        what="shipping emails sent",
    )
    shipping = OutboxEmail.objects.filter(event="shipping_confirmation")
    assert shipping.count() == 5
    assert set(shipping.values_list("status", flat=True)) == {Status.SENT}
    assert sorted(fake_esp.accepted_by_outbox_id().values()) == [1] * 5


def test_the_unique_key_is_the_last_line_of_defence(worker, fake_esp):
    """Notifications that no FSM state guards: both processes "win", the
    unique idempotency key still lets only one row - and one email - exist."""
    pairs = paid_orders_with_shipments(5)
    results = race("update", pairs)
    assert sum(r.startswith("won") for r in results) == 10
    wait_until(
        lambda: not OutboxEmail.objects.filter(status__in=(Status.QUEUED, Status.SENDING)).exists(),
        what="shipping updates sent",
    )
    updates = OutboxEmail.objects.filter(event="shipping_update")
    assert updates.count() == 5
    assert sorted(fake_esp.accepted_by_outbox_id().values()) == [1] * 5
