"""The core's concrete models (the shop's Order model stays the shop's own).

Each feature app has its own models module and migrations (``tracking``,
``feedback``, ``carts``, ``marketplaces``); none of them is imported here.
"""

from .data.models import DataRequest
from .lifecycle.shipments import Shipment
from .notifications.models import HighValueThreshold, StaffNotification
from .outbox.models import EmailLog, OutboxEmail, Status
from .policies.models import FrequencyCap, SettingChange
from .rendering.models import Branding, EmailTemplate, EmailTemplateVersion

__all__ = [
    "Branding",
    "DataRequest",
    "EmailLog",
    "EmailTemplate",
    "EmailTemplateVersion",
    "FrequencyCap",
    "HighValueThreshold",
    "OutboxEmail",
    "SettingChange",
    "Shipment",
    "StaffNotification",
    "Status",
]
