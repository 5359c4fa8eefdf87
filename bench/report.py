"""Markdown for docs/performance.md and docs/reliability.md, from measured figures only."""

from __future__ import annotations

import datetime
from pathlib import Path

from bench.report_common import (
    ROOT,
    STOCK_ANCHOR,
    _f,
    _po_settings,
    _saved,
    _table,
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
from bench.report_summary import _summary


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
            f"CPUs {_f(100 * (1 - m.get('idle_during', 1)), 0)} % busy during it (the bench, and whatever "
            "else ran on the machine: each run's *other load* below)",
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
        *(
            f"The section *{_SECTION_TITLES.get(name, name)}* (and the summary's figures from it) was "
            f"measured again on {again['date']} with `bash bench/run.sh --merge` at {again['code']}, on "
            f"{again['machine']}; {_f(100 * again['idle_during'], 0)} % of the CPUs idle meanwhile. "
            "The rest is from the run above.\n"
            for name, again in (r.get("remeasured") or {}).items()
        ),
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


#: Headings of the sections ``--merge`` can measure again.
_SECTION_TITLES = {"overhead": "Transition overhead", "render": "Where one email's time goes"}


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


def write_reliability(runs: list[dict], machine: dict) -> None:
    """``runs``: one dict per suite run (scale, seconds, exit code, the tests' figures)."""
    from bench.reliability_text import render

    (ROOT / "docs" / "reliability.md").write_text(render(runs, machine, _table, _machine))
