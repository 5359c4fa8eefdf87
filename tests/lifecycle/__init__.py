"""Tests of django_order_mail.lifecycle: order transitions, reasons, carriers."""
