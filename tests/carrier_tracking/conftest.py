"""Fixtures of the carrier-tracking tests: both providers enabled, a shipped order."""

from __future__ import annotations

import pytest

from tests.carrier_tracking.helpers import AFTERSHIP_NUMBER, AFTERSHIP_SECRET, EASYPOST_SECRET, ship
from tests.factories import OrderFactory


@pytest.fixture
def providers(settings):
    """Both packaged providers enabled with their secrets."""
    settings.ORDER_MAIL = {
        **settings.ORDER_MAIL,
        "CARRIER_TRACKING_PROVIDERS": {
            "aftership": {"secret": AFTERSHIP_SECRET},
            "easypost": {"secret": EASYPOST_SECRET},
        },
    }
    return settings.ORDER_MAIL["CARRIER_TRACKING_PROVIDERS"]


@pytest.fixture
def shipped(db, broker):
    """A shipped order of "Tina" with one parcel, AfterShip's sample number."""
    order = OrderFactory(customer_name="Tina")
    ship(order, AFTERSHIP_NUMBER)
    return order
