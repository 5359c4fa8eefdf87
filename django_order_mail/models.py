"""Concrete models of the app (the shop's Order model stays the shop's own)."""

from .lifecycle.shipments import Shipment
from .outbox.models import EmailLog, OutboxEmail, Status

__all__ = ["EmailLog", "OutboxEmail", "Shipment", "Status"]
