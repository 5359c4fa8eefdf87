"""CSAT and NPS over a period, and per week, computed in the database.

* **CSAT** (1-5 scale): the share of answers scoring 4 or 5, in percent.
* **NPS** (0-10 scale): percent promoters (9-10) minus percent detractors
  (0-6), from -100 to +100.

Each scale counts only its own responses: a shop that switches
``FEEDBACK_SCALE`` keeps its old numbers intact.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from django.db.models import Avg, Count, Q
from django.db.models.functions import TruncWeek
from django.utils import timezone

from .models import Scale

SATISFIED_MIN = 4
PROMOTER_MIN, DETRACTOR_MAX = 9, 6


def period_queryset(qs, start: date, end: date):
    """Responses first given from ``start`` to ``end`` inclusive (local dates)."""
    tz = timezone.get_current_timezone()
    since = timezone.make_aware(datetime.combine(start, time.min), tz)
    until = timezone.make_aware(datetime.combine(end + timedelta(days=1), time.min), tz)
    return qs.filter(created_at__gte=since, created_at__lt=until)


def _aggregates():
    return {
        "n": Count("id"),
        "average": Avg("score"),
        "satisfied": Count("id", filter=Q(score__gte=SATISFIED_MIN)),
        "promoters": Count("id", filter=Q(score__gte=PROMOTER_MIN)),
        "detractors": Count("id", filter=Q(score__lte=DETRACTOR_MAX)),
    }


def csat(n: int, satisfied: int) -> float | None:
    return round(100 * satisfied / n, 1) if n else None


def nps(n: int, promoters: int, detractors: int) -> int | None:
    return round(100 * (promoters - detractors) / n) if n else None


def summarize(qs) -> dict:
    """{"csat": {...}, "nps": {...}} for the responses in ``qs``."""
    c = qs.filter(scale=Scale.CSAT).aggregate(**_aggregates())
    p = qs.filter(scale=Scale.NPS).aggregate(**_aggregates())
    return {
        "csat": {
            "count": c["n"],
            "satisfied": c["satisfied"],
            "percent": csat(c["n"], c["satisfied"]),
            "average": round(c["average"], 2) if c["average"] is not None else None,
        },
        "nps": {
            "count": p["n"],
            "promoters": p["promoters"],
            "passives": p["n"] - p["promoters"] - p["detractors"],
            "detractors": p["detractors"],
            "score": nps(p["n"], p["promoters"], p["detractors"]),
        },
        "low": qs.filter(is_low=True).count(),
    }


def monday(day: date) -> date:
    return day - timedelta(days=day.weekday())


def weekly(qs, start: date, end: date) -> list[dict]:
    """One entry per week (Monday first) from ``start``'s week to ``end``'s,
    weeks without answers included with ``None`` values."""
    weeks = {}
    week = monday(start)
    while week <= end:
        weeks[week] = {"week": week, "csat_count": 0, "csat": None, "nps_count": 0, "nps": None}
        week += timedelta(days=7)
    rows = (
        period_queryset(qs, start, end)
        .annotate(week=TruncWeek("created_at"))
        .values("week", "scale")
        .annotate(**_aggregates())
        .order_by()
    )
    for row in rows:
        key = row["week"]
        key = timezone.localtime(key).date() if isinstance(key, datetime) and timezone.is_aware(key) else key
        key = key.date() if isinstance(key, datetime) else key
        entry = weeks.get(monday(key))
        if entry is None:
            continue
        if row["scale"] == Scale.CSAT:
            entry["csat_count"] = row["n"]
            entry["csat"] = csat(row["n"], row["satisfied"])
        elif row["scale"] == Scale.NPS:
            entry["nps_count"] = row["n"]
            entry["nps"] = nps(row["n"], row["promoters"], row["detractors"])
    return list(weeks.values())
