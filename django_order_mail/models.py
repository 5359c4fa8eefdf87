"""Concrete models of the app (the shop's Order model stays the shop's own)."""

from .carts.models import CartCoupon, CartRecovery
from .feedback.models import FollowUp, SurveyAnswer, SurveyResponse
from .lifecycle.shipments import Shipment
from .marketplaces.models import MarketplaceOrderUpdate, MarketplaceSyncCursor
from .outbox.models import EmailLog, OutboxEmail, Status
from .rendering.models import Branding, EmailTemplate, EmailTemplateVersion
from .tracking.models import EmailAnalytics, SubjectTest, SubjectVariant, Suppression, TrackingEvent

__all__ = [
    "Branding",
    "CartCoupon",
    "CartRecovery",
    "EmailAnalytics",
    "EmailLog",
    "EmailTemplate",
    "EmailTemplateVersion",
    "FollowUp",
    "MarketplaceOrderUpdate",
    "MarketplaceSyncCursor",
    "OutboxEmail",
    "Shipment",
    "Status",
    "SubjectTest",
    "SubjectVariant",
    "Suppression",
    "SurveyAnswer",
    "SurveyResponse",
    "TrackingEvent",
]
