"""The reminder sequence: staff's (admin) if saved, else ``ORDER_MAIL["ABANDONED_CART_STEPS"]``.

Each step fires when the cart has been idle (no activity) for its
``after_hours``. A later step also waits at least the difference to the
previous step after that previous reminder, so a scan that falls behind (or
a cart found late) never sends two reminders in a row: with 1 h / 24 h /
72 h the second reminder comes 23 h after the first at the earliest.

A step staff switched off is left out: carts go from the step before it
straight to the next step that is on (:attr:`Step.follows`). Steps keep
their numbers, so a reminder's idempotency key (``step-<n>``) and the
statistics per step mean the same step before and after a change.

The scan reads the sequence once per run; what a step says (subject,
coupon rule) is copied onto each reminder row it writes, so a row already
written keeps it whatever staff change later (:func:`step_extra`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

from .app_settings import app_settings


@dataclass(frozen=True)
class Step:
    number: int  # 1-based, as shown to staff and used in idempotency keys
    after: timedelta  # idle time before this reminder
    gap: timedelta  # minimum time since the previous reminder (zero for the first)
    enabled: bool = True
    subject: str = ""
    subject_language: str = ""
    coupon_rule_id: int | None = None
    #: Number of the step before it that is on (0: none); None: ``number - 1``.
    previous: int | None = None

    @property
    def follows(self) -> int:
        """The ``reminder_step`` a cart has when this step is next: the last step before it that is on."""
        return self.number - 1 if self.previous is None else self.previous


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


def saved_steps() -> list[Step] | None:
    """The steps staff saved in the admin, all of them (on and off), or
    None while nobody saved the sequence."""
    from .models import ReminderSequence, ReminderStep

    if not ReminderSequence.objects.filter(pk=ReminderSequence.SINGLETON_PK).exists():
        return None
    rows = list(ReminderStep.objects.filter(sequence_id=ReminderSequence.SINGLETON_PK).order_by("number"))
    steps: list[Step] = []
    hours_of: dict[int, Decimal] = {}
    previous_on = 0  # the last step before this one that is on
    row_before: Decimal | None = None  # the step right before, on or off
    for row in rows:
        hours = Decimal(row.after_hours)
        # Waits after the previous reminder that is on; with none on before
        # it, after one an earlier (now off) step may have sent.
        before = hours_of[previous_on] if previous_on else row_before
        steps.append(
            Step(
                number=row.number,
                after=timedelta(hours=float(hours)),
                gap=timedelta(hours=float(hours - before)) if before is not None else timedelta(0),
                enabled=row.enabled,
                subject=row.subject,
                subject_language=row.subject_language,
                coupon_rule_id=row.coupon_rule_id,
                previous=None if previous_on == row.number - 1 else previous_on,
            )
        )
        hours_of[row.number] = row_before = hours
        if row.enabled:
            previous_on = row.number
    return steps


def all_steps() -> list[Step]:
    """Every step, on and off: staff's sequence if saved, else the setting's."""
    saved = saved_steps()
    return saved if saved is not None else parse_steps(app_settings.ABANDONED_CART_STEPS)


def configured_steps() -> list[Step]:
    """The steps that send (switched on), in order."""
    return [step for step in all_steps() if step.enabled]


def last_step_number(steps: list[Step]) -> int:
    """The number of the last step that sends (a reminder's "is it the last one?")."""
    return max((step.number for step in steps if step.enabled), default=0)


def step_extra(step: Step, steps: int) -> dict:
    """What a reminder row keeps of its step (``OutboxEmail.extra``): fixed
    when the row is written, so later changes apply to later reminders only.
    Keys appear only when staff set them: a settings-only sequence writes
    ``{"step", "steps"}`` as before."""
    extra: dict = {"step": step.number, "steps": steps}
    if step.subject:
        extra["subject"] = step.subject
        extra["subject_language"] = step.subject_language
    if step.coupon_rule_id is not None:
        extra["coupon_rule"] = step.coupon_rule_id
    return extra
