"""End to end: orders transitioned -> emails rendered -> accepted by the fake ESP.

Three ways to load each system, each run for django-order-mail (outbox rows,
celery workers) and for django-post-office (its ``Email`` queue and
``send_queued``), same orders, same rendered content, same fake ESP:

* **burst** - one producer process (a web worker) transitions N orders as
  fast as it can while delivery runs: the time from the first commit to the
  last ESP acceptance, emails/s, and commit -> acceptance latency. Both
  systems render each email once: order-mail in the worker, post_office in
  the producer before ``mail.send`` (a post_office shop renders when it
  queues).
* **drain** - N emails already committed, then the senders start: pure
  delivery rate from the first to the last acceptance. post_office's rows
  hold pre-rendered content here, order-mail still renders in the worker.
* **paced** - a steady rate well below both systems' capacity: the latency a
  customer sees when nothing is backed up.
"""

from __future__ import annotations

import time

from django.db import connection

from .common import confirm, mail_enabled, make_orders, summary
from .machine import busy_cpu_seconds
from .services import PostOfficeSender, Worker, cpu_seconds, wait_until


def _clear_queues() -> None:
    from post_office.models import Email

    from django_order_mail.outbox.models import OutboxEmail

    OutboxEmail.objects.all().delete()
    Email.objects.all().delete()


def _wait_accepted(esp, n: int, timeout: float, what: str) -> None:
    wait_until(lambda: esp.accepted() >= n, timeout=timeout, interval=0.2, what=what)


def _result(esp, stamps: dict, n: int, t0_cpu: float, wall: float) -> dict:
    records = esp.records()
    accepted = {}
    for key, at, _digest in records:
        accepted.setdefault(key, at)
    keys = list(stamps)
    missing = [k for k in keys if k not in accepted]
    latencies = [accepted[k] - stamps[k] for k in keys if k in accepted]
    start = min(stamps.values()) if stamps else min(at for _k, at, _d in records)
    end = max(at for _k, at, _d in records)
    first_accept = min(at for _k, at, _d in records)
    return {
        "n": n,
        "accepted": len(records),
        "distinct": len(accepted),
        "missing": len(missing),
        "seconds": end - start,
        "per_second": n / (end - start) if end > start else float("nan"),
        "delivery_per_second": (n - 1) / (end - first_accept) if end > first_accept else float("nan"),
        "latency": summary(latencies),
        "esp_cpu_share": (esp.stats()["cpu_seconds"] - t0_cpu) / wall if wall else 0.0,
        "digests": {k: d for k, _at, d in records},
    }


def render_for_post_office(order):
    """The email order-mail would send for ``order``'s confirmation, rendered
    by the same code (templates + css-inline), for post_office to carry."""
    from django_order_mail.rendering.context import build_context
    from django_order_mail.rendering.render import render_event

    context = build_context(order, "order_confirmation")
    return render_event(
        "order_confirmation", context, language=order.get_mail_language(), channel=order.get_mail_channel()
    )


def queue_post_office(order, rendered) -> None:
    from post_office import mail

    from django_order_mail.rendering.branding import from_email

    mail.send(
        recipients=[order.email],
        sender=from_email(),
        subject=rendered.subject,
        message=rendered.text,
        html_message=rendered.html,
        headers={"X-Bench-Order": order.number},
        priority="medium",
    )


def _produce(orders, system: str, stamps: dict, rate: float | None = None, prerendered=None) -> None:
    t0 = time.perf_counter()
    for i, order in enumerate(orders):
        if rate:
            delay = t0 + i / rate - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
        if system == "order_mail":
            confirm(order, stamps)
        else:
            with mail_enabled(False):
                if prerendered is not None:
                    confirm(order, stamps, extra=lambda o: queue_post_office(o, prerendered[o.number]))
                else:
                    confirm(order, stamps, extra=lambda o: queue_post_office(o, render_for_post_office(o)))


def _start(system: str, concurrency: int, po_processes: int):
    sender = Worker(concurrency) if system == "order_mail" else PostOfficeSender(po_processes)
    sender.start()
    return sender


def run_mode(mode, system, n, esp, prefix, *, concurrency, po_processes, rate=None, timeout=900) -> dict:
    """One measurement: ``mode`` in burst / drain / paced, ``system`` in
    order_mail / post_office."""
    _clear_queues()
    orders = make_orders(prefix, n)
    connection.close()  # a fresh connection, as a web process would have
    esp.reset()
    stamps: dict = {}
    if mode == "drain":
        prerendered = None
        if system == "post_office":
            prerendered = {o.number: render_for_post_office(o) for o in orders}
        _produce(orders, system, {}, prerendered=prerendered)
        stamps = {}
        t_cpu, t_wall, busy0 = esp.stats()["cpu_seconds"], time.time(), busy_cpu_seconds()
        sender = _start(system, concurrency, po_processes)
    else:
        sender = _start(system, concurrency, po_processes)
        t_cpu, t_wall, busy0 = esp.stats()["cpu_seconds"], time.time(), busy_cpu_seconds()
        _produce(orders, system, stamps, rate=rate)
    try:
        _wait_accepted(esp, n, timeout, f"{system} {mode}: {n} emails at the ESP")
        busy = busy_cpu_seconds() - busy0
    finally:
        pool = sender.pool_pids() if isinstance(sender, Worker) else []
        sender_cpu = sum(cpu_seconds(p) for p in pool)
        sender.stop()
    result = _result(esp, stamps, n, t_cpu, time.time() - t_wall)
    # CPU time of the whole machine (producer, senders, PostgreSQL, Redis,
    # ESP) per email; for drain runs from the senders' start.
    result.update(
        mode=mode, system=system, rate=rate, sender_cpu=sender_cpu, cpu_ms_per_email=busy / n * 1000
    )
    return result


def compare(n: int, esp, *, concurrency: int, po_processes: int, paced_n: int, log) -> dict:
    """All three modes for both systems; returns the raw results."""
    results = {}
    for mode in ("burst", "drain"):
        for system in ("order_mail", "post_office"):
            prefix = f"{mode[0].upper()}{system[0].upper()}"
            log(f"  {mode:5s} {system:11s} n={n} ...")
            res = run_mode(mode, system, n, esp, prefix, concurrency=concurrency, po_processes=po_processes)
            log(
                f"    {res['per_second']:.1f} emails/s (delivery {res['delivery_per_second']:.1f}/s), "
                f"p50 {res['latency']['p50']:.2f}s p95 {res['latency']['p95']:.2f}s, missing {res['missing']}"
            )
            results[(mode, system)] = res
    # Paced at half of the slower burst rate: neither system is backed up.
    slower = min(results[("burst", s)]["per_second"] for s in ("order_mail", "post_office"))
    rate = max(1.0, round(slower * 0.5, 1))
    for system in ("order_mail", "post_office"):
        log(f"  paced {system:11s} n={paced_n} at {rate}/s ...")
        res = run_mode(
            "paced",
            system,
            paced_n,
            esp,
            f"P{system[0].upper()}",
            concurrency=concurrency,
            po_processes=po_processes,
            rate=rate,
        )
        log(f"    p50 {res['latency']['p50'] * 1000:.0f} ms p95 {res['latency']['p95'] * 1000:.0f} ms")
        results[("paced", system)] = res
    same = _same_content(results)
    for res in results.values():
        res.pop("digests", None)
    return {"results": results, "paced_rate": rate, "same_content": same}


def _same_content(results) -> dict:
    """Compare the HTML the ESP got from both systems for the same order
    (burst runs: order numbers differ only in their prefix)."""
    ours = results[("burst", "order_mail")]["digests"]
    theirs = results[("burst", "post_office")]["digests"]
    pairs = 0
    equal = 0
    for key, digest in ours.items():
        other = theirs.get("BP" + key[2:])
        if other is not None:
            pairs += 1
            equal += other == digest
    return {"pairs": pairs, "equal": equal}
