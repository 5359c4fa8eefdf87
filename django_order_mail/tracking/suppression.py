"""The suppression policy: who must not get which email.

* A hard bounce or a spam complaint suppresses the address for **all**
  email: sending to a dead mailbox or to someone who reports us as spam
  hurts the sender reputation every other customer's email depends on.
* An unsubscribe suppresses **commercial** email only (``COMMERCIAL_EVENTS``:
  abandoned-cart reminders, feedback requests) or one commercial event.
  Order confirmations, shipping and refund emails are transactional and
  still go to an unsubscribed customer.
* Staff can add (``manual``) and remove entries in the admin.

The sender asks :func:`suppression_for` right before each send; a suppressed
email is recorded as ``suppressed`` with the reason, never dropped silently.
"""

from __future__ import annotations

from django.db import transaction

from ..events import COMMERCIAL_EVENTS, MailEvent
from ..memo import in_batch, memoized, prime
from .models import Suppression, normalize_address

Reason = Suppression.Reason
Scope = Suppression.Scope

#: The scope each reason gets when nobody says otherwise.
DEFAULT_SCOPE = {
    Reason.HARD_BOUNCE: Scope.ALL,
    Reason.COMPLAINT: Scope.ALL,
    Reason.UNSUBSCRIBE: Scope.COMMERCIAL,
    Reason.MANUAL: Scope.ALL,
}

#: Commercial events in a stable order (for the preferences page).
COMMERCIAL_ORDER = [e for e in MailEvent.values if e in COMMERCIAL_EVENTS]


def scopes_for(event: str) -> list[str]:
    """Every scope whose suppression stops ``event``."""
    if event in COMMERCIAL_EVENTS:
        return [Scope.ALL, Scope.COMMERCIAL, event]
    return [Scope.ALL]


def suppression_for(address: str, event: str) -> Suppression | None:
    """The entry that stops ``event`` to ``address``, or None. An ``all``
    entry wins over a narrower one (it is the more serious reason)."""
    address = normalize_address(address)
    if not address:
        return None
    scopes = scopes_for(event)
    found = [entry for entry in _entries(address) if entry.scope in scopes]
    if not found:
        return None
    found.sort(key=lambda s: (s.scope != Scope.ALL, s.created_at))
    return found[0]


def _entries(address: str) -> list[Suppression]:
    """Every entry of a normalized ``address``; once per send batch."""
    return memoized(("suppression", address), lambda: list(Suppression.objects.filter(address=address)))


def prime_suppressions(addresses) -> None:
    """Fetch the entries of all ``addresses`` in one query for the current
    send batch (:mod:`django_order_mail.memo`)."""
    wanted = {normalize_address(a) for a in addresses} - {""}
    if not wanted or not in_batch():
        return
    found: dict[str, list[Suppression]] = {a: [] for a in wanted}
    for entry in Suppression.objects.filter(address__in=wanted):
        found.setdefault(entry.address, []).append(entry)
    for address, entries in found.items():
        prime(("suppression", address), entries)


def suppress(
    address: str,
    reason: str,
    *,
    scope: str | None = None,
    source: str = "",
    email=None,
    note: str = "",
) -> tuple[Suppression | None, bool]:
    """Add ``address`` to the list; ``(entry, created)``. Idempotent: an
    existing entry for the same scope is kept as it is (the first reason
    stays on record)."""
    address = normalize_address(address)
    if not address:
        return None, False
    scope = scope or DEFAULT_SCOPE[reason]
    return Suppression.objects.get_or_create(
        address=address,
        scope=scope,
        defaults={"reason": reason, "source": source[:100], "email": email, "note": note},
    )


def unsubscribed_events(address: str) -> set[str]:
    """The commercial events ``address`` does not want (any reason)."""
    address = normalize_address(address)
    scopes = set(Suppression.objects.filter(address=address).values_list("scope", flat=True))
    if Scope.ALL in scopes or Scope.COMMERCIAL in scopes:
        return set(COMMERCIAL_ORDER)
    return {e for e in COMMERCIAL_ORDER if e in scopes}


def blocked_for_all(address: str) -> Suppression | None:
    """The ``all`` entry of ``address`` (bounce, complaint, staff), if any."""
    return Suppression.objects.filter(address=normalize_address(address), scope=Scope.ALL).first()


def set_preferences(address: str, wanted: set[str], *, source: str, email=None) -> set[str]:
    """Make the customer's commercial unsubscribes match ``wanted`` (the
    commercial events they still want); returns the events now suppressed.

    Only the customer's own unsubscribes are replaced: an entry staff added,
    or one for a bounce or a complaint, is left alone.
    """
    address = normalize_address(address)
    wanted = {e for e in wanted if e in COMMERCIAL_EVENTS}
    unwanted = [e for e in COMMERCIAL_ORDER if e not in wanted]
    own = Suppression.objects.filter(
        address=address, reason=Reason.UNSUBSCRIBE, scope__in=[Scope.COMMERCIAL, *COMMERCIAL_ORDER]
    )
    with transaction.atomic():
        if len(unwanted) == len(COMMERCIAL_ORDER):
            own.exclude(scope=Scope.COMMERCIAL).delete()
            suppress(address, Reason.UNSUBSCRIBE, scope=Scope.COMMERCIAL, source=source, email=email)
        else:
            own.exclude(scope__in=unwanted).delete()
            for event in unwanted:
                suppress(address, Reason.UNSUBSCRIBE, scope=event, source=source, email=email)
    return unsubscribed_events(address)


def lift_unsubscribes(address: str) -> int:
    """Remove the customer's own unsubscribes (they resubscribed at the ESP)."""
    deleted, _ = Suppression.objects.filter(
        address=normalize_address(address), reason=Reason.UNSUBSCRIBE
    ).delete()
    return deleted
