"""The sizing sections: ``docs/performance.md``'s sizing table and
django-post-office's settings grid, and the sizing table of
``docs/deployment.rst`` (between its markers, from ``bench/results/sizing.json``)."""

from __future__ import annotations

from bench.report_common import _f, _ms, _table


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
        f"{_f(single['n'] if single else None, 0)} published one id per `send_emails` message, the "
        "workers at the defaults: what they get when orders arrive one at a time and the publisher hands "
        "each id over alone). A process keeps "
        f"at most {threads} calls in flight (its sending threads, kept busy by claiming further due rows "
        "whatever the message carried), so its ceiling is "
        f"{threads} ÷ latency ({_f((threads or 0) / 0.05, 0)} emails/s at 50 ms) until its CPU runs out "
        "(one interpreter lock per process); more processes add to that until the machine's CPUs do. "
        "The figures per process are this machine's: with more CPUs per process, a process keeps up "
        "to its threads ÷ latency.\n",
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


DEPLOYMENT_START = ".. sizing-table-start (bench/run.py writes this table from bench/results/sizing.json)"
DEPLOYMENT_END = ".. sizing-table-end"


def sizing_rst(s: dict) -> str:
    """The sizing table of ``docs/deployment.rst``, from ``sizing.json``."""
    rows_in = s["rows"]
    counts = sorted({r["processes"] for r in rows_in})
    by = {(r["latency_ms"], r["processes"], r.get("kind", "backlog")): r for r in rows_in}
    header = ["ESP latency", "load", *[f"{c} process{'es' if c > 1 else ''}" for c in counts]]
    lines = [
        ".. list-table::",
        "   :header-rows: 1",
        "",
        *(("   * - " if i == 0 else "     - ") + h for i, h in enumerate(header)),
    ]
    for latency in sorted({r["latency_ms"] for r in rows_in}):
        for kind, label in (("backlog", "backlog"), ("one per task", "one id per message")):
            cells = [_ms(latency), label]
            for c in counts:
                x = by.get((latency, c, kind))
                cells.append(_rate_cell(x))
            lines += [("   * - " if i == 0 else "     - ") + cell for i, cell in enumerate(cells)]
    machine = s.get("machine", "")
    return (
        "\n".join(lines)
        + f"\n\nEmails a second in all (and per process), measured on {s.get('date')}"
        + (f" on {machine}" if machine else "")
        + ". Four processes on two CPUs share two cores: they add sending threads, not CPU, so they "
        "help where the threads were the limit (a long ESP latency) and little where the CPUs were; "
        "four cores would do more. *One id per message* is a trickle of orders: each message carries "
        "one id, and the task that takes it claims the other due rows itself. Other work on the "
        "machine during the run lowers these figures (:doc:`performance`, *other load*).\n"
    )


def _rate_cell(x: dict | None) -> str:
    return f"{_f(x['per_second'], 0)} ({_f(x['per_process'], 0)} per process)" if x else "—"


def splice_deployment_sizing(s: dict, path) -> bool:
    """Replace the sizing table between its markers in ``docs/deployment.rst``;
    False if the page has no markers."""
    text = path.read_text()
    if DEPLOYMENT_START not in text or DEPLOYMENT_END not in text:
        return False
    start = text.index(DEPLOYMENT_START) + len(DEPLOYMENT_START)
    end = text.index(DEPLOYMENT_END)
    path.write_text(text[:start] + "\n\n" + sizing_rst(s) + "\n" + text[end:])
    return True
