"""Markdown for docs/performance.md and docs/reliability.md, from measured figures only."""

from __future__ import annotations

import datetime
import json
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
STOCK_ANCHOR = "#database-connections-in-celery-workers"
SYSTEMS = {
    "order_mail": "django-order-mail",
    "order_mail_batch": "django-order-mail, `ESP_BATCH_SEND`",
    "post_office_best": "django-post-office, best settings",
    "post_office_default": "django-post-office, defaults",
}
#: The latency the summary quotes (the ESP latency of a typical API call).
HEADLINE_MS = 50.0


def _f(value, digits=1, unit=""):
    if value is None or value != value:  # None or NaN
        return "n/a"
    return f"{value:,.{digits}f}{unit}"


def _x(value) -> str:
    """A ratio as ``2.10×``."""
    return f"{_f(value, 2)}×"


def _ms(value: float) -> str:
    return f"{value:g} ms"


def _table(header: list[str], rows: list[list]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines) + "\n"


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


def _goal(ok: bool) -> str:
    return "met" if ok else "**not met**"


def from_json(r: dict) -> dict:
    """``latest.json`` as the report reads it (nothing to convert any more)."""
    return r


def _runs(t: dict) -> dict:
    """The throughput runs by (latency, mode, system)."""
    return {(x["latency_ms"], x["mode"], x["system"]): x for x in t.get("runs", [])}


def _headline(t: dict) -> float:
    return HEADLINE_MS if HEADLINE_MS in t["latencies"] else t["latencies"][0]


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
        out += _throughput(r["throughput"], r.get("render"))
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
    if "esp" in r:
        out += _esp(r["esp"], r.get("throughput"))
    growth = _saved("growth.json")  # bench/growth.py, run on its own
    if growth:
        from bench import growth_report

        out += growth_report.section(growth)
    path.write_text("\n".join(out))
    del args


def _saved(name: str) -> dict | None:
    path = ROOT / "bench" / "results" / name
    return json.loads(path.read_text()) if path.exists() else None


def _po_settings(s: dict) -> str:
    return (
        f"{s['processes']} process(es), `THREADS_PER_PROCESS` {s['threads']}, `BATCH_SIZE` {s['batch_size']}"
    )


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
            f"`ESP_TRUST_ENV` {om['ESP_TRUST_ENV']}"
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


def _ratio(runs: dict, latency: float, mode: str, other: str = "post_office_best"):
    ours, theirs = runs.get((latency, mode, "order_mail")), runs.get((latency, mode, other))
    if not ours or not theirs:
        return None, ours, theirs
    return ours["per_second"] / theirs["per_second"], ours, theirs


def _summary(r: dict) -> list[str]:
    rows = []
    if "overhead" in r:
        o = r["overhead"]
        rows.append(
            [
                "Transition + save, mail on / mail off",
                f"{_x(o['ratio'])} ({_f(o['enabled_ms'], 2)} vs {_f(o['disabled_ms'], 2)} ms)",
                "≤ 1.3×",
                _goal(o["ratio"] <= 1.3),
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
    t = r.get("throughput")
    if t and "runs" in t:
        runs = _runs(t)
        head = _headline(t)
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
                    "≥ 2×",
                    _goal(ratio >= 2),
                ]
            )
        others = [v for v in t["latencies"] if v != head]
        if others:
            for mode in ("burst", "drain"):
                cells = []
                for latency in others:
                    ratio, _o, _t = _ratio(runs, latency, mode)
                    if ratio is not None:
                        cells.append(f"{_x(ratio)} at {_ms(latency)}")
                if cells:
                    rows.append([f"Same, {mode}, other ESP latencies", ", ".join(cells), "≥ 2×", "see below"])
        conns = []
        for system in SYSTEMS:
            x = runs.get((head, "drain", system))
            if x:
                conns.append(f"{SYSTEMS[system]} {_f(x['connections_per_1000'], 1)}")
        if conns:
            rows.append(
                [
                    "TCP connections per 1,000 emails",
                    f"drain of {t['n']:,} at {_ms(head)}: " + "; ".join(conns),
                    "—",
                    "—",
                ]
            )
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


def _overhead(o: dict) -> list[str]:
    po = o.get("post_office") or {}
    blocks = o.get("blocks", 10)

    def spread(values):
        return f"{_f(min(values), 2)}–{_f(max(values), 2)}×" if values else ""

    rows = [
        [
            "mail on (order-mail)",
            f"{_f(o['enabled_ms'], 2)} ms",
            f"{_f(o['enabled_mean_ms'], 2)} ms",
            o["queries_enabled"],
            f"{_x(o['ratio'])} ({spread(o.get('block_ratios', []))})",
        ],
        [
            "mail off",
            f"{_f(o['disabled_ms'], 2)} ms",
            f"{_f(o['disabled_mean_ms'], 2)} ms",
            o["queries_disabled"],
            "1×",
        ],
        [
            "difference, order-mail",
            f"{_f(o['extra_ms'], 2)} ms",
            "",
            o["queries_enabled"] - o["queries_disabled"],
            "",
        ],
    ]
    for mode, label in (
        ("po_prerendered", "django-post-office `mail.send()`, content rendered beforehand"),
        ("po_render", "django-post-office `mail.send()`, rendering in the transaction"),
    ):
        x = po.get(mode)
        if x:
            rows.append(
                [
                    label,
                    f"{_f(x['median_ms'], 2)} ms",
                    f"{_f(x['mean_ms'], 2)} ms",
                    x["queries"],
                    f"{_x(x['ratio'])} ({spread(x.get('block_ratios', []))})",
                ]
            )
    text = [
        "## Transition overhead\n",
        f"`order.confirm_payment(); order.save()` in `transaction.atomic()`, {o['n_each']:,} orders per "
        f"mode in {blocks} alternating blocks (each block runs every mode, in an order rotated block by "
        "block), median per transition. *Mail off* is the same code with "
        '`ORDER_MAIL["ENABLED"] = False` (the FSM transition, the signal receivers and the '
        "conditional `UPDATE` still run). The django-post-office rows are mail off plus its "
        "`mail.send()` in the same transaction, as a post_office shop queues the confirmation: with "
        "the content rendered beforehand (outside the timed transaction), and rendering in the "
        "transaction, its usual pattern (a template or `render_to_string` before `mail.send()`; here "
        "the same templates and css-inline order-mail renders with). *vs mail off* is the ratio of "
        "the medians (in brackets: the lowest and highest of the same ratio within each block).\n",
        _table(["", "median", "mean", "SQL statements", "vs mail off"], rows),
        _overhead_text(o),
        "Statements with mail on:\n",
        "```text\n" + "\n".join(o["sql_enabled"]) + "\n```\n",
    ]
    if po.get("po_prerendered"):
        text += [
            "Statements of django-post-office's `mail.send()` in the transaction:\n",
            "```text\n" + "\n".join(po["po_prerendered"]["sql"]) + "\n```\n",
        ]
    return text


def _overhead_text(o: dict) -> str:
    if "insert_ms" not in o:  # figures of an older bench
        return "\n"
    floor = (o["disabled_ms"] + o["insert_ms"]) / o["disabled_ms"]
    text = (
        "\nWhere order-mail's difference goes, each part timed on its own: the `INSERT ... ON CONFLICT DO "
        f"NOTHING RETURNING` statement {_f(o['insert_ms'], 2)} ms; all of `enqueue()` (the order's "
        f"hooks, building the row, the insert) {_f(o['enqueue_ms'], 2)} ms; handing the id to the "
        f"background publisher after commit {_f(o['handoff_ms'], 3)} ms. Publishing to Redis "
        f"({_f(o['publish_ms'], 2)} ms) is paid by the publisher thread, not the request. "
        "The test shop's order is minimal (one `UPDATE`, a "
        f"{_f(o['disabled_ms'], 2)} ms transaction), so the ratio is a worst case: any outbox must "
        f"write its row in the order's transaction, and that statement alone makes "
        f"{_f(floor, 2)}× here. A real checkout's transaction does far more, and the absolute cost, "
        f"{_f(o['extra_ms'], 2)} ms per transition, is the figure to weigh."
    )
    if o["ratio"] > 1.3:
        text += (
            f" The goal is not met on this machine: {_f(o['extra_ms'] - o['insert_ms'], 2)} ms of the "
            "difference is Python (the signal receivers, the row, preparing the statement), "
            "the rest the insert."
        )
    po = o.get("post_office") or {}
    if po.get("po_prerendered") and po.get("po_render"):
        text += (
            f" django-post-office's `mail.send()` adds {_f(po['po_prerendered']['extra_ms'], 2)} ms to the "
            f"same transaction when the content is ready, and {_f(po['po_render']['extra_ms'], 2)} ms when "
            "it renders there; order-mail renders in the worker, after the commit."
        )
    return text + "\n"


def _in_flight_ceiling(t: dict) -> str:
    om = t.get("order_mail_settings") or {}
    threads = om.get("DELIVERY_CONCURRENCY")
    return f"{t['concurrency']} × {threads}" if threads else str(t["concurrency"])


def _throughput(t: dict, render: dict | None) -> list[str]:
    runs = _runs(t)
    latencies = t["latencies"]
    head = _headline(t)
    systems = [s for s in SYSTEMS if any(k[2] == s for k in runs)]
    # The comparison at a glance: emails/s per latency and mode.
    rows = []
    for latency in latencies:
        for mode in ("burst", "drain"):
            cells = [runs.get((latency, mode, s)) for s in systems]
            if not any(cells):
                continue
            ratio, _o, _t = _ratio(runs, latency, mode)
            ratio_default, _o, _t = _ratio(runs, latency, mode, "post_office_default")
            rows.append(
                [_ms(latency), mode]
                + [_f(x["per_second"]) if x else "—" for x in cells]
                + [f"**{_x(ratio)}**" if ratio else "—", _x(ratio_default) if ratio_default else "—"]
            )
    glance = _table(
        [
            "ESP latency",
            "mode",
            *[f"{SYSTEMS[s]}, emails/s" for s in systems],
            "order-mail ÷ post_office best",
            "order-mail ÷ post_office defaults",
        ],
        rows,
    )
    detail = []
    for latency in latencies:
        for mode in ("burst", "drain"):
            for s in systems:
                x = runs.get((latency, mode, s))
                if not x:
                    continue
                lat = x["latency"]
                settings = ""
                if s.startswith("post_office"):
                    po = x["settings"]
                    settings = f" ({po['processes']}/{po['threads']}/{po['batch_size']})"
                detail.append(
                    [
                        _ms(latency),
                        mode,
                        SYSTEMS[s] + settings,
                        _f(x["per_second"]),
                        _f(lat["p50"] * 1000, 0, " ms") if lat["n"] else "—",
                        _f(lat["p95"] * 1000, 0, " ms") if lat["n"] else "—",
                        _f(x["cpu_ms_per_email"], 1),
                        _f(x["producer_cpu_ms_per_email"], 1),
                        _f(x["sender_cpu_ms_per_email"], 1),
                        _f(x["postgres_cpu_ms_per_email"], 1),
                        _f(x["esp_cpu_ms_per_email"], 2),
                        f"{x['connections']} ({_f(x['connections_per_1000'], 1)})",
                        f"{x['requests']:,}",
                        f"{_mean_in_flight(x)} / {x['max_in_flight']}",
                        x["missing"],
                        _f(100 * x.get("other_cpu_share", float("nan")), 0, " %"),
                    ]
                )
    same = t.get("same_content", {})
    text = [
        f"## Throughput and latency at {', '.join(_ms(v) for v in latencies)} of ESP latency\n",
        "Each run transitions fresh orders with `confirm_payment()` and waits until the fake ESP "
        f"has accepted every confirmation ({t['n']:,} emails per run). emails/s counts, in a burst, from "
        "the first commit to the last ESP acceptance, and in a drain from the moment the senders are up "
        "to the last email recorded as sent (post_office records a batch after its last email, order-mail "
        "each email right after its call); latency is from the commit (taken in an on-commit callback) "
        "to the ESP's acceptance. The fake ESP answers "
        "every API call after the latency of the row (0 ms: at once), holding any number of calls at "
        "once.\n",
        "* **burst**: one producer process transitions all orders as fast as it can while the "
        "senders run. Both systems render each email once: order-mail in the worker, post_office "
        "in the producer before `mail.send()` inside the order's transaction, with the same "
        "templates and css-inline (a post_office shop renders when it queues).\n"
        "* **drain**: all orders committed first, then the senders start: delivery alone. "
        "post_office's queue holds ready-rendered emails here; order-mail still renders each one "
        "in the worker.\n",
        glance,
        "\nEvery run (post_office's settings as processes/threads/batch size):\n",
        _table(
            [
                "ESP latency",
                "mode",
                "system",
                "emails/s",
                "p50 latency",
                "p95 latency",
                "CPU ms/email",
                "producer",
                "senders",
                "PostgreSQL",
                "fake ESP",
                "TCP connections (per 1,000)",
                "API calls",
                "calls in flight, mean / max",
                "lost",
                "other load",
            ],
            detail,
        ),
        "\n*CPU ms/email* counts only the bench's own processes, from `/proc/<pid>/stat` of each process "
        "tree (user + system time, live and reaped children): in a burst the producer (the process that "
        "transitions the orders, with order-mail's background publisher thread) plus the senders (the "
        "celery worker and its pool processes; post_office's loop and the processes `send_queued` forks); "
        "in a drain the senders alone (the producer ran before; its CPU is in the *producer* column). "
        "PostgreSQL (all its processes; the bench is its only client) and the fake ESP are shown apart "
        "and not included. *Calls in flight*: the API calls the ESP held at once, on average (calls × "
        "latency ÷ the run's duration) and at most; a sender's rate is its mean calls in flight ÷ the "
        "latency. *Other load*: the CPU anything else on the machine used during the run (its busy "
        "time less all of the above), in % of one CPU; a run above "
        f"{_f(100 * t.get('other_load_limit', 0.2), 0)} % was repeated once and the quieter one kept"
        + _repeated(t)
        + ". Each row is one run of "
        f"{t['n']:,} emails, not an average.\n",
        f"\nSame content: the ESP compared the HTML of {same.get('pairs', 0):,} order pairs "
        f"(order-mail and post_office at its best, same order, order number blanked): "
        f"{same.get('equal', 0):,} identical.\n",
    ]
    if t.get("batch_note"):
        text.append(f"\norder-mail with `ESP_BATCH_SEND`: {t['batch_note']}.\n")
    text += _throughput_text(t, runs, head, render)
    text += _paced(t)
    return text


def _repeated(t: dict) -> str:
    runs = [x for x in t.get("runs", []) + t.get("paced", []) if x.get("repeated")]
    if not runs:
        return " (none was)"
    return (
        " ("
        + "; ".join(
            f"{_ms(x['latency_ms'])} {x['mode']} {SYSTEMS.get(x['system'], x['system'])}: "
            + " then ".join(
                f"{_f(rate)} emails/s at {_f(100 * share, 0)} %"
                for rate, share in zip(
                    x["repeated"]["per_second"], x["repeated"]["other_cpu_shares"], strict=True
                )
            )
            for x in runs
        )
        + ")"
    )


def _mean_in_flight(x: dict) -> str:
    """API calls the ESP held at once on average: each call is held for the
    latency, so calls × latency ÷ the run's duration."""
    if not x["latency_ms"] or not x["seconds"]:
        return "—"
    return _f(x["requests"] * x["latency_ms"] / 1000 / x["seconds"], 1)


def _throughput_text(t: dict, runs: dict, head: float, render: dict | None) -> list[str]:
    text = ["### What the figures show\n"]
    burst = _ratio(runs, head, "burst")
    drain = _ratio(runs, head, "drain")
    om = t.get("order_mail_settings") or {}
    if burst[0] is not None:
        text.append(
            f"* **End to end (burst) at {_ms(head)}**: order-mail {_f(burst[1]['per_second'])} emails/s, "
            f"post_office at its best {_f(burst[2]['per_second'])} ({_x(burst[0])}). post_office's producer "
            "renders and inserts each email inside the order's transaction, so it shares the CPUs with "
            "its own senders; order-mail's producer only writes a row and publishes an id, and the "
            "workers render and send in parallel. In exchange order-mail's latency under a burst is "
            f"queueing (p95 {_f(burst[1]['latency']['p95'], 1)} s "
            f"vs {_f(burst[2]['latency']['p95'], 1)} s).\n"
        )
    if drain[0] is not None:
        text.append(
            f"* **Delivery only (drain) at {_ms(head)}**: order-mail {_f(drain[1]['per_second'])} emails/s, "
            f"post_office at its best {_f(drain[2]['per_second'])} ({_x(drain[0])}). post_office's queue "
            "holds emails rendered when they were queued: its senders only hand them to the ESP and record "
            "a whole batch with one `UPDATE` and one bulk insert of `Log` rows after the batch went out. "
            "order-mail renders at send time (a corrected address or item is honoured, and a template error "
            "fails one email, not the order's transaction"
            + (f": {_f(render['render_ms'], 1)} ms per email" if render else "")
            + ") and records each email in its own commit right after its ESP call, so a sender killed "
            "mid-batch re-sends at most the one email it was recording, where post_office re-sends every "
            "email of the batch the ESP had already accepted (its rows are still `queued`)."
            + _one_batch_note(t, drain[2])
            + "\n"
        )
    calls = []
    for s in SYSTEMS:
        x = runs.get((head, "drain", s))
        if x:
            calls.append(f"{SYSTEMS[s]} {_mean_in_flight(x)} on average, {x['max_in_flight']} at most")
    if calls and om:
        text.append(
            "* **ESP latency** bounds a sender by the calls it keeps in flight: its rate is at most calls "
            f"in flight ÷ latency. order-mail keeps up to {_in_flight_ceiling(t)} (worker processes × "
            "`DELIVERY_CONCURRENCY`) calls in flight, each email recorded right after its own call, but a "
            "worker process runs one `send_emails` task at a time: no more calls than the ids of that "
            f"task (up to `DELIVERY_BATCH_SIZE`, {om['DELIVERY_BATCH_SIZE']}), and it takes its next task "
            "only when the slowest email of the batch is done. post_office keeps up to processes × "
            "`THREADS_PER_PROCESS`, and each `send_queued` call likewise waits for the slowest email of "
            "its batch before it records the batch and takes the next. Calls in flight during the "
            f"{_ms(head)} drain: " + "; ".join(calls) + ".\n"
        )
    conns = []
    for s in SYSTEMS:
        x = runs.get((head, "drain", s))
        if x:
            conns.append(f"{SYSTEMS[s]} {x['connections']} ({_f(x['connections_per_1000'], 1)} per 1,000)")
    if conns:
        text.append(
            f"* **TCP connections** to the ESP in the {_ms(head)} drain of {t['n']:,} emails: "
            + "; ".join(conns)
            + ". order-mail opens one per sending thread the first time it sends and keeps it open for "
            "the life of the worker process, so a long-running worker's count per 1,000 emails tends to "
            "zero (the figure here is one run's worker start-up); the batch path sends each batch in one "
            "call. post_office opens one per sending thread per `send_queued` call and closes them all at "
            "the end of the call, so its count grows with the number of batches (the burst runs, where the "
            "loop finds small batches, open more).\n"
        )
    return text


def _one_batch_note(t: dict, theirs: dict) -> str:
    settings = theirs.get("settings") or {}
    if settings.get("batch_size", 0) < t["n"]:
        return ""
    grid = t.get("post_office_grid") or {}
    text = (
        f" With `BATCH_SIZE` {settings['batch_size']}, post_office at its best took all {t['n']:,} emails "
        "of a drain in one `send_queued` call (its processes forked once), so each drain figure is one "
        "call's"
    )
    if grid.get("n"):
        text += f"; its grid, with {grid['n']:,} emails per run, is the longer measurement"
    return text + "."


def _paced(t: dict) -> list[str]:
    paced = {x["system"]: x for x in t.get("paced", [])}
    ours, theirs = paced.get("order_mail"), paced.get("post_office_best")
    if not ours or not theirs:
        return []
    rows = [
        [
            SYSTEMS[x["system"]],
            f"{x['n']:,}",
            _f(x["latency"]["p50"] * 1000, 0, " ms"),
            _f(x["latency"]["p95"] * 1000, 0, " ms"),
            _f(x["latency"]["max"] * 1000, 0, " ms"),
            f"{_mean_in_flight(x)} / {x['max_in_flight']}",
            _f(x.get("emails_per_task"), 1),
            x["missing"],
        ]
        for x in (ours, theirs)
    ]
    latency = t["paced_latency_ms"]
    text = [
        f"### Latency at a steady rate (paced, {_ms(latency)} ESP latency)\n",
        f"{t['paced_rate']} orders/s, half the slower of the two burst rates at that latency: the "
        "latency a customer sees on a normal day, commit to ESP acceptance (the ESP latency included). "
        "order-mail pushes each id to the broker after the commit; post_office is polled, here every "
        "50 ms, in production usually once a minute by cron.\n",
        _table(
            [
                "system",
                "emails",
                "p50",
                "p95",
                "max",
                "calls in flight, mean / max",
                "emails per task",
                "lost",
            ],
            rows,
        ),
    ]
    p95 = ours["latency"]["p95"] * 1000
    if p95 > 10 * max(latency, 20):
        text.append(
            f"\norder-mail did not keep up at this rate: its p95 of {_f(p95, 0)} ms is queueing, not the "
            f"ESP. At a steady trickle the background publisher hands ids over one or two at a time "
            f"({_f(ours.get('emails_per_task'), 1)} emails per `send_emails` task here), a worker process "
            "runs one task at a time, and a task of one email is sent by the task's own thread: the "
            f"sending threads go unused ({_mean_in_flight(ours)} calls in flight on average, "
            f"{ours['max_in_flight']} at most, for {_in_flight_ceiling(t)} possible), so each worker process "
            "sends about one email per ESP round trip.\n"
        )
    return text


def _sizing(s: dict, saved: bool) -> list[str]:
    rows_in = s["rows"]
    counts = sorted({r["processes"] for r in rows_in})
    latencies = sorted({r["latency_ms"] for r in rows_in})
    by = {(r["latency_ms"], r["processes"], r.get("kind", "backlog")): r for r in rows_in}
    rows = []
    for latency in latencies:
        for kind in ("backlog", "one per task"):
            row = [_ms(latency), kind]
            for c in counts:
                x = by.get((latency, c, kind))
                row.append(f"{_f(x['per_second'], 0)} ({_f(x['per_process'], 0)} per process)" if x else "—")
            one = by.get((latency, counts[0], kind))
            row.append(_f(one["cpu_ms_per_email"], 1) if one else "—")
            rows.append(row)
    threads = rows_in[0].get("threads_per_process") if rows_in else None
    backlog = next((r for r in rows_in if r.get("kind", "backlog") == "backlog"), None)
    single = next((r for r in rows_in if r.get("kind") == "one per task"), None)
    where = f"measured on {s.get('date')}, " if saved else ""
    return [
        "## Sizing: emails/s per worker process\n",
        "order-mail's delivery rate by ESP latency and number of `celery worker` processes "
        "(`--concurrency`), the app's defaults otherwise "
        f"(`DELIVERY_CONCURRENCY` {threads} sending threads per process), on the machine above "
        f"({where}`bench/results/sizing.json`). Two loads: a **backlog** (a drain of "
        f"{_f(backlog['n'] if backlog else None, 0)} emails queued at full speed: `send_emails` tasks of "
        "up to `DELIVERY_BATCH_SIZE` ids) and **one per task** (a drain of "
        f"{_f(single['n'] if single else None, 0)} with `DELIVERY_BATCH_SIZE` 1: what the workers get "
        "when orders arrive one at a time and the publisher hands each id over alone). A process runs "
        f"one task at a time; within it at most {threads} calls are in flight, so its ceiling is "
        f"{threads} ÷ latency ({_f((threads or 0) / 0.05, 0)} emails/s at 50 ms) with full batches, and "
        "one email per round trip with one email per task, until its CPU runs out; more processes add "
        "to that until the machine's CPUs do.\n",
        _table(
            [
                "ESP latency",
                "load",
                *[f"{c} process{'es' if c > 1 else ''}, emails/s" for c in counts],
                f"CPU ms/email ({counts[0]} process)",
            ],
            rows,
        ),
    ]


def _grid(g: dict) -> list[str]:
    rows = []
    for r in sorted(g["rows"], key=lambda r: (r["mode"], -r["per_second"])):
        picked = g["pick"].get(r["mode"]) == {k: r[k] for k in ("processes", "threads", "batch_size")}
        mark = "**" if picked else ""
        rows.append(
            [
                r["mode"],
                r["processes"],
                r["threads"],
                r["batch_size"],
                f"{mark}{_f(r['per_second'])}{mark}",
                _f(r["cpu_ms_per_email"], 1),
                _f(r["connections_per_1000"], 1),
            ]
        )
    why = "; ".join(f"{mode}: {text}" for mode, text in g.get("why", {}).items())
    return [
        "## django-post-office's best settings\n",
        "post_office documents three knobs for sending speed: `THREADS_PER_PROCESS` (default 5; its "
        "README's example is 10, for HTTP backends), `BATCH_SIZE` (emails one `send_queued` call takes, "
        "default 100) and the processes `send_queued(processes=...)` forks per batch (`send_queued_mail "
        "--processes`, default 1). `bench/postoffice_grid.py` ran every combination of "
        + "; and of ".join(
            ", ".join(
                f"{k.replace('_', ' ')} {'/'.join(str(v) for v in values)}" for k, values in grid.items()
            )
            + f" in {mode}"
            for mode, grid in g["grid"].items()
        )
        + f", at {_ms(g['latency_ms'])} ESP latency, {g['n']:,} emails per run, on "
        f"{g['date']} on this machine (`bench/results/postoffice_grid.json`). The fastest per mode "
        f"(bold) is what the comparison calls *best*: {why}. The same pick is used at every latency.\n",
        _table(
            ["mode", "processes", "threads", "batch size", "emails/s", "CPU ms/email", "TCP conns per 1,000"],
            rows,
        ),
    ]


def _render(x: dict) -> list[str]:
    rows = [[k, _f(v, 2, " ms"), _f(100 * v / x["total_ms"], 0, " %")] for k, v in x["stages_ms"].items()]
    rows.append(["**total, one email**", f"**{_f(x['total_ms'], 2, ' ms')}**", "100 %"])
    return [
        "## Where one email's time goes\n",
        f"`deliver_batch()` (what the `send_emails` task runs) over {x['n']:,} emails in batches of "
        f"{x.get('batch_size', 1)}, in one process and one sending thread against the fake ESP answering "
        "at once (no Celery), with timers around "
        "each stage (`bench/render_cost.py`); per-batch stages are divided by the emails. Render = "
        f"context + templates + css-inline: **{_f(x['render_ms'], 2)} ms, "
        f"{_f(100 * x['render_share'], 0)} %** of the send path. One email costs "
        f"{_f(x['queries_per_email'], 1)} SQL statements on average (the batch's statements below).\n",
        _table(["stage", "mean", "share"], rows),
        "\n```text\n" + "\n".join(x["sql"]) + "\n```\n",
    ]


MACHINERY_HEADING = "## What the hand-written machinery buys"
#: Sections that follow it in the page (where a first splice puts it).
_AFTER_MACHINERY = (
    "## Database connections in Celery workers",
    "## Worker memory",
    "## Send-log admin",
    "## The fake ESP is not the bottleneck",
)
GUARDS = "tests/test_machinery_guards.py"


def _saved_machinery() -> dict | None:
    """``bench/results/machinery.json``: the machinery bench may run alone."""
    import json

    path = ROOT / "bench" / "results" / "machinery.json"
    return json.loads(path.read_text()) if path.exists() else None


def _machine_line(m: dict) -> str:
    pg = m.get("postgres", {})
    return (
        f"{m.get('nproc')} CPUs ({m.get('cpu')}), {m.get('memory_gib')} GiB, Linux {m.get('kernel')}, "
        f"Python {m.get('python')}, Django {m.get('django')}, PostgreSQL {pg.get('version')} on 127.0.0.1 "
        f"(synchronous_commit={pg.get('synchronous_commit')}, fsync={pg.get('fsync')})"
    )


def _spread(x: dict) -> str:
    ratios = x.get("vs_on_per_block") or [x["vs_on"]]
    return f"{_f(min(ratios), 2)}–{_f(max(ratios), 2)}×"


def _cell(x: dict) -> str:
    return f"{_f(x['median_ms'], 3)} ms"


def _machinery(m: dict) -> list[str]:
    ins, rec, blk, memo = m["insert"], m["record"], m["blocks"], m["memo"]
    ins_on, ins_per_row, ins_bulk = ins["on"], ins["per_row"], ins["bulk_create"]
    rec_on, rec_off = rec["on"], rec["off"]
    blk_on, blk_off = blk["on"], blk["off"]
    memo_on, memo_off = memo["on"], memo["off"]

    def row(piece, operation, on, off, off_label):
        return [
            piece,
            operation,
            _cell(on),
            f"{_cell(off)} ({off_label})",
            f"{_f(off['vs_on'], 2)}× ({_spread(off)})",
            f"{_f(off['median_ms'] - on['median_ms'], 3)} ms",
        ]

    rows = [
        row(
            "outbox insert",
            "one row, in the order's transaction",
            ins_on,
            ins_per_row,
            "`InsertQuery` compiled per row",
        ),
        row("", "", ins_on, ins_bulk, "`bulk_create(ignore_conflicts=True)` + read-back `SELECT`"),
        row(
            "outcome record",
            "one sent email, committed",
            rec_on,
            rec_off,
            "`update()` + `EmailLog.objects.create()` in `atomic`",
        ),
        row(
            "block renderer",
            f"subject + plain + html of `{blk['template']}` ({blk['html_chars']:,} chars of HTML)",
            blk_on,
            blk_off,
            "django-render-block's `django_render_block`",
        ),
        row(
            "batch memo",
            f"`deliver_batch()` of {memo['batch_size']}, per email ({_f(memo_on['queries_per_email'], 1)} "
            f"vs {_f(memo_off['queries_per_email'], 1)} SQL statements)",
            memo_on,
            memo_off,
            "`memo.SHARE_IN_BATCH = False`",
        ),
    ]
    compared = (
        ("the outbox insert against `InsertQuery` compiled per row", ins_per_row),
        ("the outbox insert against `bulk_create`", ins_bulk),
        ("the outcome record", rec_off),
        ("the block renderer", blk_off),
        ("the batch memo", memo_off),
    )
    clear = [name for name, off in compared if min(off.get("vs_on_per_block") or [off["vs_on"]]) > 1]
    unclear = [name for name, off in compared if name not in clear]
    verdict = f"The public way was slower in every one of the {m['alternating_blocks']} blocks for " + (
        ", ".join(clear) if clear else "none of the pieces"
    )
    if unclear:
        verdict += (
            f"; not in every block for {', '.join(unclear)}: there the gain is within this machine's "
            "noise, and no more than the *saved* column says"
        )
    verdict += ".\n"
    return [
        f"{MACHINERY_HEADING}\n",
        "Four pieces of the hot path do by hand what Django, or django-render-block, does through its "
        "public API, and rely on internals that any release may change. Each stays only for what it buys "
        "here, with a test that fails loudly when what it relies on changes. `bench/machinery.py` times each "
        f"piece on and off in {m['alternating_blocks']} alternating blocks of one run, in one process, "
        "on PostgreSQL; figures are medians per operation, *off / on* is how many times the public way "
        "costs (in brackets: the lowest and highest of the same ratio within each block), *saved* the "
        "difference.\n",
        f"Measured on {m['date']} by `python -m bench.machinery` (also the `machinery` section of "
        f"`bench/run.sh`), in {_f(m['seconds'], 0)} s, on {_machine_line(m['machine'])}; the CPUs were "
        f"{_f(100 * m['idle_before'], 0)} % idle before the run and {_f(100 * (1 - m['idle_during']), 0)} % "
        "busy during it (the bench and anything else running). Raw figures in "
        "`bench/results/machinery.json`.\n",
        _table(["piece", "operation", "on", "off", "off / on", "saved"], rows),
        verdict,
        "* **Outbox insert** (`django_order_mail/outbox/insert.py`): builds Django's `InsertQuery` "
        "(`insert_values()`, `SQLInsertCompiler.as_sql()`) once per connection, appends `RETURNING` by "
        "hand, and prepares each later row's parameters with the fields' `pre_save()` and "
        "`get_db_prep_save()`, as the compiler does. *Off* is the module's own switch "
        "(`_single_row_sql[alias] = None`: Django compiles every row) and, further, what `enqueue()` "
        "does on other databases. Guarded by "
        f"`{GUARDS}::test_the_insert_fast_path_stays_on_and_reuses_exactly_what_djangos_compiler_gives` "
        "(fresh rows get exactly the compiler's statement and parameters, and the fast path has not "
        "switched itself off) and `::test_the_insert_is_djangos_bulk_create_statement_with_returning` (the "
        "statement as the database receives it is `bulk_create(ignore_conflicts=True)`'s plus "
        "`RETURNING`); on PostgreSQL also `tests/integration/test_postgres_statements.py`.\n"
        "* **Outcome record** (`django_order_mail/delivery/record.py`): compiles the conditional "
        "`UPDATE` as `QuerySet.update()` does (`Query.chain(UpdateQuery)`, `add_update_values()`, "
        "`SQLUpdateCompiler.as_sql()`) without running it, to put it in `WITH updated AS (... RETURNING "
        "id) INSERT INTO` the log: one round trip instead of `BEGIN`, `UPDATE`, `INSERT`, `COMMIT`. *Off* "
        "is the module's switch `ONE_STATEMENT_ON_POSTGRESQL = False` (what other databases run). Guarded "
        f"by `{GUARDS}::test_the_compiled_update_is_the_statement_queryset_update_runs` (SQL and values "
        "equal `update()`'s as the database receives them, and `record_outcome()` runs exactly that "
        "inside its `WITH`) and `tests/integration/test_postgres_statements.py`.\n"
        "* **Block renderer** (`django_order_mail/rendering/blocks.py`): collects each template's "
        "`BlockNode`s once and renders through `BlockContext`, `BLOCK_CONTEXT_KEY`, "
        "`ExtendsNode.get_parent()` / `parent_name` and `RenderContext.push_state()`, where "
        "django-render-block walks the template tree for every block. Guarded by "
        "`tests/test_render_blocks.py` (the same output as django-render-block for every packaged "
        f"template, cached or not) and `{GUARDS}::test_the_three_blocks_are_what_djangos_full_render_gives`, "
        "`::test_block_super_and_nested_blocks_render_as_the_whole_template_does` (the blocks are what "
        "Django's public `Template.render()` of the whole template gives) and "
        "`::test_a_packaged_template_is_walked_once_then_rendered_from_its_cached_blocks` (the cache "
        "still holds for the packaged templates).\n"
        "* **Batch memo** (`django_order_mail/memo.py`): a context variable; it reaches into nothing of "
        "Django. It relies on an answer not changing within one batch (well under a second). *Off* is "
        "`SHARE_IN_BATCH = False`: each email looks up its template, shipments, A/B tests and "
        "suppression entries itself (the orders are still read in one query). Anymail's test backend "
        "stands in for the ESP here, so the figure is the batch's own work. Guarded by "
        f"`{GUARDS}::test_a_batch_renders_exactly_what_each_email_renders_alone` and "
        "`tests/test_delivery_batch.py::test_memo_is_per_batch_only`.\n",
    ]


def splice_machinery(m: dict, path: Path) -> None:
    """Replace (or add) only the machinery section of an existing page."""
    text = path.read_text()
    section = "\n".join(_machinery(m))
    if MACHINERY_HEADING in text:
        start = text.index(MACHINERY_HEADING)
        end = text.find("\n## ", start + len(MACHINERY_HEADING))
        text = text[:start] + section + ("\n" + text[end + 1 :] if end >= 0 else "")
    else:
        at = [text.index(h) for h in _AFTER_MACHINERY if h in text]
        if at:
            text = text[: min(at)] + section + "\n" + text[min(at) :]
        else:
            text = text.rstrip("\n") + "\n\n" + section
    path.write_text(text)


def _stock(stock: dict, t: dict) -> list[str]:
    tuned = _runs(t).get((stock["latency_ms"], "drain", "order_mail")) if "runs" in t else None
    if not tuned:
        return []
    return [
        "## Database connections in Celery workers\n",
        "Celery's Django fix-up closes the task thread's database connections before and after each "
        "task unless `CELERY_DB_REUSE_MAX` is set, so by default every task opens a new PostgreSQL "
        "connection (the sending threads keep their own). The bench workers set "
        "`CELERY_DB_REUSE_MAX = 1000` and call Django's `close_old_connections()` around each task "
        "(`bench/celery_app.py`), so a broken connection is dropped after one failed task. Drain of "
        f"{stock['n']:,} emails at {_ms(stock['latency_ms'])} ESP latency:\n",
        _table(
            ["worker setting", "drain emails/s"],
            [
                ["Celery default (new connection per task)", _f(stock["per_second"])],
                ["`CELERY_DB_REUSE_MAX = 1000`", _f(tuned["per_second"])],
            ],
        ),
    ]


def _memory(m: dict) -> list[str]:
    rows = [
        [f"{row['sent']:,}", _f(row["main_mib"], 1), " / ".join(_f(v, 1) for v in row["pool_mib"])]
        for row in m["table"]
    ]
    return [
        "## Worker memory\n",
        f"{m['n']:,} emails sent by {m['pool_processes']} pool processes in {_f(m['seconds'] / 60, 1)} "
        f"minutes ({_f(m['rate'])} emails/s), RSS read from `/proc` every 2 s. After warm-up (10 % of "
        f"the sends) the pool processes grew by at most {_f(m['max_growth_mib'], 1, ' MiB')}, "
        f"{_f(m.get('second_half_growth_mib'), 1, ' MiB')} of it in the second half of the run "
        f"(least-squares slope {_f(m['max_slope_mib_per_10k'], 2, ' MiB')} per 10,000 sends): "
        f"**{'flat' if m['flat'] else 'growing'}** (flat: under 5 MiB after warm-up and under 2 MiB "
        "in the second half).\n",
        _table(["sent", "main process MiB", "pool processes MiB"], rows),
    ]


ADMIN_HEADING = "## Send-log admin"


def _admin(a: dict) -> list[str]:
    text = [
        ADMIN_HEADING + "\n",
        f"Measured by `bench/admin_changelist.py` (`{a['command']}`, exit code {a['code']}), "
        "its output as printed:\n",
        "```text\n" + a["output"].strip() + "\n```\n",
    ]
    if "search: part of" in a["output"]:
        text.append(
            "The searches by part of a name or address are answered by the trigram GIN indexes on "
            "`UPPER(recipient)` and `UPPER(customer_name)` (PostgreSQL's `pg_trgm`, migration "
            "`django_order_mail.0003`); a term that matches a large share of the log is read newest "
            "first and stops at the page's 50 rows, and a searched list counts at most 1,000 matching "
            "rows. The last line is what the two indexes add to writing one email.\n"
        )
    return text


def splice_admin(a: dict, path: Path) -> None:
    """Replace (or add) only the send-log admin section of an existing page:
    ``python -m bench.admin_changelist --report`` after measuring."""
    text = path.read_text()
    section = "\n".join(_admin(a))
    if ADMIN_HEADING in text:
        start = text.index(ADMIN_HEADING)
        end = text.find("\n## ", start + len(ADMIN_HEADING))
        text = text[:start] + section + ("\n" + text[end + 1 :] if end >= 0 else "")
    else:
        text = text.rstrip("\n") + "\n\n" + section
    path.write_text(text)


def _esp(e: dict, t: dict | None) -> list[str]:
    ceiling = 1000 / e["esp_cpu_seconds_per_1000"] if e["esp_cpu_seconds_per_1000"] else float("nan")
    text = [
        "## The fake ESP is not the bottleneck\n",
        f"{e['clients']} processes sending through Anymail's Postmark backend at once, no database, "
        f"the ESP answering at once, reached {_f(e['per_second'], 0)} messages/s — bound by the clients "
        "(Anymail and requests build and parse each message), not the ESP, which spent "
        f"{_f(e['esp_cpu_seconds_per_1000'], 2)} CPU-seconds per 1,000 messages: a ceiling of about "
        f"{_f(ceiling, 0)} messages/s on one CPU. Its latency is an `asyncio.sleep` per call, so calls "
        "wait side by side, not in line.",
    ]
    runs = (t or {}).get("runs") or []
    if runs:
        top = max(x["per_second"] for x in runs)
        share = max(x["esp_cpu_share"] for x in runs)
        text.append(
            f" The fastest run above ({_f(top)} emails/s) used {_f(100 * top / ceiling, 0)} % of that, "
            f"and the ESP never took more than {_f(100 * share, 1)} % of one CPU during a run.\n"
        )
    return text


def write_reliability(runs: list[dict], machine: dict) -> None:
    """``runs``: one dict per suite run (scale, seconds, exit code, the tests' figures)."""
    from bench.reliability_text import render

    (ROOT / "docs" / "reliability.md").write_text(render(runs, machine, _table, _machine))
