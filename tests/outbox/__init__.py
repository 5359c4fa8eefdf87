"""Tests of django_order_mail.outbox: enqueue, keys, publish, staff actions."""
