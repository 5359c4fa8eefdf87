import pytest
from django.core.cache import cache
from django.utils import translation

from tests.factories import OrderFactory

# tests/core_only is a project of its own (the core without any feature app):
# scripts/test.sh runs it with its settings and without this conftest.
collect_ignore = ["core_only"]


@pytest.fixture(autouse=True)
def fresh_cache():
    """Every test starts with an empty cache (rate-limit counters, the
    branding record) and leaves none behind."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture(autouse=True)
def no_language_left_active():
    """Every test starts with no language active, as a new thread does. A
    request through the test client leaves the one ``LocaleMiddleware``
    chose active in the thread (a server sets it anew for each request), so
    a test after a German request would otherwise see German text."""
    translation.deactivate()
    yield
    translation.deactivate()


@pytest.fixture
def order(db):
    return OrderFactory()


@pytest.fixture
def no_broker(monkeypatch):
    """Unit tests check the outbox, not the broker: record publishes instead."""
    published = []
    monkeypatch.setattr(
        "django_order_mail.outbox.enqueue.publish",
        lambda ids, countdown=None: published.extend(ids) or len(ids),
    )
    return published


# --- fixtures of the core unit suite -----------------------------------------


@pytest.fixture
def broker(monkeypatch):
    """Record every publish (from enqueue, the sender's retries and the sweep)
    as ``(ids, countdown)`` instead of talking to a broker."""
    calls = []

    def fake_publish(ids, countdown=None):
        calls.append((list(ids), countdown))
        return len(ids)

    for target in (
        "django_order_mail.outbox.enqueue.publish",
        "django_order_mail.delivery.outcome.publish",
        "django_order_mail.delivery.sweep.publish",
    ):
        monkeypatch.setattr(target, fake_publish)
    return calls


@pytest.fixture
def esp(settings):
    """A controllable email backend (tests.backends.ControlledBackend)."""
    from django_order_mail.delivery.sender import reset_connection
    from tests.backends import ControlledBackend

    ControlledBackend.reset()
    settings.EMAIL_BACKEND = "tests.backends.ControlledBackend"
    reset_connection()
    yield ControlledBackend
    reset_connection()
    ControlledBackend.reset()


@pytest.fixture
def mail_settings(settings):
    """``mail_settings(MAX_ATTEMPTS=2)``: merge keys into ORDER_MAIL for one test."""

    def update(**values):
        settings.ORDER_MAIL = {**settings.ORDER_MAIL, **values}

    return update
