"""Tests of the tracking app (django_order_mail.tracking)."""
