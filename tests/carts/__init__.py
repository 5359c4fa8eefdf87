"""Tests of the abandoned-cart app (django_order_mail.carts)."""
