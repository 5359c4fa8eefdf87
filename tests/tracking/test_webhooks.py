"""ESP tracking webhooks through Anymail's real views → timeline, status, suppression."""

from datetime import datetime
from datetime import timezone as dt_timezone

import pytest
from anymail.signals import AnymailTrackingEvent

from django_order_mail.outbox.models import EmailLog
from django_order_mail.tracking.models import Suppression, TrackingEvent
from django_order_mail.tracking.receivers import event_key, record_event
from tests.tracking_utils import (
    POSTMARK_URL,
    SENDGRID_URL,
    WEBHOOK_SECRET,
    post_json,
    postmark_bounce,
    postmark_click,
    postmark_delivery,
    postmark_open,
    postmark_spam,
    postmark_unsubscribe,
    sendgrid_event,
    sent_row,
)

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.filterwarnings("ignore::anymail.exceptions.AnymailNotSupportedWarning"),
]


@pytest.fixture(autouse=True)
def webhook_secret(settings):
    settings.ANYMAIL = {**settings.ANYMAIL, "WEBHOOK_SECRET": WEBHOOK_SECRET}


@pytest.fixture
def row(order, broker, esp):
    return sent_row(order)


def timeline(row):
    return list(EmailLog.objects.filter(email=row).values_list("status", flat=True))


# -- authentication --------------------------------------------------------------------------


@pytest.mark.parametrize("auth", [None, "order-mail-hook:wrong", "someone:s3cret-Pa55"])
def test_webhook_without_valid_credentials_is_rejected_and_changes_nothing(client, row, auth):
    response = post_json(client, POSTMARK_URL, postmark_bounce(row), auth=auth)
    assert response.status_code == 400
    assert not TrackingEvent.objects.exists()
    assert not Suppression.objects.exists()
    row.refresh_from_db()
    assert row.delivery_status == ""


def test_sendgrid_webhook_without_credentials_is_rejected(client, row):
    batch = [sendgrid_event(row, "bounce", "sg-1", type="bounce")]
    response = post_json(client, SENDGRID_URL, batch, auth=None)
    assert response.status_code == 400
    assert not Suppression.objects.exists()


# -- status timeline ----------------------------------------------------------------------------


def test_postmark_delivery_open_click_land_on_the_timeline(client, row):
    for payload in (postmark_delivery(row), postmark_open(row), postmark_click(row)):
        assert post_json(client, POSTMARK_URL, payload).status_code == 200
    row.refresh_from_db()
    assert row.delivery_status == "delivered"
    assert row.delivered_at == datetime(2026, 3, 2, 10, 0, 5, tzinfo=dt_timezone.utc)
    assert row.opened_at == datetime(2026, 3, 2, 10, 5, tzinfo=dt_timezone.utc)
    assert row.clicked_at == datetime(2026, 3, 2, 10, 6, tzinfo=dt_timezone.utc)
    assert (row.open_count, row.click_count) == (1, 1)
    assert timeline(row)[-3:] == ["delivered", "opened", "clicked"]
    delivered = EmailLog.objects.get(email=row, status="delivered")
    assert delivered.message.startswith("Postmark: delivered — smtp;250")
    events = TrackingEvent.objects.order_by("id")
    assert [e.event_type for e in events] == ["delivered", "opened", "clicked"]
    assert all(e.email_id == row.pk and e.esp == "Postmark" for e in events)
    assert events[2].click_url == "https://shop.example/orders/1/"


def test_repeated_webhook_is_recorded_once(client, row):
    """Postmark gives opens no id: the payload hash is the dedupe key."""
    payload = postmark_open(row)
    for _ in range(3):
        assert post_json(client, POSTMARK_URL, payload).status_code == 200
    row.refresh_from_db()
    assert row.open_count == 1
    assert TrackingEvent.objects.count() == 1
    assert timeline(row).count("opened") == 1
    assert TrackingEvent.objects.get().event_id.startswith("sha256:")
    # A second, real open (another time) counts; the first open time stays.
    post_json(client, POSTMARK_URL, postmark_open(row, at="2026-03-04T07:00:00Z", first=False))
    row.refresh_from_db()
    assert row.open_count == 2
    assert row.opened_at == datetime(2026, 3, 2, 10, 5, tzinfo=dt_timezone.utc)


def test_repeated_bounce_with_esp_id_is_recorded_once(client, row):
    for _ in range(2):
        post_json(client, POSTMARK_URL, postmark_bounce(row))
    assert TrackingEvent.objects.get().event_id == "901542550"
    assert timeline(row).count("bounced") == 1
    assert Suppression.objects.count() == 1


def test_out_of_order_events_never_move_the_status_backwards(client, row):
    post_json(client, POSTMARK_URL, postmark_open(row))  # open arrives first
    row.refresh_from_db()
    assert row.delivery_status == ""  # an open says nothing about delivery...
    assert row.opened_at is not None  # ...but it is counted
    post_json(client, POSTMARK_URL, postmark_delivery(row))
    post_json(client, POSTMARK_URL, postmark_spam(row))
    post_json(client, POSTMARK_URL, postmark_delivery(row, at="2026-03-02T10:00:09Z"))  # late, different
    post_json(client, POSTMARK_URL, postmark_bounce(row, kind="Transient", bounce_id=5))  # late deferral
    row.refresh_from_db()
    assert row.delivery_status == "complained"
    assert row.delivered_at == datetime(2026, 3, 2, 10, 0, 5, tzinfo=dt_timezone.utc)
    late = EmailLog.objects.filter(email=row, status="deferred").get()
    assert "status stays complained" in late.message


def test_sendgrid_batch_processed_delivered_open(client, row):
    batch = [
        sendgrid_event(row, "processed", "sg-p"),
        sendgrid_event(row, "delivered", "sg-d", response="250 OK"),
        sendgrid_event(row, "open", "sg-o", useragent="Mozilla/5.0"),
    ]
    assert post_json(client, SENDGRID_URL, batch).status_code == 200
    assert post_json(client, SENDGRID_URL, batch).status_code == 200  # SendGrid retries the batch
    row.refresh_from_db()
    assert row.delivery_status == "delivered"
    assert row.open_count == 1
    assert TrackingEvent.objects.filter(esp="SendGrid").count() == 3


def test_event_is_matched_by_metadata_when_the_message_id_is_not_recorded_yet(client, row):
    """The webhook can beat the worker recording the ESP's message id."""
    payload = postmark_delivery(row)
    payload["MessageID"] = "not-yet-recorded-id"
    post_json(client, POSTMARK_URL, payload)
    row.refresh_from_db()
    assert row.delivery_status == "delivered"
    assert TrackingEvent.objects.get().email_id == row.pk


def test_event_for_an_unknown_message_is_kept_unmatched(client, row):
    payload = postmark_delivery(row)
    payload["MessageID"] = "someone-elses-message"
    payload["Metadata"] = {}
    assert post_json(client, POSTMARK_URL, payload).status_code == 200
    event = TrackingEvent.objects.get()
    assert event.email_id is None and event.message_id == "someone-elses-message"
    row.refresh_from_db()
    assert row.delivery_status == ""


# -- suppression from webhooks ------------------------------------------------------------------


def test_hard_bounce_suppresses_the_address_for_everything(client, row):
    post_json(client, POSTMARK_URL, postmark_bounce(row))
    entry = Suppression.objects.get()
    assert (entry.address, entry.reason, entry.scope) == (row.recipient, "hard_bounce", "all")
    assert entry.source == "Postmark webhook" and entry.email_id == row.pk
    row.refresh_from_db()
    assert row.delivery_status == "bounced"
    assert "suppressed" in timeline(row)


def test_soft_bounce_does_not_suppress(client, row):
    post_json(client, POSTMARK_URL, postmark_bounce(row, kind="SoftBounce", bounce_id=77))
    assert not Suppression.objects.exists()
    row.refresh_from_db()
    assert row.delivery_status == "deferred"
    assert "soft bounce" in EmailLog.objects.get(email=row, status="bounced").message


def test_sendgrid_blocked_bounce_does_not_suppress_but_a_real_bounce_does(client, row):
    post_json(client, SENDGRID_URL, [sendgrid_event(row, "bounce", "sg-b1", type="blocked")])
    assert not Suppression.objects.exists()
    post_json(client, SENDGRID_URL, [sendgrid_event(row, "bounce", "sg-b2", type="bounce", status="5.1.1")])
    assert Suppression.objects.get().reason == "hard_bounce"


def test_complaint_and_unsubscribe_are_separate_entries(client, order, broker, esp):
    """Both stop commercial mail only; the complaint keeps a row of its own
    (scope "all", read as commercial by suppression.blocks) so that neither
    the preference page nor an ESP resubscribe lifts it."""
    first = sent_row(order)
    post_json(client, POSTMARK_URL, postmark_unsubscribe(first))
    assert list(Suppression.objects.values_list("reason", "scope")) == [("unsubscribe", "commercial")]
    post_json(client, POSTMARK_URL, postmark_spam(first))
    assert set(Suppression.objects.values_list("reason", "scope")) == {
        ("unsubscribe", "commercial"),
        ("complaint", "all"),
    }
    note = EmailLog.objects.filter(email=first, status="suppressed").last()
    assert note.message == "address added to the suppression list (complaint, commercial)"


def test_resubscribe_at_the_esp_lifts_the_unsubscribe_only(client, row):
    post_json(client, POSTMARK_URL, postmark_unsubscribe(row))
    post_json(client, POSTMARK_URL, postmark_bounce(row))
    post_json(client, POSTMARK_URL, postmark_unsubscribe(row, at="2026-03-05T09:00:00Z", suppress=False))
    assert list(Suppression.objects.values_list("reason", flat=True)) == ["hard_bounce"]


def test_sendgrid_dropped_invalid_is_a_hard_bounce(client, row):
    post_json(client, SENDGRID_URL, [sendgrid_event(row, "dropped", "sg-x", reason="Invalid")])
    row.refresh_from_db()
    assert row.delivery_status == "rejected"
    assert Suppression.objects.get().reason == "hard_bounce"


# -- the receiver itself -------------------------------------------------------------------------


def test_failure_half_way_rolls_back_so_the_esp_retry_does_it_again(row, monkeypatch):
    event = AnymailTrackingEvent(
        event_type="bounced",
        event_id="b-1",
        message_id=row.esp_message_id,
        recipient=row.recipient,
        reject_reason="bounced",
        esp_event={},
    )

    def broken(*args, **kwargs):
        raise RuntimeError("database went away")

    monkeypatch.setattr("django_order_mail.tracking.receivers.suppress", broken)
    with pytest.raises(RuntimeError):
        record_event(event, "Postmark")
    assert not TrackingEvent.objects.exists()
    row.refresh_from_db()
    assert row.delivery_status == ""
    monkeypatch.undo()
    assert record_event(event, "Postmark") is not None
    row.refresh_from_db()
    assert row.delivery_status == "bounced"
    assert Suppression.objects.count() == 1


def test_fallback_key_is_stable_and_distinguishes_events():
    def open_event(when):
        return AnymailTrackingEvent(
            event_type="opened",
            message_id="m-1",
            recipient="a@example.com",
            timestamp=when,
            esp_event={"RecordType": "Open", "ReceivedAt": str(when)},
        )

    t1 = datetime(2026, 1, 1, tzinfo=dt_timezone.utc)
    t2 = datetime(2026, 1, 2, tzinfo=dt_timezone.utc)
    assert event_key(open_event(t1)) == event_key(open_event(t1))
    assert event_key(open_event(t1)) != event_key(open_event(t2))
    assert len(event_key(open_event(t1))) <= 255
