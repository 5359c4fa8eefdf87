"""End to end: orders transitioned -> emails rendered -> accepted by the fake ESP.

Each run is one system, one mode and one ESP latency (the fake ESP answers
every API call after that delay, as a real ESP does: ``bench/fast_esp.py``),
with the same orders, the same rendered content and the same fake ESP:

* **django-order-mail** at its defaults: outbox rows, ``celery worker
  --concurrency=<CPUs>`` (prefork, Celery's default), ``DELIVERY_CONCURRENCY``
  (8) sending threads per worker process, each with its kept-alive ESP
  connection; and, when the app has it (``django_order_mail.delivery.batch``),
  with ``ESP_BATCH_SEND`` on: one ``POST /email/batch`` per batch.
* **django-post-office** at its defaults (``send_queued_mail``'s one process,
  ``THREADS_PER_PROCESS`` 5, ``BATCH_SIZE`` 100) and at the best of its
  documented settings that ``bench/postoffice_grid.py`` found on this machine
  (``bench/results/postoffice_grid.json``), run by ``send_queued`` in a loop
  that polls every 50 ms (``bench/postoffice_loop.py``).

The modes:

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

CPU is counted per process tree from ``/proc/<pid>/stat`` (user + system,
live and reaped children): the producer (this process, with order-mail's
background publisher thread), the senders (the celery worker and its pool
processes; post_office's loop and the processes ``send_queued`` forks), and
apart from them the fake ESP, PostgreSQL (all its processes; the bench is its
only client) and Redis. Never the machine's busy time.

``python -m bench.throughput --latency 20,50 --orders 2000`` runs the
comparison alone (results in ``bench/results/throughput.json``; the page is
written by ``bench/run.py``).
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import itertools
import json
import time
from dataclasses import dataclass, field
from pathlib import Path

from django.db import connection

from .common import confirm, mail_enabled, make_orders, summary
from .machine import busy_cpu_seconds
from .services import (
    PostOfficeSender,
    Worker,
    children,
    cpu_seconds,
    postgres_cpu_seconds,
    self_cpu_seconds,
    tree_cpu_seconds,
    wait_until,
)

RESULTS = Path(__file__).resolve().parent / "results"
GRID_FILE = RESULTS / "postoffice_grid.json"
BATCH_MODULE = "django_order_mail.delivery.batch"

#: django-post-office's own defaults: ``send_queued_mail --processes`` 1,
#: ``THREADS_PER_PROCESS`` 5, ``BATCH_SIZE`` 100.
PO_DEFAULTS = {"processes": 1, "threads": 5, "batch_size": 100}


@dataclass
class System:
    key: str
    kind: str  # "order_mail" or "post_office"
    label: str
    concurrency: int = 2  # celery worker processes (order_mail)
    processes: int = 1  # send_queued(processes=...) (post_office)
    threads: int = PO_DEFAULTS["threads"]
    batch_size: int = PO_DEFAULTS["batch_size"]
    env: dict = field(default_factory=dict)
    publish_batch_size: int | None = None  # order_mail: ids per send_emails message, producer only

    def sender(self):
        if self.kind == "order_mail":
            return Worker(self.concurrency, env=self.env)
        env = {"BENCH_PO_THREADS": str(self.threads), "BENCH_PO_BATCH_SIZE": str(self.batch_size)}
        return PostOfficeSender(self.processes, env={**env, **self.env})

    def settings(self) -> dict:
        if self.kind == "order_mail":
            extra = {"ids_per_message": self.publish_batch_size} if self.publish_batch_size else {}
            return {"celery_concurrency": self.concurrency, **self.env, **extra}
        return {"processes": self.processes, "threads": self.threads, "batch_size": self.batch_size}


def order_mail(concurrency: int, batch: bool = False, batch_size: int | None = None) -> System:
    if batch_size:
        # The producer publishes batch_size ids per message (what a trickle
        # of orders gives the workers); the workers keep the app's defaults.
        return System(
            "order_mail_single",
            "order_mail",
            f"django-order-mail, {batch_size} id(s) per send_emails message",
            concurrency=concurrency,
            publish_batch_size=batch_size,
        )
    if batch:
        return System(
            "order_mail_batch",
            "order_mail",
            "django-order-mail, ESP_BATCH_SEND",
            concurrency=concurrency,
            env={"BENCH_ESP_BATCH_SEND": "1"},
        )
    return System("order_mail", "order_mail", "django-order-mail (defaults)", concurrency=concurrency)


def post_office_default() -> System:
    return System("post_office_default", "post_office", "django-post-office (defaults)", **_po(PO_DEFAULTS))


def post_office_best(mode: str) -> System:
    """post_office at the settings the grid picked for ``mode`` (burst and
    drain may differ: in a burst its producer needs the CPUs)."""
    return System(
        "post_office_best", "post_office", "django-post-office (best)", **_po(best_settings()[mode])
    )


def _po(settings: dict) -> dict:
    return {k: settings[k] for k in ("processes", "threads", "batch_size")}


def best_settings() -> dict:
    """The grid's pick per mode (``bench/results/postoffice_grid.json``),
    or its defaults if the grid never ran."""
    pick = json.loads(GRID_FILE.read_text())["pick"] if GRID_FILE.exists() else {}
    return {mode: pick.get(mode, dict(PO_DEFAULTS)) for mode in ("burst", "drain")}


def batch_unavailable() -> str | None:
    """Why order-mail's batch path cannot be measured, or None if it can."""
    if importlib.util.find_spec(BATCH_MODULE) is None:
        return (
            f"not measured: `{BATCH_MODULE}` does not exist yet (the optional "
            '`ORDER_MAIL["ESP_BATCH_SEND"]` path is being added)'
        )
    from django_order_mail.conf import known_defaults

    if "ESP_BATCH_SEND" not in known_defaults():
        return (
            f'not measured: `{BATCH_MODULE}` exists but `ORDER_MAIL["ESP_BATCH_SEND"]` is not a setting yet'
        )
    return None


def _clear_queues() -> None:
    from post_office.models import Email

    from django_order_mail.outbox.models import OutboxEmail

    OutboxEmail.objects.all().delete()
    Email.objects.all().delete()


def _recorded(kind: str) -> int:
    """Emails the system has recorded as sent in its own tables."""
    if kind == "order_mail":
        from django_order_mail.outbox.models import OutboxEmail, Status

        return OutboxEmail.objects.filter(status=Status.SENT).count()
    # The Log rows are written after the batch's status UPDATE, in their own
    # statement: the batch is recorded once they are there.
    from post_office.models import STATUS, Log

    return Log.objects.filter(status=STATUS.sent).count()


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


def _produce(orders, kind: str, stamps: dict, rate: float | None = None, prerendered=None) -> None:
    t0 = time.perf_counter()
    for i, order in enumerate(orders):
        if rate:
            delay = t0 + i / rate - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
        if kind == "order_mail":
            confirm(order, stamps)
        else:
            with mail_enabled(False):
                if prerendered is not None:
                    confirm(order, stamps, extra=lambda o: queue_post_office(o, prerendered[o.number]))
                else:
                    confirm(order, stamps, extra=lambda o: queue_post_office(o, render_for_post_office(o)))


class _Meter:
    """CPU seconds of each part, between :meth:`start` and :meth:`stop`."""

    def __init__(self, sender, esp, redis):
        self.sender, self.esp, self.redis = sender, esp, redis

    def read(self) -> dict:
        return {
            "producer": self_cpu_seconds(),
            "senders": tree_cpu_seconds(self.sender.proc.pid),
            "esp": self.esp.stats()["cpu_seconds"],
            "postgres": postgres_cpu_seconds(),
            "redis": cpu_seconds(self.redis.proc.pid) if self.redis and self.redis.proc else 0.0,
            "machine": busy_cpu_seconds(),
        }

    def start(self) -> None:
        self.t0 = self.read()

    def stop(self) -> dict:
        t1 = self.read()
        used = {k: t1[k] - self.t0[k] for k in t1}
        # Whatever else ran on the machine meanwhile (other users' jobs):
        # the machine's busy time less everything accounted above.
        machine = used.pop("machine")
        used["other"] = max(0.0, machine - sum(used.values()))
        return used


_run_numbers = itertools.count(1)


@contextlib.contextmanager
def _publishing(system: System):
    """The ids per ``send_emails`` message this process publishes with: the
    app's ``DELIVERY_BATCH_SIZE``, or the system's ``publish_batch_size``
    (the workers are not told: they claim with the app's defaults)."""
    size = system.publish_batch_size
    if not size:
        yield
        return
    from django.conf import settings
    from django.test import override_settings

    with override_settings(ORDER_MAIL={**settings.ORDER_MAIL, "DELIVERY_BATCH_SIZE": int(size)}):
        yield


def run_mode(mode: str, system: System, n: int, esp, redis=None, *, rate=None, latency_ms=None) -> dict:
    """One measurement: ``mode`` in burst / drain / paced."""
    _clear_queues()
    prefix = f"{mode[0].upper()}{next(_run_numbers):04d}-"
    orders = make_orders(prefix, n)
    connection.close()  # a fresh connection, as a web process would have
    if latency_ms is not None:
        esp.set_latency(latency_ms)
    esp.reset()
    stamps: dict = {}
    produce_cpu = None
    if mode == "drain":
        c0 = self_cpu_seconds()
        prerendered = None
        if system.kind == "post_office":
            prerendered = {o.number: render_for_post_office(o) for o in orders}
        with _publishing(system):
            _produce(orders, system.kind, {}, prerendered=prerendered)
            if system.kind == "order_mail":
                from django_order_mail.outbox.publisher import publisher

                publisher.flush(30)
        produce_cpu = self_cpu_seconds() - c0
        sender = system.sender()
        meter = _Meter(sender, esp, redis)
        ready: list[float] = []

        def on_ready() -> None:  # once the senders are up: their start-up is not per email
            meter.start()
            ready.append(time.time())

        sender.start(on_ready=on_ready)
        t_wall = ready[0]
    else:
        sender = system.sender()
        sender.start()
        meter = _Meter(sender, esp, redis)
        meter.start()
        t_wall = time.time()
        with _publishing(system):
            _produce(orders, system.kind, stamps, rate=rate)
            if system.kind == "order_mail":
                from django_order_mail.outbox.publisher import publisher

                publisher.flush(30)
    recorded_at = None
    try:
        wait_until(
            lambda: esp.accepted() >= n,
            timeout=120 + n / 5,
            interval=0.2,
            what=f"{system.key} {mode}: {n} emails at the ESP",
        )
        try:
            wait_until(lambda: _recorded(system.kind) >= n, timeout=60, interval=0.1, what="recorded")
            recorded_at = _last_recorded(system.kind)
        except TimeoutError:
            pass
        if system.kind == "post_office":  # the processes send_queued forked are reaped
            wait_until(lambda: not children(sender.proc.pid), timeout=10, interval=0.05, what="pool exit")
        cpu = meter.stop()
        wall = time.time() - t_wall
    finally:
        sender.stop()
    tasks = _claims(system.kind)
    stats = esp.stats()
    result = _result(esp.records(), stamps, n)
    if mode == "drain":
        # A backlog is worked off when every email is recorded as sent:
        # from the senders' start to the last record (post_office records a
        # batch after its last email; order-mail each email after its call).
        result["acceptance_per_second"] = result["per_second"]
        result["per_second"] = n / (recorded_at - t_wall) if recorded_at else float("nan")
        result["seconds"] = (recorded_at - t_wall) if recorded_at else float("nan")
    own = cpu["senders"] + (cpu["producer"] if mode != "drain" else 0.0)
    result.update(
        mode=mode,
        system=system.key,
        label=system.label,
        settings=system.settings(),
        latency_ms=stats["latency_ms"],
        rate=rate,
        recorded_after_s=(recorded_at - t_wall) if recorded_at else None,
        cpu_seconds=cpu,
        # The bench's own processes: producer (burst, paced) and senders.
        cpu_ms_per_email=own / n * 1000,
        sender_cpu_ms_per_email=cpu["senders"] / n * 1000,
        producer_cpu_ms_per_email=(produce_cpu if mode == "drain" else cpu["producer"]) / n * 1000,
        esp_cpu_ms_per_email=cpu["esp"] / n * 1000,
        postgres_cpu_ms_per_email=cpu["postgres"] / n * 1000,
        esp_cpu_share=cpu["esp"] / wall if wall else 0.0,
        other_cpu_share=cpu["other"] / wall if wall else 0.0,
        requests=stats["requests"],
        batch_calls=stats["batch_calls"],
        connections=stats["connections"],
        connections_per_1000=stats["connections"] / n * 1000,
        max_in_flight=stats["max_in_flight"],
        tasks=tasks,
        emails_per_task=n / tasks if tasks else None,
    )
    return result


def _last_recorded(kind: str) -> float:
    """When the last email was recorded as sent (the system's own clock, this machine)."""
    from django.db.models import Max

    if kind == "order_mail":
        from django_order_mail.outbox.models import OutboxEmail

        last = OutboxEmail.objects.aggregate(last=Max("sent_at"))["last"]
    else:
        from post_office.models import Log

        last = Log.objects.aggregate(last=Max("date"))["last"]
    return last.timestamp()


def _claims(kind: str) -> int | None:
    """order-mail: the batches its workers claimed (one claim per
    ``send_emails`` task, each with its own claim token)."""
    if kind != "order_mail":
        return None
    from django_order_mail.outbox.models import OutboxEmail

    return OutboxEmail.objects.exclude(claim_token=None).values("claim_token").distinct().count()


def _result(records: list, stamps: dict, n: int) -> dict:
    accepted: dict = {}
    for key, at, _digest in records:
        accepted.setdefault(key, at)
    keys = list(stamps)
    missing = [k for k in keys if k not in accepted]
    latencies = [accepted[k] - stamps[k] for k in keys if k in accepted]
    first_accept = min(at for _k, at, _d in records)
    start = min(stamps.values()) if stamps else first_accept
    end = max(at for _k, at, _d in records)
    return {
        "n": n,
        "accepted": len(records),
        "distinct": len(accepted),
        "missing": len(missing),
        "seconds": end - start,
        "per_second": n / (end - start) if end > start else float("nan"),
        "delivery_per_second": (n - 1) / (end - first_accept) if end > first_accept else float("nan"),
        "latency": summary(latencies),
        "digests": {k: d for k, _at, d in records},
    }


#: A run during which anything else took more than this share of one CPU
#: (say, another user's test suite) is repeated once; the quieter one is kept.
OTHER_LOAD_LIMIT = 0.2


def measured(mode: str, system: System, n: int, esp, redis=None, *, log, **kwargs) -> dict:
    """:func:`run_mode`, repeated once if the machine was busy with something
    else meanwhile; the run with less other load is kept (both recorded)."""
    res = run_mode(mode, system, n, esp, redis, **kwargs)
    if res["other_cpu_share"] <= OTHER_LOAD_LIMIT:
        return res
    log(f"    other processes took {res['other_cpu_share']:.0%} of a CPU meanwhile: once more")
    again = run_mode(mode, system, n, esp, redis, **kwargs)
    keep, drop = (again, res) if again["other_cpu_share"] < res["other_cpu_share"] else (res, again)
    keep["repeated"] = {
        "other_cpu_shares": [res["other_cpu_share"], again["other_cpu_share"]],
        "per_second": [res["per_second"], again["per_second"]],
    }
    drop.pop("digests", None)
    return keep


def _line(res: dict) -> str:
    lat = res["latency"]
    text = f"{res['per_second']:.1f} emails/s"
    if lat["n"]:
        text += f", p50 {lat['p50']:.2f}s p95 {lat['p95']:.2f}s"
    return (
        f"{text}; CPU {res['cpu_ms_per_email']:.1f} ms/email "
        f"(PostgreSQL {res['postgres_cpu_ms_per_email']:.1f}), "
        f"{res['connections']} TCP conns, {res['requests']} calls, {res['max_in_flight']} in flight max, "
        f"{res['emails_per_task'] or 0:.1f} emails per task, "
        f"missing {res['missing']}; other load {res['other_cpu_share']:.0%} of a CPU"
    )


def compare(
    latencies: list[float],
    n: int,
    esp,
    redis=None,
    *,
    concurrency: int,
    paced_n: int,
    log,
    modes=("burst", "drain"),
) -> dict:
    """Burst and drain at each latency for every system, then paced at one
    latency (50 ms if measured); returns the raw results."""
    batch_note = batch_unavailable()
    if batch_note:
        log(f"  order-mail ESP_BATCH_SEND: {batch_note}")
    runs = []
    for latency in latencies:
        for mode in modes:
            systems = [order_mail(concurrency)]
            if not batch_note:
                systems.append(order_mail(concurrency, batch=True))
            systems += [post_office_best(mode), post_office_default()]
            for system in systems:
                log(f"  {latency:g} ms {mode:5s} {system.label} {system.settings()} n={n} ...")
                res = measured(mode, system, n, esp, redis, log=log, latency_ms=latency)
                log(f"    {_line(res)}")
                runs.append(res)
    paced_latency = 50.0 if 50 in latencies else latencies[0]
    bursts = [r for r in runs if r["mode"] == "burst" and r["latency_ms"] == paced_latency]
    paced = []
    rate = None
    if bursts and paced_n:
        # Half of the slower burst rate: neither system is backed up.
        slower = min(r["per_second"] for r in bursts if r["system"] in ("order_mail", "post_office_best"))
        rate = max(1.0, round(slower * 0.5, 1))
        for system in (order_mail(concurrency), post_office_best("burst")):
            log(f"  {paced_latency:g} ms paced {system.label} n={paced_n} at {rate}/s ...")
            res = measured("paced", system, paced_n, esp, redis, log=log, rate=rate, latency_ms=paced_latency)
            log(f"    p50 {res['latency']['p50'] * 1000:.0f} ms p95 {res['latency']['p95'] * 1000:.0f} ms")
            paced.append(res)
    same = _same_content([r for r in runs if r["mode"] == "burst"])
    for res in runs + paced:
        res.pop("digests", None)
    esp.set_latency(0)
    return {
        "latencies": list(latencies),
        "n": n,
        "concurrency": concurrency,
        "runs": runs,
        "paced": paced,
        "paced_rate": rate,
        "paced_latency_ms": paced_latency,
        "same_content": same,
        "batch_note": batch_note,
        "other_load_limit": OTHER_LOAD_LIMIT,
        "order_mail_settings": _order_mail_settings(),
        "post_office_pick": best_settings(),
        "post_office_grid": _grid_summary(),
    }


def _grid_summary() -> dict | None:
    if not GRID_FILE.exists():
        return None
    grid = json.loads(GRID_FILE.read_text())
    return {k: grid[k] for k in ("date", "latency_ms", "n", "pick", "why") if k in grid}


def _same_content(bursts: list[dict]) -> dict:
    """Compare the HTML the ESP got from order-mail and from post_office for
    the same order (order numbers differ only in their run prefix)."""
    pairs = equal = 0
    for latency in {r["latency_ms"] for r in bursts}:
        at = {r["system"]: r["digests"] for r in bursts if r["latency_ms"] == latency}
        ours, theirs = at.get("order_mail"), at.get("post_office_best")
        if not ours or not theirs:
            continue
        theirs_by_index = {k[-6:]: d for k, d in theirs.items()}
        for key, digest in ours.items():
            other = theirs_by_index.get(key[-6:])
            if other is not None:
                pairs += 1
                equal += other == digest
    return {"pairs": pairs, "equal": equal}


def sizing(latencies: list[float], processes: list[int], n: int, esp, redis=None, *, log) -> dict:
    """order-mail's delivery rate by ESP latency and number of celery worker
    processes, at the app's defaults otherwise: a drain of ``n`` emails (a
    backlog: ``send_emails`` tasks of up to ``DELIVERY_BATCH_SIZE`` ids), and
    a drain of ``n // 5`` with one email per task, what the workers get when
    orders arrive one at a time (the publisher hands each id over alone)."""
    rows = []
    single_n = max(100, n // 5)
    for latency in latencies:
        for count in processes:
            for kind, system, size in (
                ("backlog", order_mail(count), n),
                ("one per task", order_mail(count, batch_size=1), single_n),
            ):
                log(f"  {latency:g} ms drain, {count} worker process(es), {kind}, n={size} ...")
                res = measured("drain", system, size, esp, redis, log=log, latency_ms=latency)
                res.pop("digests", None)
                log(f"    {_line(res)}")
                rows.append(
                    {
                        "latency_ms": latency,
                        "processes": count,
                        "kind": kind,
                        "threads_per_process": _delivery_concurrency(),
                        "per_second": res["per_second"],
                        "per_process": res["per_second"] / count,
                        "cpu_ms_per_email": res["cpu_ms_per_email"],
                        "postgres_cpu_ms_per_email": res["postgres_cpu_ms_per_email"],
                        "connections": res["connections"],
                        "max_in_flight": res["max_in_flight"],
                        "emails_per_task": res["emails_per_task"],
                        "n": size,
                    }
                )
    esp.set_latency(0)
    return {"date": time.strftime("%Y-%m-%d"), "rows": rows}


SIZING_FILE = RESULTS / "sizing.json"


def save_sizing(result: dict, machine: str) -> None:
    """``bench/results/sizing.json``, for docs/deployment."""
    RESULTS.mkdir(exist_ok=True)
    SIZING_FILE.write_text(json.dumps({**result, "machine": machine}, indent=1))


def saved_sizing() -> dict | None:
    return json.loads(SIZING_FILE.read_text()) if SIZING_FILE.exists() else None


def _order_mail_settings() -> dict:
    """The app's settings the workers ran with (its defaults, in the bench)."""
    from django_order_mail.app_settings import app_settings

    names = (
        "DELIVERY_CONCURRENCY",
        "DELIVERY_BATCH_SIZE",
        "DELIVERY_KEEP_CLAIMING",
        "ESP_TRUST_ENV",
        "PUBLISH_IN_BACKGROUND",
    )
    return {name: getattr(app_settings, name) for name in names}


def _delivery_concurrency() -> int:
    from django_order_mail.app_settings import app_settings

    return app_settings.DELIVERY_CONCURRENCY


def parse_latencies(text: str) -> list[float]:
    return [float(v) for v in text.split(",") if v.strip()]


def main(argv=None) -> int:
    from .services import running_services

    parser = argparse.ArgumentParser(description="order-mail vs django-post-office at a given ESP latency")
    parser.add_argument("--latency", default="50", help="ms per ESP API call; a comma-separated list")
    parser.add_argument("--orders", type=int, default=2000, help="emails per run")
    parser.add_argument("--modes", default="burst,drain")
    parser.add_argument("--paced", type=int, default=0, help="emails of the paced run (0: none)")
    parser.add_argument("--concurrency", type=int, default=None, help="celery --concurrency (default: CPUs)")
    args = parser.parse_args(argv)
    import os

    with running_services("bench_order_mail") as (redis, esp):
        result = compare(
            parse_latencies(args.latency),
            args.orders,
            esp,
            redis,
            concurrency=args.concurrency or os.cpu_count() or 2,
            paced_n=args.paced,
            log=lambda m: print(m, flush=True),
            modes=tuple(args.modes.split(",")),
        )
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "throughput.json").write_text(json.dumps(result, indent=1))
    print(f"Written to {RESULTS / 'throughput.json'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
