"""Markdown for docs/performance.md and docs/reliability.md, from measured figures only."""

from __future__ import annotations

import datetime
from pathlib import Path

from bench.report_common import (
    ROOT,
    STOCK_ANCHOR,
    SYSTEMS,
    _f,
    _goal,
    _headline,
    _ms,
    _po_settings,
    _ratio,
    _runs,
    _saved,
    _table,
    _x,
)
from bench.report_delivery import _memory, _stock, _throughput
from bench.report_sections import (  # noqa: F401 - splice_* are called from bench/machinery.py, admin_changelist.py
    ADMIN_HEADING,
    _admin,
    _esp,
    _machinery,
    _overhead,
    _render,
    _saved_machinery,
    splice_admin,
    splice_machinery,
)
from bench.report_sizing import _grid, _sizing


def _machine(m: dict) -> str:
    pg = m.get("postgres", {})
    packages = ", ".join(f"{k} {v}" for k, v in m.get("packages", {}).items())
    rows = [
        ["CPUs (`nproc`)", m.get("nproc")],
        ["CPU model", m.get("cpu")],
        ["Memory", f"{m.get('memory_gib')} GiB"],
        ["Kernel / Python", f"Linux {m.get('kernel')} / Python {m.get('python')}"],
        [
            "PostgreSQL",
            f"{pg.get('version')} (synchronous_commit={pg.get('synchronous_commit')}, "
            f"fsync={pg.get('fsync')}, shared_buffers={pg.get('shared_buffers')}), 127.0.0.1",
        ],
        ["Redis", f"{m.get('redis')}, started by the bench, no persistence"],
        ["Packages", packages],
        [
            "Load",
            f"{_f(100 * m.get('idle_before', 0), 0)} % idle before the run; "
            f"CPUs {_f(100 * (1 - m.get('idle_during', 1)), 0)} % busy during it (mostly the bench itself)",
        ],
    ]
    return _table(["", ""], rows)


def from_json(r: dict) -> dict:
    """``latest.json`` as the report reads it (nothing to convert any more)."""
    return r


def _command(r: dict) -> str:
    args = r["args"]
    parts = ["bash bench/run.sh"]
    if args.get("quick"):
        parts.append("--quick")
    latency = args.get("latency") or [50.0]
    if [float(v) for v in latency] != [50.0]:
        parts.append("--latency " + ",".join(f"{float(v):g}" for v in latency))
    if args.get("orders") != (300 if args.get("quick") else 1000):
        parts.append(f"--orders {args['orders']}")
    if args.get("skip"):
        parts.append(f"--skip {','.join(args['skip'])}")
    return " ".join(parts)


def write_performance(r: dict, path: Path) -> None:
    args = r["args"]
    code = r.get("code", {}).get("summary")
    out = [
        "# Performance\n",
        "Measured by `bench/` on real services: PostgreSQL, Redis, `celery worker` processes "
        "(prefork), Anymail's Postmark backend, and django-post-office sending through the same "
        "Anymail backend. The only fake is the ESP (`bench/fast_esp.py`, an asyncio server on "
        "127.0.0.1 speaking Postmark's API, whose capacity is measured below); it answers every API "
        "call after a set latency, as a real ESP does, without making other calls wait. Both systems "
        "ran in the same run, one after the other, on the machine below; every ratio compares two "
        "figures of that run. This file is generated; do not edit it by hand.\n",
        f"Produced by `{_command(r)}` on {r.get('date') or datetime.date.today().isoformat()}, "
        f"in {_f(r.get('seconds', 0) / 60, 0)} minutes; raw figures in `bench/results/latest.json`, "
        "profiles in `bench/results/profile_*.txt`."
        + (f" App code measured: {code}." if code else "")
        + "\n",
        "## Machine\n",
        _machine(r["machine"]),
        "\n" + _setup(r),
    ]
    out += _summary(r)
    if "overhead" in r:
        out += _overhead(r["overhead"])
    if "throughput" in r and "runs" in r["throughput"]:
        out += _throughput(r["throughput"], r.get("render"), r["machine"].get("nproc") or 2)
    sizing = r.get("sizing") or _saved("sizing.json")
    if sizing:
        out += _sizing(sizing, r.get("sizing") is None)
    grid = _saved("postoffice_grid.json")
    if grid and "throughput" in r:
        out += _grid(grid)
    if "render" in r:
        out += _render(r["render"])
    machinery = r.get("machinery") or _saved_machinery()
    if machinery:
        out += _machinery(machinery)
    if "stock" in r and "throughput" in r:
        out += _stock(r["stock"], r["throughput"])
    if "memory" in r:
        out += _memory(r["memory"])
    if "admin" in r:
        out += _admin(r["admin"])
    else:  # measured on its own (python -m bench.admin_changelist --report): kept as it is
        out += _kept_section(path, ADMIN_HEADING)
    if "esp" in r:
        out += _esp(r["esp"], r.get("throughput"))
    growth = _saved("growth.json")  # bench/growth.py, run on its own
    if growth:
        from bench import growth_report

        out += growth_report.section(growth)
    path.write_text("\n".join(out))
    del args


def _kept_section(path: Path, heading: str) -> list[str]:
    """The section ``heading`` of the page as it is now (a section another
    bench writes on its own), or nothing."""
    text = path.read_text() if path.exists() else ""
    if heading not in text:
        return []
    start = text.index(heading)
    end = text.find("\n## ", start + len(heading))
    return [text[start : end if end >= 0 else len(text)].rstrip("\n") + "\n"]


def _setup(r: dict) -> str:
    args = r["args"]
    t = r.get("throughput") or {}
    om = t.get("order_mail_settings") or {}
    text = (
        f"django-order-mail: `celery worker --pool=prefork --concurrency={args['concurrency']}` (Celery's "
        "default: one process per CPU), prefetch multiplier 4, `acks_late`, `CELERY_DB_REUSE_MAX = 1000`"
        + (f" (see [database connections]({STOCK_ANCHOR}))" if "stock" in r else "")
        + ", and the app's defaults"
    )
    if om:
        text += (
            f": `DELIVERY_CONCURRENCY` {om['DELIVERY_CONCURRENCY']} sending threads per worker process, "
            "each with its own kept-alive ESP connection, "
            f"`DELIVERY_BATCH_SIZE` {om['DELIVERY_BATCH_SIZE']}, "
            + (
                f"`DELIVERY_KEEP_CLAIMING` {om['DELIVERY_KEEP_CLAIMING']} s, "
                if "DELIVERY_KEEP_CLAIMING" in om
                else ""
            )
            + f"`ESP_TRUST_ENV` {om['ESP_TRUST_ENV']}"
        )
    text += (
        ". django-post-office: `send_queued_mail_until_done(processes=...)` in a loop that polls every "
        "50 ms (`bench/postoffice_loop.py`), a `Log` row per email (its default `LOG_LEVEL` 2)"
    )
    pick = t.get("post_office_pick")
    if pick:
        text += (
            f", at its defaults ({_po_settings({'processes': 1, 'threads': 5, 'batch_size': 100})}) and at "
            f"the best settings of [its grid](#django-post-offices-best-settings) (burst: "
            f"{_po_settings(pick['burst'])}; drain: {_po_settings(pick['drain'])})"
        )
    return text + ".\n"


#: The goals of issue 14, as the summary table states them.
GOAL_TRANSITION = 1.5  # transition + save, mail on / mail off, at most
GOAL_BURST = 2.0  # order-mail ÷ post_office at its best, 50 ms, at least
GOAL_DRAIN = 1.0
GOAL_DRAIN_BATCH = 2.0  # the goal beyond: through the batch endpoint
GOAL_CONNECTIONS = 10.0  # TCP connections per 1,000 emails, at most


def _summary(r: dict) -> list[str]:
    rows = []
    if "overhead" in r:
        rows += _summary_overhead(r["overhead"])
    t = r.get("throughput")
    if t and "runs" in t:
        rows += _summary_throughput(t, r.get("memory"))
    if "render" in r:
        x = r["render"]
        rows.append(
            [
                "Render cost per email (templates + css-inline)",
                f"{_f(x['render_ms'], 1)} ms, {_f(100 * x['render_share'], 0)} % of the send path",
                "—",
                "—",
            ]
        )
    if "memory" in r:
        m = r["memory"]
        rows.append(
            [
                f"Worker RSS over {m['n']:,} sends",
                f"{'flat' if m['flat'] else 'growing'}: {_f(m['max_growth_mib'], 1, ' MiB')} after warm-up",
                "flat",
                _goal(m["flat"]),
            ]
        )
    return ["## Summary\n", _table(["Figure", "Measured", "Goal", ""], rows)]


def _summary_overhead(o: dict) -> list[list]:
    added = o["enabled_ms"] - o["disabled_ms"]
    po = (o.get("post_office") or {}).get("po_prerendered")
    po_added = po["median_ms"] - o["disabled_ms"] if po else None
    below = po_added is None or added < po_added
    rows = [
        [
            "Transition + save, mail on / mail off",
            f"{_x(o['ratio'])} ({_f(o['enabled_ms'], 2)} vs {_f(o['disabled_ms'], 2)} ms: "
            f"{_f(added, 2)} ms added"
            + (f"; post_office's `mail.send()` adds {_f(po_added, 2)} ms" if po_added is not None else "")
            + ")",
            f"≤ {GOAL_TRANSITION:g}×, and below post_office's added cost",
            _goal(o["ratio"] <= GOAL_TRANSITION and below),
        ]
    ]
    core = o.get("core")
    if core:
        rows.append(
            [
                "Same, without the feature apps' `email_queued` receivers (the core's own cost)",
                f"{_x(core['ratio'])} ({_f(core['median_ms'], 2)} vs {_f(o['disabled_ms'], 2)} ms: "
                f"{_f(core['extra_ms'], 2)} ms added)",
                f"≤ {GOAL_TRANSITION:g}×",
                _goal(core["ratio"] <= GOAL_TRANSITION),
            ]
        )
    for mode, label in (
        ("po_prerendered", "content rendered beforehand"),
        ("po_render", "rendering in the transaction"),
    ):
        po = (o.get("post_office") or {}).get(mode)
        if po:
            rows.append(
                [
                    f"Transition + save + django-post-office `mail.send()`, {label} / mail off",
                    f"{_x(po['ratio'])} ({_f(po['median_ms'], 2)} vs {_f(o['disabled_ms'], 2)} ms)",
                    "—",
                    "—",
                ]
            )
    return rows


def _summary_throughput(t: dict, memory: dict | None) -> list[list]:
    rows = []
    runs = _runs(t)
    head = _headline(t)
    goals = {"burst": GOAL_BURST, "drain": GOAL_DRAIN}
    for mode, label in (("burst", "end to end"), ("drain", "delivery only")):
        ratio, ours, theirs = _ratio(runs, head, mode)
        if ratio is None:
            continue
        default = runs.get((head, mode, "post_office_default"))
        batch = runs.get((head, mode, "order_mail_batch"))
        detail = f"{_f(ours['per_second'])} vs {_f(theirs['per_second'])} emails/s"
        if default:
            detail += f"; post_office defaults {_f(default['per_second'])}"
        if batch:
            detail += f"; order-mail with `ESP_BATCH_SEND` {_f(batch['per_second'])}"
        rows.append(
            [
                f"Throughput at {_ms(head)} ESP latency, {mode} ({label}): "
                "order-mail ÷ django-post-office at its best",
                f"{_x(ratio)} ({detail})",
                f"≥ {goals[mode]:g}×",
                _goal(ratio >= goals[mode]),
            ]
        )
    batch_ratio, batch, theirs = _ratio(runs, head, "drain", ours="order_mail_batch")
    if batch_ratio is not None:
        rows.append(
            [
                f"Throughput at {_ms(head)} ESP latency, drain, through the batch endpoint: "
                "order-mail with `ESP_BATCH_SEND` ÷ django-post-office at its best",
                f"{_x(batch_ratio)} ({_f(batch['per_second'])} vs {_f(theirs['per_second'])} emails/s)",
                f"≥ {GOAL_DRAIN_BATCH:g}× (the goal beyond)",
                _goal(batch_ratio >= GOAL_DRAIN_BATCH),
            ]
        )
    others = [v for v in t["latencies"] if v != head]
    for mode in ("burst", "drain") if others else ():
        cells = []
        for latency in others:
            ratio, _o, _t = _ratio(runs, latency, mode)
            if ratio is not None:
                cells.append(f"{_x(ratio)} at {_ms(latency)}")
        if cells:
            rows.append(
                [f"Same, {mode}, other ESP latencies", ", ".join(cells), f"(goal at {_ms(head)} only)", "—"]
            )
    rows += _summary_connections(t, runs, head, memory)
    cpu = []
    for system in SYSTEMS:
        x = runs.get((head, "burst", system))
        if x:
            cpu.append(f"{SYSTEMS[system]} {_f(x['cpu_ms_per_email'], 1)} ms")
    if cpu:
        rows.append(
            [
                "CPU per email, the bench's own processes (producer + senders)",
                f"burst at {_ms(head)}: " + "; ".join(cpu),
                "—",
                "—",
            ]
        )
    return rows


def _summary_connections(t: dict, runs: dict, head: float, memory: dict | None) -> list[list]:
    """Keep-alive: the count per 1,000 emails over the long run (one run of
    1,000 counts the sending threads, not the emails), per sending thread,
    and the short drains beside it."""
    short = []
    for system in SYSTEMS:
        x = runs.get((head, "drain", system))
        if x:
            short.append(f"{SYSTEMS[system]} {_f(x['connections_per_1000'], 1)}")
    if not short:
        return []
    measured, met = "", None
    if memory and memory.get("connections"):
        per_1000 = memory["connections"] / memory["n"] * 1000
        threads = memory["pool_processes"] * memory["threads_per_process"]
        measured = (
            f"django-order-mail over {memory['n']:,} emails ([worker memory](#worker-memory)): "
            f"{_f(per_1000, 2)} ({memory['connections']} connections, "
            f"{_f(memory['connections'] / threads, 2)} per sending thread); "
        )
        met = per_1000 <= GOAL_CONNECTIONS
    measured += f"one drain of {t['n']:,} at {_ms(head)} (counts the threads that sent): " + "; ".join(short)
    return [
        [
            "TCP connections per 1,000 emails",
            measured,
            f"≤ {GOAL_CONNECTIONS:g}",
            _goal(met) + " over the long run" if met is not None else "not measured over a long run",
        ]
    ]


def write_reliability(runs: list[dict], machine: dict) -> None:
    """``runs``: one dict per suite run (scale, seconds, exit code, the tests' figures)."""
    from bench.reliability_text import render

    (ROOT / "docs" / "reliability.md").write_text(render(runs, machine, _table, _machine))
