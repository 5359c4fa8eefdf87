"""Helpers of the tests of the staff pages of the carts app: the sequence
saved as the admin form saves it, and the form's POST data."""

from __future__ import annotations

from decimal import Decimal

from django_order_mail.carts.models import CouponRule, ReminderSequence, ReminderStep


def save_sequence(*steps: dict) -> ReminderSequence:
    """``save_sequence({"number": 1, "after_hours": 1}, ...)`` (what a saved admin form writes)."""
    sequence, _ = ReminderSequence.objects.get_or_create(pk=ReminderSequence.SINGLETON_PK)
    sequence.steps.all().delete()
    for step in steps:
        ReminderStep.objects.create(
            sequence=sequence, **{**step, "after_hours": Decimal(str(step["after_hours"]))}
        )
    return sequence


def rule(**fields) -> CouponRule:
    values = {
        "name": "10 % back",
        "kind": CouponRule.Kind.PERCENT,
        "value": Decimal("10"),
        "first_recovery_only": False,
        "once_per_days": None,
        **fields,
    }
    instance = CouponRule(**values)
    instance.full_clean()
    instance.save()
    return instance


def formset_data(steps: list[dict], *, initial: int = 0, prefix: str = "steps") -> dict:
    """POST data of the sequence page's step lines (``id`` for lines that exist)."""
    data = {
        f"{prefix}-TOTAL_FORMS": str(len(steps)),
        f"{prefix}-INITIAL_FORMS": str(initial),
        f"{prefix}-MIN_NUM_FORMS": "0",
        f"{prefix}-MAX_NUM_FORMS": "1000",
    }
    for i, step in enumerate(steps):
        for key, value in step.items():
            if key == "enabled":
                if value:
                    data[f"{prefix}-{i}-enabled"] = "on"
                continue
            if key == "DELETE":
                if value:
                    data[f"{prefix}-{i}-DELETE"] = "on"
                continue
            data[f"{prefix}-{i}-{key}"] = "" if value is None else str(value)
    return data


def step_lines(sequence: ReminderSequence) -> list[dict]:
    """The saved steps as the change form posts them back unchanged."""
    return [
        {
            "id": step.pk,
            "sequence": sequence.pk,
            "number": step.number,
            "after_hours": step.after_hours,
            "enabled": step.enabled,
            "subject": step.subject,
            "subject_language": step.subject_language,
            "coupon_rule": step.coupon_rule_id or "",
        }
        for step in sequence.steps.order_by("number")
    ]
