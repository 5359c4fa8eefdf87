"""django-order-mail: order-lifecycle emails through an outbox, Celery and Anymail."""

__version__ = "0.1.0"
