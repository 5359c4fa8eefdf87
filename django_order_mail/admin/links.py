"""Links from one admin page to another, for the core's and the feature apps'
``ModelAdmin`` columns: an email of the send log, or the shop's order.

A feature app may import the core (never the other way round,
``docs/architecture.rst``), so the send log and order columns of the
feedback, reviews, carts, tracking and marketplaces admins all come from
here. The shop's order model may have no admin page (or one on another admin
site): the link then falls back to plain text instead of failing the page.
"""

from __future__ import annotations

from django.urls import NoReverseMatch, reverse
from django.utils.html import format_html

__all__ = ["email_link", "order_link"]

NONE = "–"


def email_link(email_id: int | None, label: str | None = None):
    """``#<id>`` (or ``label``) linking to the email's send-log page."""
    if email_id is None:
        return NONE
    text = label if label is not None else f"#{email_id}"
    try:
        url = reverse("admin:django_order_mail_outboxemail_change", args=[email_id])
    except NoReverseMatch:  # the send log is not on this admin site
        return text
    return format_html('<a href="{}">{}</a>', url, text)


def order_link(content_type, object_id, label=None):
    """``label`` (default: the order's id) linking to the shop's order page."""
    if content_type is None or object_id in (None, ""):
        return NONE
    text = label if label not in (None, "") else object_id
    try:
        url = reverse(f"admin:{content_type.app_label}_{content_type.model}_change", args=[object_id])
    except NoReverseMatch:  # the shop's order model has no admin page here
        return text
    return format_html('<a href="{}">{}</a>', url, text)
