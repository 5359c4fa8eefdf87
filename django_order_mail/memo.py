"""Lookups shared by one batch of sends.

A worker sends a batch of outbox rows (:func:`~django_order_mail.delivery.sender.deliver_batch`)
in one go. Most of what each email looks up is the same for all of them, or
can be fetched for all of them in one query: which template an event uses,
the running subject A/B tests, the suppression list entries of the
recipients, the orders' shipments. Inside :func:`batch_scope`, functions
wrapped with :func:`memoized` compute each answer once per batch; outside a
scope (the admin, tests, a single send) they run every time, exactly as
before. A batch lasts well under a second, so nothing is cached long enough
to go stale: there is no cross-batch cache to invalidate.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import TypeVar

T = TypeVar("T")

_scope: ContextVar[dict | None] = ContextVar("django_order_mail_batch_memo", default=None)

#: False makes :func:`batch_scope` share nothing, so each email looks
#: everything up itself. Only ``bench/machinery.py`` switches it off, to
#: measure what the memo buys (``docs/performance.md``).
SHARE_IN_BATCH = True


@contextmanager
def batch_scope() -> Iterator[None]:
    """Share :func:`memoized` answers until the block ends."""
    token = _scope.set({} if SHARE_IN_BATCH else None)
    try:
        yield
    finally:
        _scope.reset(token)


def memoized(key: Hashable, compute: Callable[[], T]) -> T:
    """``compute()``, once per batch for ``key`` (every time outside a batch)."""
    memo = _scope.get()
    if memo is None:
        return compute()
    try:
        return memo[key]
    except KeyError:
        value = memo[key] = compute()
        return value


def prime(key: Hashable, value) -> None:
    """Store the answer for ``key`` (fetched in bulk) in the current batch."""
    memo = _scope.get()
    if memo is not None:
        memo[key] = value


def in_batch() -> bool:
    return _scope.get() is not None
