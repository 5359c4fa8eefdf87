"""Email addresses as the outbox and the features compare them."""

from __future__ import annotations

from email.utils import parseaddr


def normalize_address(address: str | None) -> str:
    """The bare address, lower-cased: compared case-insensitively as every
    ESP does, and ``"Tina <tina@example.com>"`` is ``tina@example.com``."""
    address = (address or "").strip()
    return (parseaddr(address)[1] or address).lower()
