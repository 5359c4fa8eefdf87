"""Tests of the feedback app (django_order_mail.feedback)."""
