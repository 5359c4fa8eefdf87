"""The reminder sequence from ``ORDER_MAIL["ABANDONED_CART_STEPS"]``.

Each step fires when the cart has been idle (no activity) for its
``after_hours``. A later step also waits at least the difference to the
previous step after that previous reminder, so a scan that falls behind (or
a cart found late) never sends two reminders in a row: with 1 h / 24 h /
72 h the second reminder comes 23 h after the first at the earliest.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from .app_settings import app_settings


@dataclass(frozen=True)
class Step:
    number: int  # 1-based, as shown to staff and used in idempotency keys
    after: timedelta  # idle time before this reminder
    gap: timedelta  # minimum time since the previous reminder (zero for the first)


def parse_steps(raw) -> list[Step]:
    """``[12]``, ``[1, 24, 72]`` or ``[{"after_hours": 12}, ...]`` -> steps.

    Raises ``ValueError`` with a readable message on anything else (the
    system check ``E401`` shows it at start-up).
    """
    if not isinstance(raw, (list, tuple)):
        raise ValueError("must be a list of hours or of {'after_hours': ...} dicts")
    hours: list[float] = []
    for position, entry in enumerate(raw, start=1):
        if isinstance(entry, dict):
            unknown = set(entry) - {"after_hours"}
            if unknown:
                raise ValueError(f"step {position} has unknown keys {sorted(unknown)}")
            entry = entry.get("after_hours")
        if isinstance(entry, bool) or not isinstance(entry, (int, float)) or entry <= 0:
            raise ValueError(f"step {position}: after_hours must be a positive number")
        if hours and entry <= hours[-1]:
            raise ValueError(f"step {position} must come later than step {position - 1}")
        hours.append(float(entry))
    return [
        Step(
            number=number,
            after=timedelta(hours=value),
            gap=timedelta(hours=value - hours[number - 2]) if number > 1 else timedelta(0),
        )
        for number, value in enumerate(hours, start=1)
    ]


def configured_steps() -> list[Step]:
    return parse_steps(app_settings.ABANDONED_CART_STEPS)
