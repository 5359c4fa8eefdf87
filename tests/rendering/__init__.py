"""Tests of django_order_mail.rendering: templates, blocks, sandbox, languages."""
