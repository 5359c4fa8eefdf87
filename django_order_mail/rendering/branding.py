"""Shop branding for every email: the admin's Branding record, else
``ORDER_MAIL["BRANDING"]``.

Every email reads the branding, so the admin record is cached (Django's
cache framework, ``CACHE_SECONDS``) and the cache entry is dropped whenever
the record is saved or deleted, right away and again after the commit. With
a shared cache (Redis, Memcached) every process sees a change at once; with
the per-process local-memory cache other processes see it within
``CACHE_SECONDS``. The admin preview always reads the database.
"""

from __future__ import annotations

from email.utils import formataddr, parseaddr

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from ..app_settings import app_settings
from .logo import is_svg_url
from .models import Branding

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
    "sender_email": "",
    "support_email": "",
    "support_phone": "",
    "help_url": "",
    "returns_url": "",
    "warranty_url": "",
    "returns_policy": "",
    "postal_address": "",
    "social_links": [],  # [{"name": "Instagram", "url": "https://..."}]
}

CACHE_KEY = "django_order_mail:branding:v1"
CACHE_SECONDS = 60
_NO_RECORD = "none"


def branding_record_values(record: Branding) -> dict:
    """The branding keys of an admin record (saved or not)."""
    values = {key: getattr(record, key) for key in BRANDING_DEFAULTS if hasattr(record, key)}
    values["social_links"] = list(record.social_links or [])
    if record.logo:
        url = record.logo.url
        if not url.startswith(("http://", "https://", "//")):
            # Email programs need an absolute address; storages often give a path.
            url = app_settings.SITE_URL.rstrip("/") + "/" + url.lstrip("/")
        values["logo_url"] = url
    return values


def _stored_values(*, use_cache: bool = True) -> dict | None:
    if use_cache:
        cached = cache.get(CACHE_KEY)
        if cached is not None:
            return None if cached == _NO_RECORD else cached
    record = Branding.objects.filter(pk=Branding.SINGLETON_PK).first()
    values = branding_record_values(record) if record is not None else None
    cache.set(CACHE_KEY, _NO_RECORD if values is None else values, CACHE_SECONDS)
    return values


def merge_branding(overrides: dict | None) -> dict:
    """Defaults, then the settings, then ``overrides``; derived names filled in."""
    branding = {**BRANDING_DEFAULTS, **app_settings.BRANDING, **(overrides or {})}
    if not branding["name"]:
        branding["name"] = getattr(settings, "ORDER_MAIL_SHOP_NAME", "") or "Our shop"
    if not branding["sender_name"]:
        branding["sender_name"] = branding["name"]
    if not branding["website_url"]:
        branding["website_url"] = app_settings.SITE_URL
    if is_svg_url(branding["logo_url"]):
        # Gmail and most email programs show no SVG: the shop's name instead
        # of a broken image (the admin refuses SVG, check W030 warns).
        branding["logo_url"] = ""
    return branding


def get_branding(*, use_cache: bool = True) -> dict:
    """The branding every email uses (the admin record wins over settings)."""
    return merge_branding(_stored_values(use_cache=use_cache))


def settings_branding() -> dict:
    """The branding from the settings alone (the admin form's first values)."""
    return merge_branding(None)


def invalidate_branding_cache() -> None:
    cache.delete(CACHE_KEY)


@receiver(post_save, sender=Branding, dispatch_uid="django_order_mail.branding.saved")
@receiver(post_delete, sender=Branding, dispatch_uid="django_order_mail.branding.deleted")
def _branding_changed(**kwargs):
    # Now (this process sees its own change) and after commit (a process
    # that cached the old record between our save and our commit).
    invalidate_branding_cache()
    transaction.on_commit(invalidate_branding_cache)


def from_email(overrides: dict | None = None) -> str:
    """``"Sender Name <address>"``.

    The address is the branding's sender address, else ORDER_MAIL FROM_EMAIL,
    else DEFAULT_FROM_EMAIL. The name is the sender name of the admin record
    (or of ``overrides``, the unsaved form the admin previews) when it sets
    one, else the name in that address, else the shop name.
    """
    stored = overrides if overrides is not None else _stored_values()
    branding = merge_branding(stored)
    name, addr = parseaddr(app_settings.FROM_EMAIL or settings.DEFAULT_FROM_EMAIL)
    if branding.get("sender_email"):
        addr = branding["sender_email"]
    if stored and stored.get("sender_name"):
        name = stored["sender_name"]
    if not name:
        name = branding["sender_name"]
    return formataddr((name, addr))
