"""Email analytics per mail event and ISO week, and their SVG charts.

Counts come from the outbox rows the ESP accepted (``status = sent``; staff
test emails and staff alerts left out), grouped by the week they were sent,
in one query:

* **sent**: emails the ESP accepted;
* **delivered**: emails with a "delivered" webhook;
* **open rate** / **click rate**: emails opened / clicked at least once,
  divided by the emails that did not bounce (sent − bounced). This works
  whether or not the ESP reports deliveries. A click counts as an open.
  Apple Mail Privacy Protection inflates opens: judge by clicks;
* **bounce rate**: emails that bounced or the ESP rejected, divided by sent;
* **complaint rate**: emails marked as spam, divided by sent − bounced.

Every rate needs the ESP's webhooks. An email type none of whose emails in
the period has any webhook outcome (no delivery status, open or click) shows
"no data yet" instead of rates (:func:`has_data`), and while no
webhook event has arrived at all (:func:`webhooks_seen`) the page says how to
connect them (``SETUP_DOCS_URL``) instead of showing 0.0 %.

Gmail and Yahoo want the spam rate below 0.1 % (never 0.3 %) and bounces
low; the page warns above ``COMPLAINT_RATE_WARNING`` and
``BOUNCE_RATE_WARNING``. Charts are plain SVG built here, so the admin page
needs no JavaScript and no CDN.
"""

from __future__ import annotations

from collections.abc import Mapping
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from django.db.models import Count, Q
from django.db.models.functions import TruncWeek
from django.utils import timezone
from django.utils.translation import gettext as _

from .. import events as events_module
from ..events import ALL_EVENTS, event_choices
from ..outbox.delivery_status import DeliveryStatus
from ..outbox.models import OutboxEmail, Status
from .app_settings import app_settings

BOUNCED = (DeliveryStatus.BOUNCED, DeliveryStatus.REJECTED)

#: Where the page sends staff to connect the ESP's webhooks.
SETUP_DOCS_URL = "https://django-order-mail.readthedocs.io/en/latest/tracking.html#receiving-esp-webhooks"

#: An email with any outcome a webhook reported.
TRACKED = ~Q(delivery_status="") | Q(delivered_at__isnull=False) | Q(opened_at__isnull=False)


@dataclass
class WeekStats:
    event: str
    week: date  # the Monday
    sent: int = 0
    delivered: int = 0
    opened: int = 0
    clicked: int = 0
    bounced: int = 0
    complained: int = 0
    tracked: int = 0  # emails with any webhook outcome
    warnings: list[str] = field(default_factory=list)

    @property
    def label(self) -> str:
        year, week, _day = self.week.isocalendar()
        return f"{year}-W{week:02d}"

    @property
    def reached(self) -> int:
        return max(self.sent - self.bounced, 0)

    def _rate(self, part: int, whole: int) -> float | None:
        return part / whole if whole else None

    @property
    def open_rate(self):
        return self._rate(self.opened, self.reached)

    @property
    def click_rate(self):
        return self._rate(self.clicked, self.reached)

    @property
    def bounce_rate(self):
        return self._rate(self.bounced, self.sent)

    @property
    def complaint_rate(self):
        return self._rate(self.complained, self.reached)


COUNTS = ("sent", "delivered", "opened", "clicked", "bounced", "complained", "tracked")


def has_data(stats: list[WeekStats]) -> bool:
    """True if a webhook reported anything about these emails: only then
    are their rates rates (and not 0.0 % for lack of data)."""
    return any(s.tracked for s in stats)


def webhooks_seen() -> bool:
    """True once any webhook event has arrived from the ESP."""
    from .models import TrackingEvent

    return TrackingEvent.objects.exists()


def week_start(day: date) -> date:
    return day - timedelta(days=day.weekday())


def weekly_stats(*, weeks: int | None = None, event: str | None = None, now=None) -> dict[str, list]:
    """``{event: [WeekStats, ...]}`` for the last ``weeks`` ISO weeks (the
    current one included), oldest first, every week present."""
    weeks = max(1, int(weeks or app_settings.ANALYTICS_WEEKS))
    now = timezone.localtime(now or timezone.now())
    first = week_start(now.date()) - timedelta(weeks=weeks - 1)
    since = timezone.make_aware(datetime.combine(first, time.min))
    rows = OutboxEmail.objects.filter(status=Status.SENT, sent_at__gte=since, is_test=False)
    if event:
        rows = rows.filter(event=event)
    staff_only: AbstractSet[str] = getattr(events_module, "INTERNAL_EVENTS", frozenset())  # alerts to staff
    if staff_only:
        rows = rows.exclude(event__in=staff_only)
    grouped = (
        rows.annotate(week=TruncWeek("sent_at"))
        .values("event", "week")
        .annotate(
            sent=Count("id"),
            delivered=Count("id", filter=Q(delivered_at__isnull=False)),
            opened=Count("id", filter=Q(opened_at__isnull=False)),
            clicked=Count("id", filter=Q(clicked_at__isnull=False)),
            bounced=Count("id", filter=Q(delivery_status__in=BOUNCED)),
            complained=Count("id", filter=Q(delivery_status=DeliveryStatus.COMPLAINED)),
            tracked=Count("id", filter=TRACKED),
        )
        .order_by()
    )
    found: dict[str, dict[date, WeekStats]] = {}
    for g in grouped:
        week = g["week"]
        week = week_start(week.date() if isinstance(week, datetime) else week)
        stats = found.setdefault(g["event"], {}).setdefault(week, WeekStats(g["event"], week))
        counts: Mapping[str, Any] = g  # read by the names in COUNTS, not literal keys
        for key in COUNTS:
            setattr(stats, key, getattr(stats, key) + counts[key])
    all_weeks = [first + timedelta(weeks=i) for i in range(weeks)]
    order = {e: i for i, e in enumerate(ALL_EVENTS)}
    result = {}
    for name in sorted(found, key=lambda e: order.get(e, len(order))):
        result[name] = [found[name].get(w) or WeekStats(name, w) for w in all_weeks]
        for stats in result[name]:
            stats.warnings = warnings_for(stats)
    return result


def warnings_for(stats: WeekStats) -> list[str]:
    """Deliverability warnings of one event-week."""
    found = []
    complaint_limit = app_settings.COMPLAINT_RATE_WARNING
    bounce_limit = app_settings.BOUNCE_RATE_WARNING
    if stats.complaint_rate is not None and stats.complaint_rate > complaint_limit:
        found.append(
            _("Complaint rate %(rate)s is above %(limit)s: mailbox providers start filtering you as spam.")
            % {"rate": percent(stats.complaint_rate), "limit": percent(complaint_limit)}
        )
    if stats.bounce_rate is not None and stats.bounce_rate > bounce_limit:
        found.append(
            _("Bounce rate %(rate)s is above %(limit)s: check how addresses are collected.")
            % {"rate": percent(stats.bounce_rate), "limit": percent(bounce_limit)}
        )
    return found


def display(stats: WeekStats) -> dict:
    """One table row with the rates formatted and the limits flagged."""
    return {
        "label": stats.label,
        "sent": stats.sent,
        "delivered": stats.delivered,
        "open_rate": percent(stats.open_rate),
        "click_rate": percent(stats.click_rate),
        "bounce_rate": percent(stats.bounce_rate),
        "complaint_rate": percent(stats.complaint_rate),
        "bounce_high": (stats.bounce_rate or 0) > app_settings.BOUNCE_RATE_WARNING,
        "complaint_high": (stats.complaint_rate or 0) > app_settings.COMPLAINT_RATE_WARNING,
    }


def percent(value: float | None) -> str:
    if value is None:
        return "–"
    digits = 2 if 0 < value < 0.01 else 1
    return f"{value * 100:.{digits}f} %"


# --- SVG charts --------------------------------------------------------------------------

WIDTH, HEIGHT = 600, 200
LEFT, RIGHT, TOP, BOTTOM = 48, 12, 12, 28


@dataclass
class Series:
    name: str
    colour: str
    points: list[dict]  # {"x", "y", "label"}

    @property
    def polyline(self) -> str:
        return " ".join(f"{p['x']:.1f},{p['y']:.1f}" for p in self.points)


def _nice_max(value: float, floor: float) -> float:
    top = max(value * 1.2, floor)
    for step in (0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1.0):
        if top <= step:
            return step
    return 1.0


def line_chart(title: str, stats: list[WeekStats], metrics, *, floor: float, thresholds=()) -> dict:
    """Geometry of one chart: ``metrics`` is ``[(name, colour, attr)]``,
    ``thresholds`` ``[(name, value)]`` drawn as dashed lines."""
    values = [getattr(s, attr) or 0.0 for _n, _c, attr in metrics for s in stats]
    y_max = _nice_max(max([*values, *(v for _n, v in thresholds)], default=0.0), floor)
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    step = plot_w / max(len(stats) - 1, 1)

    def y_of(value: float) -> float:
        return TOP + plot_h * (1 - min(value, y_max) / y_max)

    series = []
    for name, colour, attr in metrics:
        points = []
        for i, s in enumerate(stats):
            value = getattr(s, attr)
            if value is None:  # nothing sent that week: no point, not a fake 0 %
                continue
            points.append(
                {
                    "x": LEFT + i * step,
                    "y": y_of(value),
                    "label": f"{s.label}: {name} {percent(value)}",
                }
            )
        series.append(Series(name, colour, points))
    grid = [{"y": y_of(y_max * f), "label": percent(y_max * f)} for f in (0, 0.25, 0.5, 0.75, 1)]
    every = max(1, len(stats) // 6)
    x_labels = [{"x": LEFT + i * step, "label": s.label} for i, s in enumerate(stats) if i % every == 0]
    lines = [{"y": y_of(v), "label": f"{n} {percent(v)}"} for n, v in thresholds if v <= y_max]
    return {
        "title": title,
        "width": WIDTH,
        "height": HEIGHT,
        "left": LEFT,
        "right": WIDTH - RIGHT,
        "bottom": HEIGHT - BOTTOM,
        "series": series,
        "grid": grid,
        "x_labels": x_labels,
        "thresholds": lines,
    }


def charts_for(event: str, stats: list[WeekStats]) -> list[dict]:
    label = dict(event_choices()).get(event, event)
    engagement = line_chart(
        _("%(event)s: opens and clicks") % {"event": label},
        stats,
        [(_("open rate"), "#2563eb", "open_rate"), (_("click rate"), "#16a34a", "click_rate")],
        floor=0.25,
    )
    problems = line_chart(
        _("%(event)s: bounces and complaints") % {"event": label},
        stats,
        [
            (_("bounce rate"), "#d97706", "bounce_rate"),
            (_("complaint rate"), "#dc2626", "complaint_rate"),
        ],
        floor=0.03,
        thresholds=[
            (_("bounce limit"), app_settings.BOUNCE_RATE_WARNING),
            (_("complaint limit"), app_settings.COMPLAINT_RATE_WARNING),
        ],
    )
    return [engagement, problems]
