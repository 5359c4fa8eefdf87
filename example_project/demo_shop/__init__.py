# Load the Celery app with Django so that shared tasks (django_order_mail's
# send_email) publish through it from web requests and management commands.
from .celery import app as celery_app

__all__ = ("celery_app",)
