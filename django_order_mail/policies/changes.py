"""The change log of staff-edited policies: who, when, which field, old -> new.

Admin pages take a :func:`snapshot` of a record before and after a save and
hand both to :func:`record_changes`, which writes one
:class:`~.models.SettingChange` row per field whose shown value changed.
Values are kept as the staff saw them (a choice's label, a rule's name,
"yes"/"no"), in the language of the staff member who made the change: the
log is read by people, not replayed by code.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from decimal import Decimal

from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.text import capfirst
from django.utils.translation import gettext

from .models import SettingChange

#: Shown for an empty value (and for a line that did not exist before).
EMPTY = "–"

#: ``{key: (label, shown value)}``: what :func:`snapshot` returns.
Snapshot = dict[str, tuple[str, str]]


def display_value(value) -> str:
    """``value`` as staff read it in the log."""
    if value is None or value == "" or value == [] or value == ():
        return EMPTY
    if isinstance(value, bool):
        return gettext("yes") if value else gettext("no")
    if isinstance(value, Decimal):
        # 24.00 -> "24", 1.50 -> "1.5": the number staff typed, not the column's scale.
        text = format(value.normalize(), "f")
        return text
    if isinstance(value, datetime):
        return date_format(
            timezone.localtime(value) if timezone.is_aware(value) else value, "DATETIME_FORMAT"
        )
    if isinstance(value, (list, tuple)):
        return ", ".join(display_value(v) for v in value)
    return str(value)


def field_value(instance: models.Model, name: str):
    """A field's value as the admin shows it: a choice's label, a related record's name."""
    field = instance._meta.get_field(name)
    if getattr(field, "choices", None):
        return getattr(instance, f"get_{name}_display")()
    if field.is_relation:
        related = getattr(instance, name, None)
        return str(related) if related is not None else None
    return getattr(instance, name)


def snapshot(
    instance: models.Model | None, fields: Iterable[str], *, prefix: str = "", label: str = ""
) -> Snapshot:
    """``{prefix + field: (label, shown value)}`` of ``instance`` (empty for None).

    ``label`` goes in front of each field's name ("Step 2 · delay"), for the
    lines of an inline.
    """
    if instance is None:
        return {}
    result: Snapshot = {}
    for name in fields:
        verbose = capfirst(str(getattr(instance._meta.get_field(name), "verbose_name", name)))
        shown = f"{label} · {verbose}" if label else verbose
        result[prefix + name] = (shown, display_value(field_value(instance, name)))
    return result


def record_changes(user, instance: models.Model, before: Snapshot, after: Snapshot) -> list[SettingChange]:
    """One log row per key whose value differs between ``before`` and ``after``.

    A key only in ``after`` is a line added (old value "–"), a key only in
    ``before`` one removed (new value "–"). Returns the rows written.
    """
    content_type = ContentType.objects.get_for_model(instance, for_concrete_model=False)
    now = timezone.now()
    name = user.get_username()[:150] if user is not None and user.is_authenticated else ""
    rows = []
    for key in [*after, *(k for k in before if k not in after)]:
        label, new = after.get(key) or (before[key][0], EMPTY)
        old = before.get(key, (label, EMPTY))[1]
        if old == new:
            continue
        rows.append(
            SettingChange(
                content_type=content_type,
                object_id=str(instance.pk),
                object_repr=str(instance)[:200],
                field=key[:100],
                field_label=label[:200],
                old_value=old,
                new_value=new,
                changed_by=user if name else None,
                changed_by_name=name,
                changed_at=now,
            )
        )
    return SettingChange.objects.bulk_create(rows)


def recent_changes(instance: models.Model, limit: int = 10) -> list[SettingChange]:
    """The latest changes of ``instance``, newest first (for its change form)."""
    if instance is None or instance.pk is None:
        return []
    content_type = ContentType.objects.get_for_model(instance, for_concrete_model=False)
    return list(
        SettingChange.objects.filter(content_type=content_type, object_id=str(instance.pk))
        .select_related("changed_by")
        .order_by("-changed_at", "-id")[:limit]
    )
