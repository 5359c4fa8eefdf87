"""A small server-rendered SVG line chart for the admin's weekly trend.

No JavaScript and no CDN: the chart is markup built from numbers and dates
only (never customer text), every piece passed through ``format_html``.
Weeks without answers leave a gap in the line rather than a fake zero.
"""

from __future__ import annotations

from django.utils.formats import date_format
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _

WIDTH, HEIGHT = 720, 220
PAD_LEFT, PAD_RIGHT, PAD_TOP, PAD_BOTTOM = 44, 16, 14, 42


def _fmt(value: float) -> str:
    return f"{value:.1f}"


def line_chart(
    points: list[dict],
    *,
    y_min: float,
    y_max: float,
    title: str,
    color: str = "#2563eb",
    ticks: int = 5,
) -> SafeString:
    """``points``: dicts with ``week`` (date), ``value`` (number or None) and
    ``count`` (answers that week)."""
    inner_w = WIDTH - PAD_LEFT - PAD_RIGHT
    inner_h = HEIGHT - PAD_TOP - PAD_BOTTOM
    n = len(points)

    def x(i: int) -> float:
        return PAD_LEFT + (inner_w * i / (n - 1) if n > 1 else inner_w / 2)

    def y(v: float) -> float:
        return PAD_TOP + (y_max - v) / (y_max - y_min) * inner_h

    grid = []
    for t in range(ticks + 1):
        value = y_min + (y_max - y_min) * t / ticks
        grid.append(
            (_fmt(PAD_LEFT), _fmt(y(value)), _fmt(WIDTH - PAD_RIGHT), _fmt(PAD_LEFT - 6), f"{value:g}")
        )
    grid_svg = format_html_join(
        "",
        '<line x1="{0}" y1="{1}" x2="{2}" y2="{1}" stroke="#e5e7eb"/>'
        '<text x="{3}" y="{1}" dy="4" text-anchor="end" font-size="11" fill="#6b7280">{4}</text>',
        grid,
    )

    segments: list[list[str]] = []
    current: list[str] = []
    for i, point in enumerate(points):
        if point["value"] is None:
            if current:
                segments.append(current)
            current = []
        else:
            current.append(f"{_fmt(x(i))},{_fmt(y(point['value']))}")
    if current:
        segments.append(current)
    lines_svg = format_html_join(
        "",
        '<polyline points="{}" fill="none" stroke="{}" stroke-width="2"/>',
        ((" ".join(seg), color) for seg in segments if len(seg) > 1),
    )

    dots = []
    for i, point in enumerate(points):
        if point["value"] is None:
            continue
        label = _("%(week)s: %(value)s (%(count)s answers)") % {
            "week": date_format(point["week"], "SHORT_DATE_FORMAT"),
            "value": f"{point['value']:g}",
            "count": point["count"],
        }
        dots.append((_fmt(x(i)), _fmt(y(point["value"])), color, label))
    dots_svg = format_html_join(
        "", '<circle cx="{}" cy="{}" r="3.5" fill="{}"><title>{}</title></circle>', dots
    )

    step = max(1, (n + 7) // 8)  # at most ~8 date labels
    labels_svg = format_html_join(
        "",
        '<text x="{}" y="{}" text-anchor="middle" font-size="11" fill="#6b7280">{}</text>',
        (
            (_fmt(x(i)), HEIGHT - PAD_BOTTOM + 18, date_format(p["week"], "M j"))
            for i, p in enumerate(points)
            if i % step == 0
        ),
    )
    empty = (
        ""
        if dots
        else format_html(
            '<text x="{}" y="{}" text-anchor="middle" fill="#6b7280">{}</text>',
            WIDTH // 2,
            HEIGHT // 2,
            _("No answers in this period"),
        )
    )
    return format_html(
        '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {} {}" width="100%" role="img" '
        'aria-label="{}" class="feedback-chart"><title>{}</title>{}{}{}{}{}</svg>',
        WIDTH,
        HEIGHT,
        title,
        title,
        grid_svg,
        lines_svg,
        dots_svg,
        labels_svg,
        empty,
    )
