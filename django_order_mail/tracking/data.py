"""The tracking app's personal data (``docs/data-protection.rst``): its
tracking events and the suppression list, registered with the core's data
registry from the app config.

An erased address leaves its suppression entries behind as a keyed hash
(:func:`django_order_mail.data.erased_address_for`), which the suppression
check also looks up (:mod:`.suppression`): a customer who was forgotten
after a complaint or a hard bounce is still not emailed.
"""

from __future__ import annotations

from datetime import datetime

from django.utils.translation import gettext_lazy as _

from ..data import ERASED, ERASED_ADDRESS, erased_address_for, register_personal_data, register_retention_need
from .app_settings import app_settings
from .models import Suppression, TrackingEvent


def export_suppression(address: str) -> list[dict]:
    rows = Suppression.objects.filter(address__in=[address, erased_address_for(address)])
    return [
        {"reason": s.reason, "scope": s.scope, "source": s.source, "since": s.created_at}
        for s in rows.order_by("created_at", "id")
    ]


def export_events(address: str) -> list[dict]:
    rows = TrackingEvent.objects.filter(recipient__iexact=address).order_by("received_at", "id")
    return [{"event": e.event_type, "at": e.occurred_at or e.received_at, "link": e.click_url} for e in rows]


def erase_suppression(address: str, keyed_hash: str) -> int:
    """Keep each entry, under the hash of the address, without its note."""
    hashed = erased_address_for(address)
    changed = 0
    for entry in Suppression.objects.filter(address=address):
        if Suppression.objects.filter(address=hashed, scope=entry.scope).exists():
            entry.delete()  # erased before: the hashed entry already stops it
        else:
            Suppression.objects.filter(pk=entry.pk).update(address=hashed, note="")
        changed += 1
    return changed


def erase_events(address: str, keyed_hash: str) -> int:
    return TrackingEvent.objects.filter(recipient__iexact=address).update(
        recipient=ERASED_ADDRESS, description=ERASED, click_url=""
    )


def expire_events(cutoff: datetime, run) -> int:
    """Webhook events older than the period (the send log keeps the outcome)."""
    return run.delete(run.older_than(TrackingEvent.objects.all(), cutoff, field="received_at"))


def register() -> None:
    register_personal_data(
        "tracking_events",
        verbose_name=_("tracking events"),
        export=export_events,
        erase=erase_events,
        retention=expire_events,
        retention_days=365,
    )
    # No retention: an entry stays until staff remove it.
    register_personal_data(
        "suppression", verbose_name=_("suppression list"), export=export_suppression, erase=erase_suppression
    )
    # The unsubscribe link names its email's send-log row (check W006).
    register_retention_need(
        "send_log",
        days=lambda: app_settings.UNSUBSCRIBE_LINK_MAX_AGE_DAYS,
        needed_by="the unsubscribe links, UNSUBSCRIBE_LINK_MAX_AGE_DAYS",
        effect="a customer could no longer unsubscribe from an older email (the link would show an error "
        "page)",
    )
    # Revenue per email looks back at the clicks before an order (attribution.py).
    register_retention_need(
        "tracking_events",
        days=lambda: app_settings.ATTRIBUTION_DAYS,
        needed_by="revenue per email, ATTRIBUTION_DAYS",
        effect="orders placed after a click that retention already deleted would be credited to no email",
    )
