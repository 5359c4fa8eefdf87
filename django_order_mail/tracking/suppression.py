"""The suppression policy: who must not get which email.

The rule is the one ``events.py`` states: **only a hard bounce stops
transactional mail** (order confirmations, shipping, refunds); spam
complaints and unsubscribes stop commercial mail (``COMMERCIAL_EVENTS``:
abandoned-cart reminders, feedback requests).

* A hard bounce suppresses the address for **all** email: sending to a dead
  mailbox hurts the sender reputation every other customer's email depends on.
* A spam complaint suppresses **commercial** email. It is stored with the
  scope ``all`` (its own row: the customer's preference page and an ESP
  resubscribe never lift it), and :func:`effective_scope` reads it as
  commercial: the customer still gets the emails about their orders.
* An unsubscribe suppresses commercial email only, or one commercial event.
* Staff can add (``manual``) and remove entries in the admin; a staff entry
  does what its scope says (``all`` stops transactional mail too).

:func:`blocks` is the one function that decides whether an entry stops an
event; the sender (one email or a batch), the cart checks, the resend
actions' messages and the preference page all go through it
(:func:`suppression_for`). A suppressed email is recorded as ``suppressed``
with the reason, never dropped silently.
"""

from __future__ import annotations

from django.db import transaction

from ..data import erased_address_for
from ..events import COMMERCIAL_EVENTS
from ..memo import in_batch, memoized, prime
from ..outbox.addresses import normalize_address
from .models import Suppression

Reason = Suppression.Reason
Scope = Suppression.Scope

#: The scope each reason gets when nobody says otherwise.
DEFAULT_SCOPE: dict[str, str] = {
    Reason.HARD_BOUNCE: Scope.ALL,
    Reason.COMPLAINT: Scope.ALL,
    Reason.UNSUBSCRIBE: Scope.COMMERCIAL,
    Reason.MANUAL: Scope.ALL,
}

#: Commercial events in a stable order (for the preferences page).


#: Reasons whose ``all`` entry stops transactional mail too. A complaint or
#: an unsubscribe stored for ``all`` stops commercial mail only.
STOPS_TRANSACTIONAL = frozenset({Reason.HARD_BOUNCE, Reason.MANUAL})


def effective_scope(entry: Suppression) -> str:
    """What ``entry`` really stops, as a scope (shown to staff as well)."""
    if entry.scope == Scope.ALL and entry.reason not in STOPS_TRANSACTIONAL:
        return Scope.COMMERCIAL
    return entry.scope


def blocks(entry: Suppression, event: str) -> bool:
    """Does ``entry`` stop ``event``? The one place this is decided."""
    scope = effective_scope(entry)
    if scope == Scope.ALL:
        return True
    if scope == Scope.COMMERCIAL:
        return event in COMMERCIAL_EVENTS
    return scope == event


def suppression_for(address: str, event: str) -> Suppression | None:
    """The entry that stops ``event`` to ``address``, or None. An entry that
    stops everything wins over a narrower one (the more serious reason)."""
    address = normalize_address(address)
    if not address:
        return None
    found = [entry for entry in _entries(address) if blocks(entry, event)]
    if not found:
        return None
    found.sort(key=lambda s: (effective_scope(s) != Scope.ALL, s.scope != Scope.ALL, s.created_at))
    return found[0]


def wants_no_promotion(address: str) -> bool:
    """Has ``address`` left all commercial email (an unsubscribe from every
    commercial email, a complaint, a bounce, staff's entry)? Then the
    promotional blocks of its transactional emails (recommendations, a
    referral offer) are left out too: they are marketing it said no to."""
    address = normalize_address(address)
    return bool(address) and any(
        effective_scope(entry) in (Scope.ALL, Scope.COMMERCIAL) for entry in _entries(address)
    )


def _keys(address: str) -> list[str]:
    """The address and its erased form (:mod:`.data`): a forgotten
    customer's entries are stored under the keyed hash only."""
    return [address, erased_address_for(address)]


def _entries(address: str) -> list[Suppression]:
    """Every entry of a normalized ``address``; once per send batch."""
    return memoized(
        ("suppression", address), lambda: list(Suppression.objects.filter(address__in=_keys(address)))
    )


def prime_suppressions(addresses) -> None:
    """Fetch the entries of all ``addresses`` in one query for the current
    send batch (:mod:`django_order_mail.memo`)."""
    wanted = {normalize_address(a) for a in addresses} - {""}
    if not wanted or not in_batch():
        return
    found: dict[str, list[Suppression]] = {a: [] for a in wanted}
    owner = {erased_address_for(a): a for a in wanted}
    for entry in Suppression.objects.filter(address__in=[*wanted, *owner]):
        found.setdefault(owner.get(entry.address, entry.address), []).append(entry)
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
    """Add ``address`` to the list; ``(entry, changed)``. Idempotent: an
    existing entry for the same scope is kept as it is (the first reason
    stays on record) - unless the new reason stops more: a hard bounce after
    a complaint (both stored for ``all``) takes the entry over, or the dead
    mailbox would still get transactional mail."""
    address = normalize_address(address)
    if not address:
        return None, False
    scope = scope or DEFAULT_SCOPE[reason]
    fields = {"reason": reason, "source": source[:100], "email": email, "note": note}
    entry, created = Suppression.objects.get_or_create(address=address, scope=scope, defaults=fields)
    if created or entry.reason == reason:
        return entry, created
    stronger = Suppression(address=address, scope=scope, **fields)
    if effective_scope(stronger) == Scope.ALL and effective_scope(entry) != Scope.ALL:
        changed = {name: value for name, value in fields.items() if value or name != "note"}
        for name, value in changed.items():
            setattr(entry, name, value)
        entry.save(update_fields=[*changed, "updated_at"])
        return entry, True
    return entry, False


def unsubscribed_events(address: str) -> set[str]:
    """The commercial events ``address`` does not want (any reason)."""
    address = normalize_address(address)
    scopes = set(Suppression.objects.filter(address__in=_keys(address)).values_list("scope", flat=True))
    if Scope.ALL in scopes or Scope.COMMERCIAL in scopes:
        return set(COMMERCIAL_EVENTS)
    return {e for e in COMMERCIAL_EVENTS if e in scopes}


def blocked_for_all(address: str) -> Suppression | None:
    """The entry the customer cannot lift that stops all commercial email to
    ``address`` (a bounce, a complaint, staff's), if any; one that stops
    transactional email too comes first."""
    entries = Suppression.objects.filter(address__in=_keys(normalize_address(address)), scope=Scope.ALL)
    return min(entries, key=lambda e: (effective_scope(e) != Scope.ALL, e.created_at), default=None)


def set_preferences(address: str, wanted: set[str], *, source: str, email=None) -> set[str]:
    """Make the customer's commercial unsubscribes match ``wanted`` (the
    commercial events they still want); returns the events now suppressed.

    Only the customer's own unsubscribes are replaced: an entry staff added,
    or one for a bounce or a complaint, is left alone.
    """
    address = normalize_address(address)
    wanted = {e for e in wanted if e in COMMERCIAL_EVENTS}
    unwanted = [e for e in COMMERCIAL_EVENTS if e not in wanted]
    own = Suppression.objects.filter(
        address=address, reason=Reason.UNSUBSCRIBE, scope__in=[Scope.COMMERCIAL, *COMMERCIAL_EVENTS]
    )
    with transaction.atomic():
        if len(unwanted) == len(COMMERCIAL_EVENTS):
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
