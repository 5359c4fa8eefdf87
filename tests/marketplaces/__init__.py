"""Tests of the marketplaces app (django_order_mail.marketplaces)."""
