"""The abandoned-cart app's Celery task (found by ``app.autodiscover_tasks()``)."""

from .scan import abandoned_cart_scan

__all__ = ["abandoned_cart_scan"]
