"""Tests of django_order_mail.admin: the core's admin."""
