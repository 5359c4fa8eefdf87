"""Channel rules (PRODUCT.md §3, events.DEFAULT_CHANNELS) apply to orders the
sync moves: Amazon FBA orders get only the review request from the shop,
Amazon FBM orders everything but the confirmation, AliExpress orders only the
shipping details and the post-delivery mail. Uses the neutral feed
(marketplaces/generic.py) that a shop fills from Amazon's SP-API."""

from decimal import Decimal

import pytest

from django_order_mail.events import MailEvent
from django_order_mail.marketplaces.base import get_adapter
from django_order_mail.marketplaces.models import Outcome
from django_order_mail.marketplaces.parsing import MalformedUpdateError
from django_order_mail.marketplaces.sync import sync_pages
from django_order_mail.outbox.models import OutboxEmail, Status
from tests.marketplaces.helpers import log_rows, mail, marketplace_settings  # noqa: F401
from tests.testapp.models import Order

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("marketplace_settings")]

AMAZON_ID = "114-3941689-8772232"
FBA_SKIP = "channel amazon_fba: Amazon sends this email for FBA orders"
FBM_SKIP = "channel amazon_fbm: Amazon sends the order confirmation for FBM orders"
AE_SKIP = "channel aliexpress: AliExpress sends this status email to the buyer"


def feed(channel, *steps, order_id=AMAZON_ID):
    """One page per step, as a shop's converter would emit them over time."""
    return [
        {
            "items": [
                {
                    "order_id": order_id,
                    "status": status,
                    "updated_at": f"2024-05-0{i + 1}T09:00:00Z",
                    "channel": channel,
                    **extra,
                }
            ]
        }
        for i, (status, extra) in enumerate(steps)
    ]


UPS = {"shipments": [{"carrier": "ups", "tracking_number": "1Z999AA10123456784"}]}
LIFE = (("awaiting_shipment", {}), ("shipped", UPS), ("delivered", {}))


def test_fba_order_gets_only_the_review_request():
    summary = sync_pages(get_adapter("generic"), feed("amazon_fba", *LIFE))
    assert (summary.applied, summary.failed) == (3, 0)
    emails = mail(Order.objects.get(number=AMAZON_ID))
    assert emails[MailEvent.ORDER_CONFIRMATION] == [(Status.SKIPPED, FBA_SKIP)]
    assert emails[MailEvent.SHIPPING_CONFIRMATION] == [(Status.SKIPPED, FBA_SKIP)]
    assert emails[MailEvent.DELIVERED] == [(Status.SKIPPED, FBA_SKIP)]
    assert emails["feedback_request"][0][0] == Status.SCHEDULED
    assert not OutboxEmail.objects.filter(status=Status.QUEUED).exists()


def test_fbm_order_gets_everything_but_the_confirmation():
    sync_pages(get_adapter("generic"), feed("amazon_fbm", *LIFE))
    order = Order.objects.get(number=AMAZON_ID)
    emails = mail(order)
    assert emails[MailEvent.ORDER_CONFIRMATION] == [(Status.SKIPPED, FBM_SKIP)]
    assert emails[MailEvent.SHIPPING_CONFIRMATION] == [(Status.QUEUED, "")]
    assert emails[MailEvent.DELIVERED] == [(Status.QUEUED, "")]
    assert emails["feedback_request"][0][0] == Status.SCHEDULED
    shipping = OutboxEmail.for_order(order).get(event=MailEvent.SHIPPING_CONFIRMATION)
    assert shipping.shipment.get_tracking_url() == "https://www.ups.com/track?tracknum=1Z999AA10123456784"


def test_aliexpress_order_gets_shipping_and_delivery_but_not_status_mail():
    steps = (("awaiting_shipment", {}), ("frozen", {"reason": "risk check"}), ("cancelled", {}))
    sync_pages(get_adapter("generic"), feed("aliexpress", *steps))
    order = Order.objects.get(number=AMAZON_ID)
    assert order.state == "cancelled"
    emails = mail(order)
    assert emails[MailEvent.ORDER_CONFIRMATION] == [(Status.SKIPPED, AE_SKIP)]
    assert emails[MailEvent.ORDER_ON_HOLD] == [(Status.SKIPPED, AE_SKIP)]
    assert emails[MailEvent.CANCELLATION] == [(Status.SKIPPED, AE_SKIP)]
    hold = OutboxEmail.for_order(order).get(event=MailEvent.ORDER_ON_HOLD)
    assert "reason" not in hold.extra  # the marketplace's words stay in the sync log
    assert log_rows(status="frozen")[0].details["reason"] == "risk check"


def test_project_channel_override_reaches_synced_orders(mail_settings):
    mail_settings(CHANNELS={"amazon_fba": {"events": ["feedback_request", MailEvent.DELIVERED]}})
    sync_pages(get_adapter("generic"), feed("amazon_fba", *LIFE))
    emails = mail(Order.objects.get(number=AMAZON_ID))
    assert emails[MailEvent.DELIVERED] == [(Status.QUEUED, "")]
    assert emails[MailEvent.SHIPPING_CONFIRMATION][0][0] == Status.SKIPPED


def test_refund_amount_reaches_the_refund_email_as_decimal():
    refund = {
        "reason": "damaged in transit",
        "reason_code": "damaged",
        "refund_amount": {"amount": "12,50", "currency_code": "EUR"},
    }
    sync_pages(get_adapter("generic"), feed("web", *LIFE, ("refunded", refund)))
    order = Order.objects.get(number=AMAZON_ID)
    assert order.state == "refunded"
    row = OutboxEmail.for_order(order).get(event=MailEvent.REFUND)
    assert Decimal(row.extra["amount"]) == Decimal("12.50")
    # The email shows the preset in the customer's language; the
    # marketplace's own words are for staff, in the sync log.
    assert row.extra["reason_code"] == "damaged" and "reason" not in row.extra
    details = log_rows(status="refunded")[0].details
    assert details["refund_amount"] == "12.50" and details["reason"] == "damaged in transit"


def test_a_marketplace_reason_that_is_no_preset_never_reaches_the_customer():
    cancel = {"reason": "Käufer hat storniert", "reason_code": "buyer_changed_mind"}
    sync_pages(get_adapter("generic"), feed("web", ("awaiting_shipment", {}), ("cancelled", cancel)))
    order = Order.objects.get(number=AMAZON_ID)
    assert order.state == "cancelled"
    row = OutboxEmail.for_order(order).get(event=MailEvent.CANCELLATION)
    assert "reason" not in row.extra and "reason_code" not in row.extra


@pytest.mark.parametrize(
    ("item", "message"),
    [
        ({"order_id": "A-1", "status": "teleported"}, "unknown status 'teleported'"),
        ({"order_id": "A-1", "status": "refunded", "refund_amount": "-5"}, "must be positive"),
        ({"order_id": "A-1", "status": "shipped", "shipments": [{"tracking_number": "X"}]}, "needs at least"),
        ({"order_id": "A-1", "status": "shipped", "updated_at": "soon"}, "not a timestamp"),
        ({"status": "shipped"}, "order_id is missing"),
    ],
)
def test_generic_feed_rejects_bad_items(item, message):
    with pytest.raises(MalformedUpdateError, match=message):
        get_adapter("generic").parse(item)


def test_generic_feed_page_shape_errors_are_recorded():
    summary = sync_pages(
        get_adapter("generic"), [{"orders": []}, {"items": [{"order_id": "A-2", "status": "x"}]}]
    )
    assert summary.failed == 2
    reasons = sorted(r.reason for r in log_rows(outcome=Outcome.FAILED))
    assert reasons[0].startswith("page 1: page is neither a list")
    assert reasons[1] == "page 2 item 1: unknown status 'x'"
