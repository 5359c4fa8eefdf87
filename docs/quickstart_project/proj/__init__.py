# Load the Celery app whenever Django starts, so that transactions committed
# in web requests and management commands publish through it.
from .celery import app as celery_app

__all__ = ("celery_app",)
