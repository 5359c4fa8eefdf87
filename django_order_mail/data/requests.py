"""Export and erase one address's data across the core and the installed apps."""

from __future__ import annotations

import logging
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.utils import timezone

from ..outbox.addresses import normalize_address
from .models import DataRequest
from .registry import keyed_hash, registered

logger = logging.getLogger("django_order_mail.data")


def export_address(address: str) -> dict[str, Any]:
    """Everything the installed apps hold about ``address``: kind -> rows
    (JSON-ready with :class:`~django.core.serializers.json.DjangoJSONEncoder`)."""
    address = normalize_address(address)
    data: dict[str, Any] = {"address": address, "exported_at": timezone.now()}
    for entry in registered():
        if entry.export is not None:
            data[entry.label] = entry.export(address)
    return data


def erase_address(address: str) -> dict[str, int]:
    """Forget ``address`` everywhere, in one transaction: kind -> rows changed."""
    address = normalize_address(address)
    if not address:
        raise ValueError("no address")
    hashed = keyed_hash(address)
    counts: dict[str, int] = {}
    with transaction.atomic():
        for entry in registered():
            if entry.erase is not None:
                counts[entry.label] = entry.erase(address, hashed)
    return counts


def log_request(kind: str, address: str, counts: dict, user=None) -> DataRequest:
    """Note a request for staff: who, when, which kind, the counts (no address)."""
    name = user.get_username() if user is not None and user.is_authenticated else ""
    entry = DataRequest.objects.create(
        kind=kind,
        address_hash=keyed_hash(address),
        requested_by=user if name else None,
        requested_by_name=name,
        counts=counts,
    )
    logger.info("data %s request #%s by %s: %s", kind, entry.pk, name or "a command", counts)
    return entry


def export_counts(data: dict[str, Any]) -> dict[str, int]:
    """Rows per kind of an export (for the log)."""
    counts = {}
    for label, value in data.items():
        if isinstance(value, list):
            counts[label] = len(value)
        elif isinstance(value, dict):
            counts[label] = sum(len(v) for v in value.values() if isinstance(v, list))
    return counts


__all__ = ["DjangoJSONEncoder", "erase_address", "export_address", "export_counts", "log_request"]
