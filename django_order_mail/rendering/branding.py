"""Shop branding for every email, from ``ORDER_MAIL["BRANDING"]``."""

from __future__ import annotations

from django.conf import settings

from ..conf import get_setting

#: Every branding key with its default. Colours are CSS hex values.
BRANDING_DEFAULTS = {
    "name": "",
    "logo_url": "",
    "website_url": "",
    "primary_color": "#1f2937",
    "accent_color": "#2563eb",
    "background_color": "#f3f4f6",
    "text_color": "#111827",
    "sender_name": "",
    "support_email": "",
    "support_phone": "",
    "help_url": "",
    "returns_url": "",
    "warranty_url": "",
    "returns_policy": "",
    "postal_address": "",
    "social_links": [],  # [{"name": "Instagram", "url": "https://..."}]
}


def get_branding() -> dict:
    branding = {**BRANDING_DEFAULTS, **get_setting("BRANDING")}
    if not branding["name"]:
        branding["name"] = getattr(settings, "ORDER_MAIL_SHOP_NAME", "") or "Our shop"
    if not branding["sender_name"]:
        branding["sender_name"] = branding["name"]
    if not branding["website_url"]:
        branding["website_url"] = get_setting("SITE_URL")
    return branding


def from_email() -> str:
    """``"Sender Name <address>"`` from ORDER_MAIL FROM_EMAIL or DEFAULT_FROM_EMAIL."""
    from email.utils import formataddr, parseaddr

    address = get_setting("FROM_EMAIL") or settings.DEFAULT_FROM_EMAIL
    name, addr = parseaddr(address)
    if not name:
        name = get_branding()["sender_name"]
    return formataddr((name, addr))
