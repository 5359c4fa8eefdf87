"""Fixed-window rate limits for the customer pages behind email links (the
survey with ``FEEDBACK_RATE_LIMIT``, the cart-restore link with
``ABANDONED_CART_RATE_LIMIT``, each in counters of its own), in Django's
cache.

Two counters per request: one per link (a leaked or scanned link cannot be
hammered) and one per client IP (one client cannot walk through many
links, or probe tokens). With a shared cache (Redis, Memcached) the limits
hold across processes; with the per-process local-memory cache each process
counts on its own, which still bounds abuse per process. If the cache cannot
be reached the pages answer "too many requests" (django-ratelimit's
``RATELIMIT_FAIL_OPEN = False``; set it to True to let visitors through).

The IP is ``REMOTE_ADDR``. Behind a reverse proxy make sure that is the
client's address (e.g. with a middleware that trusts your proxy's
``X-Forwarded-For``), or set the ``"ip"`` limit to ``None``: otherwise every
customer shares the proxy's counter.
"""

from __future__ import annotations

from django_ratelimit.core import is_ratelimited

DEFAULT_LIMITS = {"token": 30, "ip": 300, "window": 3600}


def allow(request, link: str | None, *, scope: str, conf: dict | None) -> bool:
    """Count ``request`` against its link's and its client IP's limits;
    False once either is over its limit within the current window.

    ``link`` identifies the link (the email its signed payload names; None:
    count the IP only, e.g. for a token that is not even signed); ``scope``
    keeps the counters of one kind of page apart from another's, ``conf``
    its limits (missing keys: the defaults). Counted by django-ratelimit in
    Django's cache (``docs/dependencies.rst``); its cache keys carry neither
    the link nor the address, only their hash.
    """
    conf = {**DEFAULT_LIMITS, **(conf or {})}
    window = max(1, int(conf["window"]))
    limited = False
    for kind, ident in (("token", link), ("ip", client_ip(request) or "unknown")):
        limit = conf.get(kind)
        if limit is None or ident is None:
            continue
        if is_ratelimited(
            request,
            group=f"django_order_mail.{scope}.{kind}",
            key=lambda group, request, ident=ident: ident,
            rate=f"{int(limit)}/{window}s",
            increment=True,
        ):
            limited = True
    return not limited


def client_ip(request) -> str:
    return request.META.get("REMOTE_ADDR", "") or ""
