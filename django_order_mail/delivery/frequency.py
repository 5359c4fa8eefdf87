"""The commercial frequency cap: a core policy every commercial email obeys.

Commercial emails come from several feature apps (abandoned-cart reminders,
feedback requests, a shop's own events), so the cap is the core's, not any
one feature's: at most ``COMMERCIAL_FREQUENCY_CAP["max"]`` of them per
address within ``"hours"`` (``docs/settings.rst``), or the values staff saved
in the admin (*Commercial frequency cap*, :mod:`django_order_mail.policies.cap`),
which replace the setting once saved. The sender applies it
after every ``pre_send`` receiver let the email go and before ``pre_render``
(``docs/signals.rst``), so an email stopped for a stronger reason (a
suppressed address, an ordered cart) is recorded with that reason and never
counts against the cap, and a coupon or a subject variant is only given to
an email that is really sent.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db.models import Q

from ..events import COMMERCIAL_EVENTS
from ..exceptions import SendVetoed
from ..outbox.addresses import normalize_address
from ..outbox.models import OutboxEmail, Status
from ..policies.cap import effective_cap


def frequency_cap(row: OutboxEmail, address: str, now: datetime) -> SendVetoed | None:
    """Why ``row`` must be skipped (or postponed) now, or None to send it.

    Only commercial, non-test first sends count and are counted (a staff
    resend is a deliberate act). Rows being sent at the same moment count
    only if their id is lower, so two workers sending two commercial emails
    to one address at once send exactly one of them, never both and never
    neither.
    """
    if row.is_test or row.resend_of_id is not None or row.event not in COMMERCIAL_EVENTS:
        return None
    # Read only for a commercial first send: transactional email costs no lookup.
    cap = effective_cap()
    if not cap or not address or not cap.get("max"):
        return None
    limit = int(cap["max"])
    hours = float(cap.get("hours") or 24)
    since = now - timedelta(hours=hours)
    counted = (
        OutboxEmail.objects.filter(event__in=COMMERCIAL_EVENTS, is_test=False)
        .filter(
            Q(status=Status.SENT, sent_at__gte=since)
            | Q(status=Status.SENDING, pk__lt=row.pk, claimed_at__gte=since)
        )
        # Case-insensitive, as mailboxes are. The time window (partial
        # indexes on sent and sending rows) bounds what this compares.
        .filter(recipient__iexact=normalize_address(address))
        .exclude(pk=row.pk)
    )
    # Every row has one: a sent row its sent_at, a sending row its claimed_at (filtered above).
    stamps = [sent_at or claimed_at for sent_at, claimed_at in counted.values_list("sent_at", "claimed_at")]
    times = sorted((t for t in stamps if t is not None), reverse=True)
    if len(times) < limit:
        return None
    shown = f"{hours:g}"
    reason = (
        f"frequency cap: {len(times)} commercial email(s) went to this address in the last {shown} h "
        f"(at most {limit})"
    )
    if row.event in (cap.get("defer") or ()):
        # The limit-th newest email leaves the window first.
        when = times[limit - 1] + timedelta(hours=hours)
        reason = f"{reason}; postponed to {when:%Y-%m-%d %H:%M} UTC"
        # Waiting for the cap is not a delivery attempt: keep the retry budget.
        return SendVetoed(
            reason, status=Status.SCHEDULED, fields={"send_after": when, "attempts": max(row.attempts - 1, 0)}
        )
    return SendVetoed(reason, status=Status.SKIPPED)


def cap_setting_errors(raw: dict) -> list:
    """E406: ``COMMERCIAL_FREQUENCY_CAP`` as the project wrote it."""
    from django.core.checks import Error

    if "COMMERCIAL_FREQUENCY_CAP" not in raw or raw["COMMERCIAL_FREQUENCY_CAP"] is None:
        return []
    cap = raw["COMMERCIAL_FREQUENCY_CAP"]

    def error(message: str, hint: str | None = None) -> Error:
        return Error(message, hint=hint, id="django_order_mail.E406")

    def is_count(value) -> bool:
        return isinstance(value, int) and not isinstance(value, bool) and value >= 0

    if not isinstance(cap, dict) or not is_count(cap.get("max")):
        return [
            error(
                "ORDER_MAIL['COMMERCIAL_FREQUENCY_CAP'] must be None or a dict with an integer 'max'.",
                'Example: {"max": 1, "hours": 24, "defer": ["feedback_request"]}.',
            )
        ]
    errors = []
    hours = cap.get("hours", 24)
    if isinstance(hours, bool) or not isinstance(hours, (int, float)) or hours <= 0:
        errors.append(error("COMMERCIAL_FREQUENCY_CAP['hours'] must be a positive number."))
    for event in cap.get("defer") or ():
        if event not in COMMERCIAL_EVENTS:
            errors.append(
                error(f"COMMERCIAL_FREQUENCY_CAP['defer'] names {event!r}, not a commercial event.")
            )
    unknown = set(cap) - {"max", "hours", "defer"}
    if unknown:
        errors.append(error(f"COMMERCIAL_FREQUENCY_CAP has unknown keys {sorted(unknown)}."))
    return errors
