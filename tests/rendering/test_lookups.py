"""The packaged templates never look up a variable that is not there.

A failed lookup is the slowest path of Django's template engine (it calls
``dir()`` on the object to tell a missing key from a broken property); the
context builder fills every key the packaged templates read
(``rendering.context.ITEM_DEFAULTS`` and friends, docs/performance.md).
"""

from collections import Counter
from datetime import date

import pytest
from django.template import base

from django_order_mail.events import SHIPMENT_EVENTS, MailEvent
from django_order_mail.rendering.context import build_context
from django_order_mail.rendering.render import render_event
from tests.factories import OrderFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def failed_lookups(monkeypatch):
    failed = Counter()
    original = base.Variable._resolve_lookup

    def recording(self, context):
        try:
            return original(self, context)
        except base.VariableDoesNotExist:
            failed[self.var] += 1
            raise

    monkeypatch.setattr(base.Variable, "_resolve_lookup", recording)
    return failed


@pytest.mark.parametrize("event", [*MailEvent.values, "feedback_request"])
def test_no_lookup_fails_in_a_packaged_email(event, failed_lookups):
    order = OrderFactory(customer_name="Tina")
    parcel = order.add_shipment("ups", "1Z999", estimated_delivery_from=date(2026, 3, 3))
    context = build_context(order, event, shipment=parcel if event in SHIPMENT_EVENTS else None, email_id=1)
    render_event(event, context)
    assert dict(failed_lookups) == {}
