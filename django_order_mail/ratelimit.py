"""Fixed-window rate limits for the customer pages behind email links (the
survey with ``FEEDBACK_RATE_LIMIT``, the cart-restore link with
``ABANDONED_CART_RATE_LIMIT``, each in counters of its own), in Django's
cache.

Two counters per request: one per link (a leaked or scanned link cannot be
hammered) and one per client IP (one client cannot walk through many
links, or probe tokens). With a shared cache (Redis, Memcached) the limits
hold across processes; with the per-process local-memory cache each process
counts on its own, which still bounds abuse per process.

The IP is ``REMOTE_ADDR``. Behind a reverse proxy make sure that is the
client's address (e.g. with a middleware that trusts your proxy's
``X-Forwarded-For``), or set the ``"ip"`` limit to ``None``: otherwise every
customer shares the proxy's counter.
"""

from __future__ import annotations

import hashlib
import time

from django.core.cache import cache

DEFAULT_LIMITS = {"token": 30, "ip": 300, "window": 3600}
_PREFIX = "django_order_mail:{scope}:rl"


def _digest(value: str) -> str:
    # Cache keys stay short and carry neither the token nor the address.
    return hashlib.sha256(value.encode()).hexdigest()[:32]


def _count(key: str, window: int) -> int:
    if cache.add(key, 1, timeout=window):
        return 1
    try:
        return cache.incr(key)
    except ValueError:  # expired between add() and incr()
        cache.add(key, 1, timeout=window)
        return 1


def allow(
    token: str | None,
    ip: str,
    *,
    now: float | None = None,
    scope: str,
    conf: dict | None,
) -> bool:
    """Count one request of ``ip`` for ``token``; False once either counter
    is over its limit within the current window.

    ``token`` identifies the link (None: count the IP only, e.g. for a token
    that is not even signed); ``scope`` keeps the counters of one kind of
    page apart from another's, ``conf`` its limits (missing keys: the defaults).
    """
    conf = {**DEFAULT_LIMITS, **(conf or {})}
    window = max(1, int(conf["window"]))
    bucket = int((time.time() if now is None else now) // window)
    prefix = _PREFIX.format(scope=scope)
    allowed = True
    for kind, ident in (("token", token), ("ip", ip or "unknown")):
        limit = conf.get(kind)
        if limit is None or ident is None:
            continue
        if _count(f"{prefix}:{kind}:{_digest(ident)}:{bucket}", window) > int(limit):
            allowed = False
    return allowed


def client_ip(request) -> str:
    return request.META.get("REMOTE_ADDR", "") or ""
