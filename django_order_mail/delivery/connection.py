"""The resources of a sending thread: its ESP connection, kept open from
send to send, and the process's pool of sending threads
(``DELIVERY_CONCURRENCY``)."""

from __future__ import annotations

import os
import threading
from concurrent.futures import ThreadPoolExecutor

from django.core.mail import get_connection
from django.db import connections, router

from ..app_settings import app_settings
from ..outbox.models import OutboxEmail

_local = threading.local()


def _connection():
    """One open email-backend connection per sending thread, reused across
    sends: an HTTP API backend (Anymail) keeps one ``requests`` session and
    its kept-alive TCP connections, an SMTP backend one SMTP session.

    It must be opened here: a backend that is not open opens and closes a
    session around every message (``docs/performance.md``: 600 emails made
    over 600 TCP connections before this).
    """
    conn = getattr(_local, "connection", None)
    if conn is None:
        conn = get_connection()
        conn.open()
        session = getattr(conn, "session", None)  # Anymail's requests-based backends
        if session is not None and not app_settings.ESP_TRUST_ENV:
            # requests reads the proxy environment variables on every call
            # unless told not to (docs/settings.rst: ESP_TRUST_ENV).
            session.trust_env = False
        _local.connection = conn
    return conn


def reset_connection() -> None:
    conn = getattr(_local, "connection", None)
    _local.connection = None
    if conn is not None:
        try:
            conn.close()
        except Exception:  # noqa: BLE001
            pass


_pools: dict[tuple[int, int], ThreadPoolExecutor] = {}
_pools_lock = threading.Lock()


def _pool(size: int) -> ThreadPoolExecutor:
    """This process's sending threads (``DELIVERY_CONCURRENCY``), made on
    first use, so a Celery prefork child makes its own after the fork. The
    threads live as long as the process and keep their connections (an ESP
    session, a database connection) from batch to batch."""
    key = (os.getpid(), size)
    with _pools_lock:
        pool = _pools.get(key)
        if pool is None:
            pool = _pools[key] = ThreadPoolExecutor(max_workers=size, thread_name_prefix="order-mail-send")
        return pool


def _drop_broken_connection() -> None:
    """Close the outbox database's connection if an error left it unusable
    (a restarted or failed-over server, a terminated backend), so the next
    statement reconnects; what Django does between requests."""
    connections[router.db_for_write(OutboxEmail)].close_if_unusable_or_obsolete()
