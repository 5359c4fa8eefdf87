"""The *Growth* section of docs/performance.md, from ``bench/results/growth.json``.

``bench/growth.py`` replaces only this section of the page after its run;
``bench/report.py`` adds it when it writes the whole page.
"""

from __future__ import annotations

import statistics
from pathlib import Path

HEADING = "## Growth: the send log at millions of rows"
#: Goals of issue 18.
PAGE_GOAL_MS = 100.0
SLOWDOWN_GOAL = 0.10


def _f(value, digits=1) -> str:
    if value is None or value != value:
        return "n/a"
    return f"{value:,.{digits}f}"


def _gib(n: int) -> str:
    return f"{n / 2**30:.1f} GiB"


def _table(header: list[str], rows: list[list]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines) + "\n"


def _met(ok: bool) -> str:
    return "met" if ok else "**not met**"


def slowdown(part: dict) -> float:
    """The median share of send rate lost while retention ran."""
    return 1 - statistics.median(part["ratios"])


def _retention_rate(alone: dict) -> str:
    text = f"{_f(alone['rows_per_second'], 0)} rows/s ({alone['rows']:,} rows in {_f(alone['seconds'], 0)} s"
    if alone.get("timeline"):
        text += f", with {alone['timeline']:,} timeline entries"
    return text + ")"


def section(g: dict) -> list[str]:
    fill, args = g.get("fill") or {}, g["args"]
    slowest = max(g["admin"], key=lambda p: p["median_ms"])
    rows = [
        [
            f"Slowest send-log admin page at {g['rows']:,} rows (median)",
            f"{_f(slowest['median_ms'])} ms ({slowest['page']})",
            f"< {PAGE_GOAL_MS:g} ms",
            _met(slowest["median_ms"] < PAGE_GOAL_MS),
        ]
    ]
    if g.get("admin_after"):
        after = max(g["admin_after"], key=lambda p: p["median_ms"])
        rows.append(
            [
                f"Slowest send-log admin page after retention and `VACUUM`, {g.get('rows_after', 0):,} rows "
                "(median)",
                f"{_f(after['median_ms'])} ms ({after['page']})",
                f"< {PAGE_GOAL_MS:g} ms",
                _met(after["median_ms"] < PAGE_GOAL_MS),
            ]
        )
    for key, label in (("bodies", "strips bodies"), ("delete", "deletes old rows")):
        for variant, how, goal in ((key, "", True), (f"{key}_flat", ", flat out (`--pause 0`)", False)):
            part = g.get(variant)
            if not part:
                continue
            lost = slowdown(part)
            # A burst during which retention changed nothing measured a
            # retention with nothing to do, not its cost: the goal is not judged.
            idle = sum(1 for work in part.get("retention", []) if not work["rows"])
            verdict = _met(lost < SLOWDOWN_GOAL)
            if idle:
                verdict = f"not judged: retention had nothing to do in {idle} of {len(part['ratios'])} bursts"
            rows.append(
                [
                    f"Send burst while retention {label}{how}: emails/s with ÷ without",
                    f"{', '.join(f'{r:.3f}' for r in part['ratios'])}: slowed {_f(100 * lost)} % (median)",
                    f"slowed < {100 * SLOWDOWN_GOAL:g} %" if goal else "—",
                    verdict if goal else "—",
                ]
            )
    for key, label in (("bodies", "stripping bodies"), ("delete", "deleting old emails")):
        for variant, how in ((f"{key}_alone", ""), (f"{key}_alone_flat", ", flat out")):
            if g.get(variant):
                rows.append([f"Retention alone, {label}{how}", _retention_rate(g[variant]), "—", "—"])
    out = [
        f"{HEADING}\n",
        "Measured by `bench/growth.py` (not part of `bench/run.sh`: it takes about "
        f"{_f(g['seconds'] / 60, 0)} minutes), on {g['date']}, {g['code']['summary']}; raw figures in "
        "`bench/results/growth.json`. Its machine is the one above unless it says otherwise: "
        f"{g['machine']['summary']}.\n",
        _fill_text(fill, args),
        _table(["Figure", "Measured", "Goal", ""], rows),
        "### Send-log admin\n",
        "Each page requested "
        f"{args['repeat']} times with Django's test client as a superuser, after one request to warm up; "
        f"before retention ({g['rows']:,} rows) and after it and `VACUUM ANALYZE` "
        f"({g.get('rows_after', 0):,} rows).\n",
        _admin_table(g),
    ]
    out += _bursts_text(g, args)
    return out


def _fill_text(fill: dict, args: dict) -> str:
    if "seconds" not in fill:
        return "The database was reused from an earlier run (`--reuse`).\n"
    s = fill["seconds"]
    reused = ""
    if fill.get("reused") and fill.get("measured"):
        reused = (
            "The database was built by an earlier invocation and reused (`--reuse`) as that run left it "
            "(after its retention runs, with the rows its bursts added): "
        )
    elif fill.get("reused"):
        reused = (
            "The database was filled beforehand (`bench/growth.py --fill-only --keep`) and reused "
            "(`--reuse`) untouched: "
        )
    return reused + (
        f"`bench/growth_fill.py` wrote {fill['rows']:,} emails over {fill['years']:g} years (the rows per "
        "day rising linearly: a growing shop), 6-10 per order over the packaged events, 94.5 % sent and "
        "the rest skipped, suppressed, failed or cancelled, feedback requests and review reminders of the "
        "last two weeks still scheduled, 0.1 % resends, and "
        f"{fill['timeline_rows']:,} timeline entries. One sent email in {fill.get('bodies_every', 10)} keeps "
        f"its bodies ({fill['rows_with_bodies']:,} rows, the packaged order confirmation: "
        f"{fill['html_bytes']:,} bytes of HTML and {fill['text_bytes']:,} of text, stored with LZ4). The "
        f"send log took {_gib(fill['table_bytes'])} with its indexes ({_gib(fill['index_bytes'])}), the "
        f"timelines {_gib(fill['timeline_bytes'])}; filling took {_f(s['total_s'] / 60, 0)} minutes "
        f"(rows {_f(s['emails_s'], 0)} s, timelines {_f(s['timeline_s'], 0)} s, indexes built afterwards "
        f"{_f(s['indexes_s'], 0)} s, `VACUUM ANALYZE` {_f(s['vacuum_s'], 0)} s).\n"
    )


def _admin_table(g: dict) -> str:
    after = {p["page"]: p for p in g.get("admin_after") or []}
    rows = []
    for p in g["admin"]:
        a = after.get(p["page"])
        rows.append(
            [
                p["page"],
                f"{_f(p['median_ms'])} ms",
                f"{_f(p['max_ms'])} ms",
                p["queries"],
                f"{_f(p['slowest_query_ms'])} ms",
                f"{_f(a['median_ms'])} ms" if a else "—",
            ]
        )
    header = ["page", "median", "slowest", "SQL statements", "slowest statement", "median after retention"]
    return _table(header, rows)


def _bursts_text(g: dict, args: dict) -> list[str]:
    out = [
        "### Retention next to a send burst\n",
        f"Each burst: this process confirms {args['burst']:,} orders one after another, as a web process "
        f"does; `celery worker --concurrency={args['concurrency']}` sends each `order_confirmation` through "
        f"Anymail's Postmark backend to the fake ESP answering after {args['latency']:g} ms. Emails/s from "
        "the first commit to the last acceptance. Bursts *with* ran while the real `manage.py "
        "order_mail_retention` (another process, the app's `RETENTION_BATCH_SIZE` and `RETENTION_PAUSE`, "
        "with its longer pause while emails are being sent, "
        "or flat out with `--pause 0`) worked on the same "
        "tables - first only its body stripping, then only its deletions - and each is compared with the "
        "mean of the bursts *without* just before and just after it. *Retention changed* counts the rows "
        "it changed from its first statement (two seconds before the burst) until it was stopped after it.\n",
    ]
    rows = []
    for key, label in (
        ("bodies", "strip bodies"),
        ("bodies_flat", "strip bodies, `--pause 0`"),
        ("delete", "delete rows"),
        ("delete_flat", "delete rows, `--pause 0`"),
    ):
        part = g.get(key)
        if not part:
            continue
        for i, b in enumerate(part["with"]):
            before, after = part["without"][i], part["without"][i + 1]
            work = part["retention"][i]
            rows.append(
                [
                    label,
                    f"{_f(before['per_second'])} / {_f(after['per_second'])}",
                    _f(b["per_second"]),
                    f"{part['ratios'][i]:.3f}",
                    f"{_f(1000 * before['latency']['p95'], 0)} / {_f(1000 * after['latency']['p95'], 0)} ms",
                    f"{_f(1000 * b['latency']['p95'], 0)} ms",
                    f"{work['rows']:,} ({_f(work['rows'] / work['seconds'], 0)}/s)",
                    _f(b["cpu_seconds"].get("retention_backend"), 1),
                ]
            )
    header = [
        "retention",
        "emails/s without (before / after)",
        "emails/s with",
        "with ÷ without",
        "p95 commit → ESP without",
        "p95 with",
        "retention changed",
        "retention's PostgreSQL CPU-s",
    ]
    out.append(_table(header, rows))
    alone = [
        [
            ("strip bodies" if a["part"] == "bodies" else "delete rows")
            + (", `--pause 0`" if a.get("pause") == 0 else ""),
            f"{a['rows']:,}" + (f" (+ {a['timeline']:,} timeline entries)" if a.get("timeline") else ""),
            _f(a["seconds"], 0) + ("" if a.get("finished") is False else " (finished)"),
            _f(a["rows_per_second"], 0),
            _f(a["postgres_cpu_seconds"], 0),
        ]
        for a in (
            g.get(k) for k in ("bodies_alone", "bodies_alone_flat", "delete_alone", "delete_alone_flat")
        )
        if a
    ]
    if alone:
        out += [
            "\nThe retention command alone, before each part's bursts, for its first "
            f"{_f(args.get('budget'), 0)} seconds from its first statement (flat out: half as long), "
            "counted in the tables before and after:\n",
            _table(["retention", "rows changed", "seconds", "rows/s", "PostgreSQL CPU-s"], alone),
        ]
    if "vacuum_s" in g:
        out.append(
            f"\nThis PostgreSQL runs with `autovacuum = off`, so the bench ran `VACUUM ANALYZE` itself after "
            f"retention: {_f(g['vacuum_s'], 0)} s.\n"
        )
    return out


def splice(g: dict, path: Path) -> None:
    """Replace (or add at the end) only this section of ``path``."""
    text = path.read_text() if path.exists() else ""
    new = "\n".join(section(g))
    if HEADING in text:
        start = text.index(HEADING)
        end = text.find("\n## ", start + len(HEADING))
        text = text[:start] + new + ("\n" + text[end + 1 :] if end >= 0 else "")
    else:
        text = text.rstrip("\n") + "\n\n" + new
    path.write_text(text)
