"""Helpers shared by the sections of ``docs/performance.md`` (``bench/report*.py``):
number formats, Markdown tables, the runs of a throughput result by key."""

from __future__ import annotations

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


def _goal(ok: bool) -> str:
    return "met" if ok else "**not met**"


def _runs(t: dict) -> dict:
    """The throughput runs by (latency, mode, system)."""
    return {(x["latency_ms"], x["mode"], x["system"]): x for x in t.get("runs", [])}


def _headline(t: dict) -> float:
    return HEADLINE_MS if HEADLINE_MS in t["latencies"] else t["latencies"][0]


def _saved(name: str) -> dict | None:
    path = ROOT / "bench" / "results" / name
    return json.loads(path.read_text()) if path.exists() else None


def _po_settings(s: dict) -> str:
    return (
        f"{s['processes']} process(es), `THREADS_PER_PROCESS` {s['threads']}, `BATCH_SIZE` {s['batch_size']}"
    )


def _ratio(runs: dict, latency: float, mode: str, other: str = "post_office_best", ours: str = "order_mail"):
    ours, theirs = runs.get((latency, mode, ours)), runs.get((latency, mode, other))
    if not ours or not theirs:
        return None, ours, theirs
    return ours["per_second"] / theirs["per_second"], ours, theirs


def _mean_in_flight(x: dict) -> str:
    """API calls the ESP held at once on average: each call is held for the
    latency, so calls × latency ÷ the run's duration."""
    if not x["latency_ms"] or not x["seconds"]:
        return "—"
    return _f(x["requests"] * x["latency_ms"] / 1000 / x["seconds"], 1)


def _small_ms(ms: float) -> str:
    """A difference of two medians in ms; below 0.1 ms it is within the noise."""
    return f"{_f(ms, 2)} ms" if ms >= 0.1 else "under 0.1 ms (within the noise)"
