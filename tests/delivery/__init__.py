"""Tests of django_order_mail.delivery: sending outbox rows."""
