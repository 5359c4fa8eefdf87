"""The resources of a sending thread: its ESP connection, kept open from
send to send, and the process's pool of sending threads
(``DELIVERY_CONCURRENCY``)."""

from __future__ import annotations

import os
import threading
import time
import warnings
from concurrent.futures import ThreadPoolExecutor

from django.conf import settings
from django.core import mail
from django.db import connections, router
from requests.utils import get_netrc_auth

from ..app_settings import app_settings
from ..outbox.models import OutboxEmail

_local = threading.local()


def backend_path(mailer: str | None = None) -> str:
    """The dotted path of the email backend ``mailer`` (None: the default
    mailer) sends through: its ``MAILERS`` entry on Django 6.1+, else
    ``EMAIL_BACKEND``. For checks and lookups; nothing is instantiated."""
    configured = getattr(settings, "MAILERS", None)
    if hasattr(mail, "mailers") and configured is not None:
        entry = configured.get(mailer or "default") or {}
        return str(entry.get("BACKEND", "django.core.mail.backends.smtp.EmailBackend"))
    with warnings.catch_warnings():
        # Django 6.1 deprecates the setting itself and says so at start-up;
        # reading what the project still uses must not warn again.
        warnings.simplefilter("ignore", PendingDeprecationWarning)
        warnings.simplefilter("ignore", DeprecationWarning)
        return str(getattr(settings, "EMAIL_BACKEND", ""))


def new_backend(mailer: str | None = None):
    """A new email backend: Django 6.1's ``mail.mailers[alias]`` (``MAILERS``;
    without that setting Django builds ``"default"`` from ``EMAIL_BACKEND``
    itself), or ``get_connection()`` before 6.1, where ``mailer`` must be
    None (system check E013)."""
    mailers = getattr(mail, "mailers", None)
    if mailers is not None:
        return mailers[mailer or "default"]
    if mailer is not None:
        raise RuntimeError(f"the mailer {mailer!r} needs Django 6.1 (MAILERS)")
    return mail.get_connection()


def _connection(mailer: str | None = None):
    """One open email-backend connection per sending thread and mailer,
    reused across sends: an HTTP API backend (Anymail) keeps one
    ``requests`` session and its kept-alive TCP connections, an SMTP backend
    one SMTP session.

    It must be opened here: a backend that is not open opens and closes a
    session around every message (``docs/performance.md``: 600 emails made
    over 600 TCP connections before this). ``mailer``: the ``MAILERS``
    alias of the email's mail stream (``MAIL_STREAMS``, Django 6.1+).
    """
    opened = getattr(_local, "connections", None)
    if opened is None:
        opened = _local.connections = {}
    conn = opened.get(mailer)
    if conn is None:
        conn = new_backend(mailer)
        conn.open()
        session = getattr(conn, "session", None)  # Anymail's requests-based backends
        if session is not None:
            _settle_environment(session, getattr(conn, "api_url", None))
        opened[mailer] = conn
    return conn


def _settle_environment(session, api_url: str | None) -> None:
    """Read what requests takes from the environment once, when the sending
    thread opens its connection, instead of on every call.

    A ``requests`` session that trusts the environment (its default) reads
    the proxy variables (``HTTPS_PROXY``, ``NO_PROXY``), the CA bundle
    (``REQUESTS_CA_BUNDLE``) and ``~/.netrc`` before every request: about
    half a millisecond of CPU per email in ``docs/performance.md``'s
    profile. Every call of this session goes to the ESP's ``api_url``, so
    ``merge_environment_settings()`` for that URL (and ``.netrc``'s entry
    for its host) gives what each call would have found, and the session
    keeps it. ``ESP_TRUST_ENV = False`` ignores the environment altogether.
    A backend without ``api_url`` keeps requests' own behaviour.
    """
    if not app_settings.ESP_TRUST_ENV:
        session.trust_env = False
        return
    if not api_url or not session.trust_env:
        return
    found = session.merge_environment_settings(api_url, {}, None, None, None)
    session.proxies = found["proxies"]
    session.verify = found["verify"]
    session.cert = found["cert"]
    if session.auth is None:
        session.auth = get_netrc_auth(api_url)
    session.trust_env = False


def reset_connection() -> None:
    """Close this thread's connections (after a transport error: the next
    send opens a fresh one)."""
    opened = getattr(_local, "connections", None) or {}
    _local.connections = {}
    for conn in opened.values():
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


#: A sending thread's database connection that sat unused longer than this
#: (seconds) is checked before the thread's next email (see below).
CHECK_IDLE_AFTER = 1.0


def check_idle_database_connection() -> None:
    """Before a sending thread's next piece of work: if its database
    connection sat unused for a while, drop it when it no longer works (a
    restarted or failed-over server, a proxy's idle timeout,
    ``pg_terminate_backend()``) or is past ``CONN_MAX_AGE``, so the email
    opens a fresh one instead of failing an attempt on a dead one.

    What ``close_old_connections()`` does for the task's thread around each
    Celery task, for threads that never see a task start: Django's
    ``close_if_unusable_or_obsolete()``, then its ``is_usable()`` check (one
    round trip), only after an idle spell, never between emails sent back to
    back."""
    now = time.monotonic()
    last, _local.database_used_at = getattr(_local, "database_used_at", None), now
    if last is None or now - last < CHECK_IDLE_AFTER:
        return
    connection = connections[router.db_for_write(OutboxEmail)]
    if connection.connection is None or connection.in_atomic_block:
        return
    connection.close_if_unusable_or_obsolete()
    if connection.connection is not None and not connection.is_usable():
        connection.close()


def _drop_broken_connection() -> None:
    """Close the outbox database's connection if an error left it unusable
    (a restarted or failed-over server, a terminated backend), so the next
    statement reconnects; what Django does between requests.

    Not inside a transaction someone else opened (a caller's
    ``transaction.atomic()``, a test case's): Django's check closes any
    connection whose autocommit is off, which would end that transaction
    under its owner. Its owner gets the error instead."""
    connection = connections[router.db_for_write(OutboxEmail)]
    if not connection.in_atomic_block:
        connection.close_if_unusable_or_obsolete()
