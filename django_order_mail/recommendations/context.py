"""Fill the core's promotional slots: ``recommended_products`` and ``referral``.

:func:`add_recommendations` is a receiver of the core's ``collect_context``
signal (``docs/signals.rst``), so the blocks appear in the emails it sends
and in the admin's previews alike. Where the products come from, first
match wins:

1. the order's own ``get_mail_recommendations(event, *, language, limit)``;
2. ``RECOMMENDATIONS_PROVIDER``, a dotted path to
   ``callable(order, event, *, language, limit)`` (the packaged
   :func:`.bought_together.recommend`, or the shop's own).

The referral block comes from ``order.get_mail_referral(event, *, language)``
(a URL, or ``{"url", "text"}``), else ``RECOMMENDATIONS_REFERRAL_URL``.

Hooks must accept ``**kwargs``: arguments may be added. A hook that fails
costs the customer nothing but the block (it is logged); whatever it returns
is cleaned by the core (http(s) links only, names as one line of text,
escaped in the HTML part). Marketplace channels never get the blocks: the
marketplace's rules forbid promotion in its buyers' emails.
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.utils.module_loading import import_string
from django.utils.translation import gettext, override

from ..events import channel_rules
from ..lifecycle.hooks import call_hook
from ..rendering.i18n import resolve_language
from ..rendering.promotional import clean_product, clean_referral
from .app_settings import app_settings

logger = logging.getLogger("django_order_mail.recommendations")


def allowed(channel: str | None) -> bool:
    """Not on a marketplace, and not where the channel says ``"recommendations": False``."""
    options = channel_rules(channel).options
    return not options.get("marketplace") and options.get("recommendations", True) is not False


def add_recommendations(sender, event, order, context, email_id=None, **kwargs) -> None:
    products_wanted = event in app_settings.RECOMMENDATIONS_EVENTS
    referral_wanted = event in app_settings.RECOMMENDATIONS_REFERRAL_EVENTS
    if not (products_wanted or referral_wanted) or order is None:
        return
    if not allowed(context.get("channel") or call_hook(order, "get_mail_channel") or ""):
        return
    language = resolve_language(call_hook(order, "get_mail_language") or "", default=settings.LANGUAGE_CODE)
    sample = getattr(order, "pk", None) is None  # the admin's sample order
    if products_wanted:
        limit = max(0, int(app_settings.RECOMMENDATIONS_MAX_PRODUCTS))
        products = sample_products(limit, language) if sample and _has_provider(order) else []
        if not sample:
            products = recommended_products(order, event, language=language, limit=limit)
        context["recommended_products"] = products
    if referral_wanted:
        context["referral"] = referral_for(order, event, language=language)


def _has_provider(order) -> bool:
    return bool(app_settings.RECOMMENDATIONS_PROVIDER) or hasattr(order, "get_mail_recommendations")


def recommended_products(order, event: str, *, language: str, limit: int) -> list[dict]:
    """At most ``limit`` cleaned products from the order's hook or the provider."""
    if limit <= 0:
        return []
    hook = getattr(order, "get_mail_recommendations", None)
    path = app_settings.RECOMMENDATIONS_PROVIDER
    try:
        if hook is not None:
            found = hook(event, language=language, limit=limit)
        elif path:
            found = import_string(path)(order, event, language=language, limit=limit)
        else:
            return []
    except Exception:  # the transactional email goes out without the block
        logger.exception("Recommendations for %r (%s) failed; the email has no product block", order, event)
        return []
    cleaned = [clean_product(item) for item in (found or [])[: limit * 2]]
    return [item for item in cleaned if item is not None][:limit]


def referral_for(order, event: str, *, language: str) -> dict | None:
    hook = getattr(order, "get_mail_referral", None)
    try:
        value = (
            hook(event, language=language) if hook is not None else app_settings.RECOMMENDATIONS_REFERRAL_URL
        )
    except Exception:
        logger.exception(
            "get_mail_referral() failed on %r (%s); the email has no referral block", order, event
        )
        return None
    return clean_referral(value)


def sample_products(limit: int, language: str) -> list[dict]:
    """What the admin's preview of the sample order shows: the shop's most
    bought products with a page, else made-up ones on the shop's site."""
    from .models import PurchasedProduct

    found = [
        {"name": p.name, "url": p.url, "image_url": p.image_url}
        for p in PurchasedProduct.objects.exclude(url="").order_by("-orders", "product_id")[:limit]
    ]
    if not found:
        site = app_settings.SITE_URL.rstrip("/")
        with override(language):
            found = [
                {"name": gettext("Sample product %(number)s") % {"number": n}, "url": f"{site}/"}
                for n in range(1, limit + 1)
            ]
    cleaned = [clean_product(item) for item in found]
    return [item for item in cleaned if item is not None]
