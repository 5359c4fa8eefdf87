"""Recovery rate and recovered revenue per step and per ISO week.

* **reminders sent**: abandoned-cart outbox rows the ESP accepted;
* **recovered**: carts a reminder brought back (:class:`CartRecovery`),
  counted for the step and the week of the reminder that got the credit;
* **recovery rate**: recovered / reminders sent — of the reminders of that
  step (or sent that week), how many led to an order;
* **revenue**: the recovered orders' totals, per currency.

A week's figures keep growing for ``ABANDONED_CART_ATTRIBUTION_HOURS``
after it ends, while late orders come in. Each table is two grouped
queries (reminders, recoveries), whatever the number of carts.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django.db.models import Count, Sum
from django.db.models.fields.json import KT
from django.db.models.functions import TruncWeek
from django.utils import timezone

from ..outbox.models import OutboxEmail, Status
from .events import ABANDONED_CART
from .models import CartRecovery


@dataclass
class Figures:
    label: str
    sent: int = 0
    recovered: int = 0
    revenue: dict[str, Decimal] = field(default_factory=dict)

    @property
    def rate(self) -> float | None:
        return self.recovered / self.sent if self.sent else None

    def add_revenue(self, currency: str, amount) -> None:
        if amount is not None:
            self.revenue[currency] = self.revenue.get(currency, Decimal("0")) + Decimal(amount)


def week_start(day: date) -> date:
    return day - timedelta(days=day.weekday())


def iso_label(monday: date) -> str:
    year, week, _day = monday.isocalendar()
    return f"{year}-W{week:02d}"


def period_start(weeks: int, now: datetime | None = None) -> datetime:
    """Midnight of the Monday ``weeks - 1`` weeks before this week's."""
    now = timezone.localtime(now or timezone.now())
    first = week_start(now.date()) - timedelta(weeks=max(1, weeks) - 1)
    return timezone.make_aware(datetime.combine(first, time.min))


def _reminders(since: datetime):
    return OutboxEmail.objects.filter(
        event=ABANDONED_CART, status=Status.SENT, is_test=False, sent_at__gte=since
    )


def _as_monday(value) -> date:
    return week_start(value.date() if isinstance(value, datetime) else value)


def per_step(since: datetime) -> list[Figures]:
    """One row per step that sent anything since ``since``, step order."""
    rows: dict[int, Figures] = {}
    sent = (
        _reminders(since).annotate(step=KT("extra__step")).values("step").annotate(n=Count("id")).order_by()
    )
    for group in sent:
        number = int(group["step"] or 1)
        rows.setdefault(number, Figures(str(number))).sent += group["n"]
    recovered = (
        CartRecovery.objects.filter(reminded_at__gte=since)
        .values("step", "currency")
        .annotate(n=Count("id"), revenue=Sum("revenue"))
        .order_by()
    )
    for group in recovered:
        figures = rows.setdefault(group["step"], Figures(str(group["step"])))
        figures.recovered += group["n"]
        figures.add_revenue(group["currency"], group["revenue"])
    return [rows[number] for number in sorted(rows)]


def per_week(since: datetime, now: datetime | None = None) -> list[Figures]:
    """Every ISO week from ``since`` to now, oldest first (empty weeks too)."""
    rows: dict[date, Figures] = {}
    monday = week_start(timezone.localtime(since).date())
    last = week_start(timezone.localtime(now or timezone.now()).date())
    while monday <= last:
        rows[monday] = Figures(iso_label(monday))
        monday += timedelta(weeks=1)
    sent = (
        _reminders(since)
        .annotate(week=TruncWeek("sent_at"))
        .values("week")
        .annotate(n=Count("id"))
        .order_by()
    )
    for group in sent:
        week = _as_monday(group["week"])
        rows.setdefault(week, Figures(iso_label(week))).sent += group["n"]
    recovered = (
        CartRecovery.objects.filter(reminded_at__gte=since)
        .annotate(week=TruncWeek("reminded_at"))
        .values("week", "currency")
        .annotate(n=Count("id"), revenue=Sum("revenue"))
        .order_by()
    )
    for group in recovered:
        week = _as_monday(group["week"])
        figures = rows.setdefault(week, Figures(iso_label(week)))
        figures.recovered += group["n"]
        figures.add_revenue(group["currency"], group["revenue"])
    return [rows[week] for week in sorted(rows)]


def overall(since: datetime) -> Figures:
    """Carts reminded (distinct) and carts recovered since ``since``."""
    figures = Figures("total")
    figures.sent = _reminders(since).values("content_type_id", "object_id").distinct().count()
    for group in (
        CartRecovery.objects.filter(reminded_at__gte=since)
        .values("currency")
        .annotate(n=Count("id"), revenue=Sum("revenue"))
        .order_by()
    ):
        figures.recovered += group["n"]
        figures.add_revenue(group["currency"], group["revenue"])
    return figures
