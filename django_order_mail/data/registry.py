"""The personal-data registry: how each app exports, erases and expires its rows.

The core and every installed feature app register their own tables here
from their app config's ``ready()`` (the core never imports a feature), so
:func:`~django_order_mail.data.requests.export_address`,
:func:`~django_order_mail.data.requests.erase_address` and the retention
run (:mod:`django_order_mail.data.retention`) cover exactly the installed
apps (``docs/data-protection.rst``).
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db.models import Q

from ..outbox.addresses import normalize_address

if TYPE_CHECKING:
    from .retention import RetentionRun

__all__ = [
    "ERASED",
    "ERASED_ADDRESS",
    "PersonalData",
    "erased_address_for",
    "keyed_hash",
    "outbox_protections",
    "register_personal_data",
    "register_retention_need",
    "registered",
    "retention_defaults",
    "retention_needs",
]

#: What an erased name, comment or body is replaced with.
ERASED = "[erased]"
#: What an erased address is replaced with (a valid address nobody owns:
#: ``.invalid`` is reserved, RFC 2606).
ERASED_ADDRESS = "erased@erased.invalid"

#: The salt of :func:`keyed_hash`: change it and every stored hash is lost.
HASH_SALT = "django_order_mail.data.erased-address"

Export = Callable[[str], "dict[str, Any] | list[Any]"]
Erase = Callable[[str, str], int]
Expire = Callable[[datetime, "RetentionRun"], int]
Protect = Callable[[datetime], Q]


@dataclass(frozen=True)
class PersonalData:
    """One registered kind of personal data (a table, or a part of one).

    ``export(address)`` returns the address's rows as JSON-ready data;
    ``erase(address, keyed_hash)`` anonymises or deletes them and returns
    how many rows it changed; ``expire(cutoff, run)`` deletes or strips the
    rows older than ``cutoff`` through the run's batch helpers and returns
    how many. ``retention_days`` is the default of ``RETENTION[label]``
    (``None``: kept until erased). ``protect_outbox(now)`` returns a ``Q``
    of outbox rows this app still needs (the carts app's reminders inside
    their attribution window), which the core's retention keeps.
    """

    label: str
    verbose_name: Any
    export: Export | None = None
    erase: Erase | None = None
    expire: Expire | None = None
    retention_days: int | None = None
    protect_outbox: Protect | None = None
    #: Run order: smaller first (erasure of the send log comes last, so the
    #: features can still find rows through it).
    order: int = 100


_registry: dict[str, PersonalData] = {}


def register_personal_data(
    label: str,
    *,
    verbose_name: Any = "",
    export: Export | None = None,
    erase: Erase | None = None,
    retention: Expire | None = None,
    retention_days: int | None = None,
    protect_outbox: Protect | None = None,
    order: int = 100,
) -> PersonalData:
    """Register (or replace, when ``ready()`` runs again) one kind of data."""
    entry = PersonalData(
        label=label,
        verbose_name=verbose_name or label,
        export=export,
        erase=erase,
        expire=retention,
        retention_days=retention_days,
        protect_outbox=protect_outbox,
        order=order,
    )
    _registry[label] = entry
    return entry


def registered() -> list[PersonalData]:
    """Every registered kind, in run order."""
    return sorted(_registry.values(), key=lambda e: (e.order, e.label))


def retention_defaults() -> dict[str, int | None]:
    """Kind -> default days of every registered kind with a retention."""
    return {e.label: e.retention_days for e in registered() if e.expire is not None}


def outbox_protections(now: datetime) -> Q | None:
    """The outbox rows an installed app still needs (ORed), or None."""
    found = [e.protect_outbox(now) for e in registered() if e.protect_outbox is not None]
    if not found:
        return None
    combined = found[0]
    for q in found[1:]:
        combined |= q
    return combined


@dataclass(frozen=True)
class RetentionNeed:
    """A minimum period of one kind that something else relies on.

    ``days()`` reads the current settings and returns the minimum in days
    (``None``: nothing needed now). ``needed_by`` names what needs it, with
    its setting; ``effect`` says what a shorter period does. ``kept``: the
    app keeps the rows it needs itself (``protect_outbox`` or its own
    retention), so a shorter period is not honoured for them rather than
    breaking anything. The system checks ``W006`` and ``W007`` compare
    ``RETENTION`` with every registered need (``docs/settings.rst``).
    """

    kind: str
    days: Callable[[], float | None]
    needed_by: str
    effect: str
    kept: bool = False


_needs: dict[tuple[str, str], RetentionNeed] = {}


def register_retention_need(
    kind: str, *, days: Callable[[], float | None], needed_by: str, effect: str, kept: bool = False
) -> RetentionNeed:
    """Say that ``RETENTION[kind]`` must not be shorter than ``days()``
    (registered from an app config's ``ready()``, as the data itself)."""
    need = RetentionNeed(kind=kind, days=days, needed_by=needed_by, effect=effect, kept=kept)
    _needs[(kind, needed_by)] = need
    return need


def retention_needs() -> list[RetentionNeed]:
    return list(_needs.values())


def keyed_hash(address: str) -> str:
    """HMAC-SHA256 of the normalised address, keyed with ``SECRET_KEY`` and
    :data:`HASH_SALT`: the same address always gives the same hash, which
    cannot be turned back into the address without the key."""
    key = hashlib.sha256(f"{HASH_SALT}:{settings.SECRET_KEY}".encode()).digest()
    return hmac.new(key, normalize_address(address).encode(), hashlib.sha256).hexdigest()


def erased_address_for(address: str) -> str:
    """The stand-in an app stores where it must still recognise a forgotten
    address (the suppression list): the keyed hash in the shape of an
    address, so address columns and forms accept it."""
    return f"h.{keyed_hash(address)[:60]}@erased.invalid"
