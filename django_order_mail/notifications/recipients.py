"""Who gets an internal event: the admin's row wins, the settings are the default.

The rule, in order:

1. A :class:`~.models.StaffNotification` row for the event (set in the
   admin): its recipients, or nobody if it is switched off. The settings are
   not consulted at all.
2. Else the event's default registered with :func:`register_staff_default`:
   the feedback app's low-score alert reads ``FEEDBACK_ALERT_EMAIL`` or the
   support address; the core's ``new_order`` and ``high_value_order`` have
   none (off until staff set them up: every order would otherwise mail the
   support inbox).
3. Else, for an event about something that is not an order (the carrier
   app's daily digest), the address that object names itself
   (``get_mail_recipient()``), as before there was an admin for it.
4. Else the branding's support address: never the customer's.

Resolved when the outbox row is written (the moment of the event); an email
already written keeps its recipient.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from decimal import Decimal

from ..events import EventType, StaffEvent, get_event, registered_events
from ..outbox.addresses import normalize_address
from ..rendering.branding import get_branding
from .models import StaffNotification

#: The skip reason of an event switched off in the admin (no row is written
#: for it; the feedback app's alert shows it in the follow-up queue's log).
SWITCHED_OFF = "switched off in the admin (Staff notifications)"


@dataclass(frozen=True)
class StaffDefault:
    """An internal event's default recipients when the admin has no row for it."""

    #: ``addresses() -> str | list[str]``; None: nobody until set up in the admin.
    addresses: Callable[[], str | Iterable[str]] | None
    #: Where the default comes from, for staff: "ORDER_MAIL['FEEDBACK_ALERT_EMAIL']...".
    source: str = ""


_defaults: dict[str, StaffDefault] = {}


def register_staff_default(
    event: str, addresses: Callable[[], str | Iterable[str]] | None = None, *, source: str = ""
) -> None:
    """Register where ``event``'s recipients come from when staff have set
    nothing in the admin (call it from your app config's ``ready()``).

    ``addresses`` is called each time the event is written and returns an
    address or a list of them (read your settings there, not at import);
    ``None`` means nobody: the event is off until staff set it up. ``source``
    names the settings for staff ("ORDER_MAIL['MY_ALERT_EMAIL']"). The event
    is then listed in the admin's staff notifications even if no transition
    writes it.
    """
    _defaults[str(event)] = StaffDefault(addresses, source)


def staff_default(event: str) -> StaffDefault | None:
    return _defaults.get(str(event))


def register_core_defaults() -> None:
    """The core's own: new orders and high-value orders are off until set up."""
    for event in StaffEvent:
        register_staff_default(event.value, None)


def staff_events() -> list[EventType]:
    """The internal events whose recipients the admin sets: every internal
    event a transition writes (through the outbox's ``enqueue``), and every
    one registered with :func:`register_staff_default`."""
    return [e for e in registered_events() if e.internal and (e.transitions or e.name in _defaults)]


def is_staff_event(event: str) -> bool:
    registered = get_event(event)
    return registered is not None and registered in staff_events()


@dataclass(frozen=True)
class Recipients:
    """Who gets one internal event now, and why (see the module doc)."""

    event: str
    #: False: nobody is to be told and nothing is written (switched off, or
    #: an event that is off until staff set it up).
    active: bool
    addresses: tuple[str, ...] = ()
    #: True: the admin's row decided; False: the settings' default did.
    from_admin: bool = False
    threshold: Decimal | None = None
    currency: str = ""
    #: Why ``addresses`` is empty: the skip reason staff read in the send log.
    missing: str = ""


def clean_addresses(values) -> tuple[str, ...]:
    """Addresses from a setting or a hook (a string or a list), each once."""
    if isinstance(values, str) or values is None:
        values = [values or ""]
    seen: set[str] = set()
    unique = []
    for value in values:
        address = str(value or "").strip()
        key = normalize_address(address)
        if key and key not in seen:
            seen.add(key)
            unique.append(address)
    return tuple(unique)


_UNSET = object()


def admin_rows(events) -> dict[str, StaffNotification]:
    """The admin's rows of ``events``, in one query (plus one for the staff
    users of the rows found): a paid order fires two staff events."""
    rows = StaffNotification.objects.filter(event__in=[str(e) for e in events]).prefetch_related("users")
    return {row.event: row for row in rows}


def staff_recipients(event: str, obj=None, *, row=_UNSET) -> Recipients:
    """The recipients of ``event`` (about ``obj``, an order or another object
    an internal event is about) by the rule of the module doc. ``row``: the
    admin's row (or None) if the caller already read it (:func:`admin_rows`)."""
    event = str(event)
    if row is _UNSET:
        row = admin_rows([event]).get(event)
    if row is not None:
        if not row.enabled:
            return Recipients(event, active=False, from_admin=True, missing=SWITCHED_OFF)
        return Recipients(
            event,
            active=True,
            addresses=clean_addresses(row.addresses()),
            from_admin=True,
            threshold=row.threshold,
            currency=(row.currency or "").upper(),
            missing="no active recipient: add an address or an active staff user in the admin "
            "(Staff notifications)",
        )
    default = _defaults.get(event)
    if default is not None:
        if default.addresses is None:
            return Recipients(event, active=False, missing="not set up in the admin (Staff notifications)")
        where = f" or {default.source}" if default.source else ""
        return Recipients(
            event,
            active=True,
            addresses=clean_addresses(default.addresses()),
            missing=f"no staff address: set recipients in the admin (Staff notifications){where}",
        )
    if obj is not None and not _is_order(obj):
        getter = getattr(obj, "get_mail_recipient", None)
        return Recipients(
            event,
            active=True,
            addresses=clean_addresses(getter() if getter is not None else ""),
            missing="no staff address: set recipients in the admin (Staff notifications)",
        )
    return Recipients(
        event,
        active=True,
        addresses=clean_addresses(get_branding().get("support_email")),
        missing="no staff address: set recipients in the admin (Staff notifications) "
        "or BRANDING['support_email']",
    )


def _is_order(obj) -> bool:
    from ..lifecycle.mixins import OrderMailContextMixin

    return isinstance(obj, OrderMailContextMixin)
