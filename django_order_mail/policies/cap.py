"""The commercial frequency cap in force: staff's record, else the setting.

:func:`effective_cap` is what :mod:`django_order_mail.delivery.frequency`
applies right before each commercial email. While nobody saved the
admin's *Commercial frequency cap* it returns
``ORDER_MAIL["COMMERCIAL_FREQUENCY_CAP"]`` unchanged; once saved, the record
replaces the setting (switched off: no cap). It is read when an email is
sent, so a change applies to every commercial email sent after it, queued
before or not; emails already skipped or postponed keep that outcome (a
postponed one is checked again, under the cap then in force, when it is due).
"""

from __future__ import annotations

from ..app_settings import app_settings
from ..memo import memoized
from .models import FrequencyCap


def saved_cap() -> FrequencyCap | None:
    """The admin's record, once per batch of sends (None: never saved)."""
    return memoized(
        ("order_mail_frequency_cap",),
        lambda: FrequencyCap.objects.filter(pk=FrequencyCap.SINGLETON_PK).first(),
    )


def effective_cap() -> dict | None:
    """``{"max", "hours", "defer"}`` in force, or None for no cap."""
    record = saved_cap()
    if record is None:
        return app_settings.COMMERCIAL_FREQUENCY_CAP
    return record.as_setting()
