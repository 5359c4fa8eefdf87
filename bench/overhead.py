"""Transition overhead: ``confirm_payment()`` + ``save()`` in one transaction,
with ``ORDER_MAIL["ENABLED"]`` True (the outbox row is written and published
to Redis after commit) against False (the same transition, no email).

Blocks of each mode alternate so drift (autovacuum, other load) hits both
alike; the figure is the ratio of the medians. The breakdown times the
parts of the difference on their own, each in a transaction that is rolled
back: the ``INSERT ... RETURNING`` statement alone (the floor of any
outbox: the row must be written in the order's transaction), all of
``enqueue()`` (building the row, the hooks, the insert), the on-commit
hand-off to the background publisher, and — paid by the publisher thread,
not the request — publishing to Redis.

Beside it, in the same alternating blocks, django-post-office's cost in the
same transaction (order-mail off): ``mail.send()`` of content rendered
beforehand (outside the timed transaction), and ``mail.send()`` with the
rendering inside the transaction, its usual pattern (a template, or
``render_to_string`` before ``mail.send``: here the same templates and
css-inline order-mail renders with, as in the throughput bench). Each is
compared with mail off.
"""

from __future__ import annotations

import contextlib
import statistics
import time

from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from .common import confirm, mail_enabled, make_orders

#: The modes timed in alternating blocks: order-mail on and off, on without
#: the feature apps' ``email_queued`` receivers (the core's own cost), and
#: post_office's ``mail.send()`` in the transaction with order-mail off.
MODES = ("off", "on", "on_core", "po_prerendered", "po_render")

#: The feature apps' receivers of ``email_queued`` (they run in the order's
#: transaction): dispatch_uid -> (module, function, what it does).
FEATURE_RECEIVERS = {
    "order_mail_tracking.attribution": (
        "django_order_mail.tracking.attribution",
        "credit_placed_order",
        "the tracking app's revenue attribution",
    ),
    "order_mail_recommendations.learn": (
        "django_order_mail.recommendations.learning",
        "learn_placed_order",
        "the recommendations app's learning",
    ),
}


@contextlib.contextmanager
def _without_receivers(uids):
    """``email_queued`` without the feature apps' receivers ``uids``
    (those of apps that are installed), reconnected afterwards."""
    import importlib

    from django_order_mail.signals import email_queued

    gone = []
    for uid in uids:
        module, name, _what = FEATURE_RECEIVERS[uid]
        if email_queued.disconnect(dispatch_uid=uid):
            gone.append((uid, getattr(importlib.import_module(module), name)))
    try:
        yield [uid for uid, _receiver in gone]
    finally:
        for uid, receiver in gone:
            email_queued.connect(receiver, dispatch_uid=uid)


def _extra(mode: str, orders):
    """What runs inside the transaction besides the transition (None: nothing)."""
    from .throughput import queue_post_office, render_for_post_office

    if mode == "po_prerendered":
        rendered = {o.number: render_for_post_office(o) for o in orders}  # before, not timed
        return lambda o: queue_post_office(o, rendered[o.number])
    if mode == "po_render":
        return lambda o: queue_post_office(o, render_for_post_office(o))
    return None


def _timed(orders, mode: str) -> list[float]:
    extra = _extra(mode, orders)
    times = []
    receivers = list(FEATURE_RECEIVERS) if mode == "on_core" else []
    with mail_enabled(mode in ("on", "on_core")), _without_receivers(receivers):
        for order in orders:
            start = time.perf_counter()
            confirm(order, extra=extra)
            times.append(time.perf_counter() - start)
    return times


def _queries(order, mode: str) -> list[str]:
    extra = _extra(mode, [order])
    receivers = list(FEATURE_RECEIVERS) if mode == "on_core" else []
    with (
        mail_enabled(mode in ("on", "on_core")),
        _without_receivers(receivers),
        CaptureQueriesContext(connection) as captured,
    ):
        confirm(order, extra=extra)
    return [q["sql"] for q in captured.captured_queries]


def _pending(order) -> list:
    """The emails ``confirm_payment()`` queues for ``order`` (the customer's
    and the staff's), without saving it."""
    order.confirm_payment()
    pending = list(order.__dict__.get("_order_mail_pending") or [])
    order.discard_pending_mail()
    return pending


def _rolled_back(fn) -> float:
    with transaction.atomic():
        start = time.perf_counter()
        fn()
        elapsed = time.perf_counter() - start
        transaction.set_rollback(True)
    return elapsed


def _breakdown(orders) -> dict:
    """Median ms of each part of the difference, timed alone, each in a
    transaction that is rolled back: the outbox ``INSERT``; all of
    ``enqueue()`` for what ``confirm_payment()`` queues; the same without
    each feature app's ``email_queued`` receiver; without the staff
    notifications' lookup too (only the customer's email); the hand-off."""
    from django.db import router

    from django_order_mail.events import INTERNAL_EVENTS
    from django_order_mail.outbox.enqueue import PendingMail, enqueue, hand_off, publish
    from django_order_mail.outbox.insert import insert_returning
    from django_order_mail.outbox.publisher import publisher

    times: dict[str, list[float]] = {
        "insert_ms": [],
        "enqueue_ms": [],
        "core_enqueue_ms": [],
        "customer_enqueue_ms": [],
        "handoff_ms": [],
        "publish_ms": [],
        **{f"without:{uid}": [] for uid in FEATURE_RECEIVERS},
    }
    using = router.db_for_write(type(orders[0]))
    installed = []
    for order in orders:
        pending = _pending(order)
        customer = [mail for mail in pending if mail.event not in INTERNAL_EVENTS]
        with transaction.atomic():
            [row] = enqueue(order, [PendingMail("order_confirmation", discriminator="b")])
            row.pk, row.idempotency_key = None, row.idempotency_key + ":again"
            start = time.perf_counter()
            insert_returning([row], using)
            times["insert_ms"].append(time.perf_counter() - start)
            transaction.set_rollback(True)
        times["enqueue_ms"].append(_rolled_back(lambda o=order, p=pending: enqueue(o, p)))
        for uid in FEATURE_RECEIVERS:
            with _without_receivers([uid]) as gone:
                if gone:
                    times[f"without:{uid}"].append(_rolled_back(lambda o=order, p=pending: enqueue(o, p)))
        with _without_receivers(list(FEATURE_RECEIVERS)) as gone:
            installed = gone
            times["core_enqueue_ms"].append(_rolled_back(lambda o=order, p=pending: enqueue(o, p)))
            times["customer_enqueue_ms"].append(_rolled_back(lambda o=order, p=customer: enqueue(o, p)))
        start = time.perf_counter()
        hand_off([row.pk or 0])
        times["handoff_ms"].append(time.perf_counter() - start)
        start = time.perf_counter()
        publish([row.pk or 0])
        times["publish_ms"].append(time.perf_counter() - start)
    publisher.flush(10)
    medians = {key: statistics.median(values) * 1000 for key, values in times.items() if values}
    receivers = {
        FEATURE_RECEIVERS[uid][2]: medians["enqueue_ms"] - medians[f"without:{uid}"]
        for uid in installed
        if f"without:{uid}" in medians
    }
    result = {key: value for key, value in medians.items() if not key.startswith("without:")}
    result["receivers_ms"] = receivers
    result["staff_lookup_ms"] = medians["core_enqueue_ms"] - medians["customer_enqueue_ms"]
    return result


def run(n: int, redis, log) -> dict:
    from post_office.models import Email

    from django_order_mail.outbox.models import OutboxEmail

    blocks = 10
    per_block = max(1, n // (2 * blocks))
    orders = make_orders("OV", len(MODES) * blocks * per_block + 20 * len(MODES) + len(MODES))
    warm, rest = orders[: 20 * len(MODES)], orders[20 * len(MODES) :]
    for i, mode in enumerate(MODES):
        _timed(warm[20 * i : 20 * (i + 1)], mode)
    times: dict[str, list[float]] = {mode: [] for mode in MODES}
    block_ratios: dict[str, list[float]] = {mode: [] for mode in MODES if mode != "off"}
    for b in range(blocks):
        chunk = rest[len(MODES) * b * per_block : len(MODES) * (b + 1) * per_block]
        # Each block runs every mode once, in an order rotated block by block.
        order = MODES[b % len(MODES) :] + MODES[: b % len(MODES)]
        medians = {}
        for i, mode in enumerate(order):
            block = _timed(chunk[i * per_block : (i + 1) * per_block], mode)
            times[mode] += block
            medians[mode] = statistics.median(block)
        for mode in block_ratios:
            block_ratios[mode].append(medians[mode] / medians["off"])
    spare = rest[len(MODES) * blocks * per_block :]
    queries = {mode: _queries(spare[i], mode) for i, mode in enumerate(MODES)}

    breakdown = _breakdown(make_orders("OB", 300))
    redis.flush()  # nobody consumes these messages
    OutboxEmail.objects.all().delete()
    Email.objects.all().delete()

    med = {mode: statistics.median(values) for mode, values in times.items()}
    on, off = times["on"], times["off"]
    result = {
        "n_each": len(on),
        "blocks": blocks,
        "enabled_ms": med["on"] * 1000,
        "disabled_ms": med["off"] * 1000,
        "ratio": med["on"] / med["off"],
        "extra_ms": (med["on"] - med["off"]) * 1000,
        "enabled_mean_ms": statistics.fmean(on) * 1000,
        "disabled_mean_ms": statistics.fmean(off) * 1000,
        "queries_enabled": len(queries["on"]),
        "queries_disabled": len(queries["off"]),
        "sql_enabled": [q[:120] for q in queries["on"]],
        "post_office": {
            mode: {
                "median_ms": med[mode] * 1000,
                "mean_ms": statistics.fmean(times[mode]) * 1000,
                "ratio": med[mode] / med["off"],
                "extra_ms": (med[mode] - med["off"]) * 1000,
                "queries": len(queries[mode]),
                "block_ratios": block_ratios[mode],
                "sql": [q[:120] for q in queries[mode]],
            }
            for mode in ("po_prerendered", "po_render")
        },
        "block_ratios": block_ratios["on"],
        "core": {
            "median_ms": med["on_core"] * 1000,
            "mean_ms": statistics.fmean(times["on_core"]) * 1000,
            "ratio": med["on_core"] / med["off"],
            "extra_ms": (med["on_core"] - med["off"]) * 1000,
            "queries": len(queries["on_core"]),
            "block_ratios": block_ratios["on_core"],
        },
        **breakdown,
    }
    po = result["post_office"]
    log(
        f"  enabled {result['enabled_ms']:.2f} ms, disabled {result['disabled_ms']:.2f} ms, "
        f"ratio {result['ratio']:.2f}x "
        f"({result['queries_enabled']} vs {result['queries_disabled']} queries); "
        f"post_office mail.send() pre-rendered {po['po_prerendered']['median_ms']:.2f} ms "
        f"({po['po_prerendered']['ratio']:.2f}x), rendering inside {po['po_render']['median_ms']:.2f} ms "
        f"({po['po_render']['ratio']:.2f}x)"
    )
    return result
