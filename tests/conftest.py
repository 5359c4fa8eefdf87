import pytest

from tests.factories import OrderFactory


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
