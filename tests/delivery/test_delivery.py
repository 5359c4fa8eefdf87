"""Delivering one outbox row: claim, re-check, render, send, record, retry."""

import smtplib
from datetime import timedelta

import pytest
from anymail.exceptions import (
    AnymailAPIError,
    AnymailConfigurationError,
    AnymailInvalidAddress,
    AnymailRecipientsRefused,
)
from django.test import override_settings
from django.utils import timezone
from hypothesis import given
from hypothesis import strategies as st

from django_order_mail.delivery import sender
from django_order_mail.delivery.errors import classify
from django_order_mail.delivery.sender import claim, deliver, retry_delay
from django_order_mail.delivery.sweep import dispatch_due
from django_order_mail.events import MailEvent
from django_order_mail.outbox import actions
from django_order_mail.outbox.models import EmailLog, OutboxEmail, Status
from tests.backends import FakeResponse, api_error
from tests.factories import OrderFactory
from tests.testapp.models import Order

pytestmark = pytest.mark.django_db


def confirmed(order):
    order.confirm_payment()
    order.save()
    return OutboxEmail.for_order(order).get(event=MailEvent.ORDER_CONFIRMATION)


def delivered_order(order):
    order.confirm_payment()
    order.save()
    order.ship(order.add_shipment("ups", "1Z9"))
    order.save()
    order.mark_delivered()
    order.save()


def make_due(row):
    """Time travel: the row's send_after has come."""
    OutboxEmail.objects.filter(pk=row.pk).update(send_after=timezone.now() - timedelta(seconds=1))


# -- the happy path ------------------------------------------------------------------------


def test_deliver_sends_once_and_records_everything(order, broker, esp):
    row = confirmed(order)
    assert deliver(row.pk) == Status.SENT
    assert len(esp.sent) == 1
    message = esp.sent[0]
    row.refresh_from_db()
    assert row.status == Status.SENT
    assert row.sent_at is not None
    assert row.attempts == 1
    assert row.esp_message_id == "esp-1"
    assert row.recipient == order.email == message.to[0]
    assert row.subject == message.subject != ""
    assert row.body_text == message.body != ""
    html = dict((mime, body) for body, mime in message.alternatives)["text/html"]
    assert row.body_html == html
    assert "<html" in html.lower()
    assert row.last_error == ""
    assert message.extra_headers["X-Order-Mail-Id"] == str(row.pk)
    assert "order_confirmation" in message.tags
    assert message.metadata["outbox_id"] == str(row.pk)
    assert message.reply_to == ["help@shop.example"]
    log = EmailLog.objects.filter(email=row, status=Status.SENT).get()
    assert log.message == "accepted by the ESP as esp-1"


def test_second_deliver_of_the_same_row_sends_nothing(order, broker, esp):
    row = confirmed(order)
    assert deliver(row.pk) == Status.SENT
    assert deliver(row.pk) == "not-claimed"
    assert len(esp.attempts) == 1
    row.refresh_from_db()
    assert row.attempts == 1


def test_deliver_uses_the_orders_current_address(order, broker, esp):
    row = confirmed(order)
    Order.objects.filter(pk=order.pk).update(email="fixed@example.com")
    assert deliver(row.pk) == Status.SENT
    assert esp.sent[0].to == ["fixed@example.com"]
    row.refresh_from_db()
    assert row.recipient == "fixed@example.com"


def test_payment_card_number_is_cut_to_last_four(order, broker, esp):
    row = confirmed(order)
    deliver(row.pk)
    row.refresh_from_db()
    assert "4242424242424242" not in row.body_text + row.body_html


def test_claim_of_a_row_not_yet_due_returns_none(order, broker):
    row = confirmed(order)
    OutboxEmail.objects.filter(pk=row.pk).update(send_after=timezone.now() + timedelta(minutes=5))
    assert claim(row.pk) is None
    row.refresh_from_db()
    assert row.status == Status.QUEUED
    assert row.attempts == 0


@pytest.mark.parametrize("status", [Status.SCHEDULED, Status.SENDING, Status.SENT, Status.CANCELLED])
def test_claim_only_takes_queued_rows(order, broker, status):
    row = confirmed(order)
    OutboxEmail.objects.filter(pk=row.pk).update(status=status)
    assert claim(row.pk) is None


def test_claim_moves_to_sending_with_a_fresh_token(order, broker):
    row = confirmed(order)
    claimed = claim(row.pk)
    assert claimed.status == Status.SENDING
    assert claimed.attempts == 1
    assert claimed.claimed_at is not None
    assert claimed.claim_token != row.claim_token


def test_claim_of_missing_row(db):
    assert claim(987654) is None
    assert deliver(987654) == "not-claimed"


# -- transient errors -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "error",
    [api_error(500), api_error(503), api_error(429), ConnectionError("reset by peer"), api_error(None)],
    ids=["500", "503", "429", "ConnectionError", "no-response"],
)
def test_transient_error_requeues_with_backoff(order, broker, esp, error):
    row = confirmed(order)
    esp.outcomes = [error]
    before = timezone.now()
    assert deliver(row.pk) == "retry"
    after = timezone.now()
    row.refresh_from_db()
    assert row.status == Status.QUEUED
    assert row.attempts == 1
    assert row.sent_at is None
    base = 15  # RETRY_BACKOFF_BASE default; attempt 1 -> between 7.5 and 15 s
    assert before + timedelta(seconds=base / 2) <= row.send_after <= after + timedelta(seconds=base)
    assert row.last_error
    [(ids, countdown)] = broker
    assert ids == [row.pk]
    assert base / 2 <= countdown <= base
    log = EmailLog.objects.filter(email=row).order_by("-id").first()
    assert log.status == Status.QUEUED
    assert log.message.startswith("attempt 1 failed, retry in")
    # not due yet: a redelivered message cannot send it early
    assert deliver(row.pk) == "not-claimed"
    # once due, it goes out
    make_due(row)
    assert deliver(row.pk) == Status.SENT
    row.refresh_from_db()
    assert row.attempts == 2
    assert row.last_error == ""


def test_backoff_doubles_per_attempt(order, broker, esp, mail_settings):
    mail_settings(RETRY_BACKOFF_BASE=10, RETRY_BACKOFF_MAX=1000)
    row = confirmed(order)
    esp.outcomes = [api_error(500)] * 3
    countdowns = []
    for _ in range(3):
        assert deliver(row.pk) == "retry"
        countdowns.append(broker[-1][1])
        make_due(row)
    for attempt, countdown in enumerate(countdowns, start=1):
        full = 10 * 2 ** (attempt - 1)
        assert full / 2 <= countdown <= full


def test_gives_up_after_max_attempts(order, broker, esp, mail_settings):
    mail_settings(MAX_ATTEMPTS=3)
    row = confirmed(order)
    esp.outcomes = [api_error(500)] * 5
    results = []
    for _ in range(4):
        results.append(deliver(row.pk))
        make_due(row)
    assert results == ["retry", "retry", Status.FAILED, "not-claimed"]
    row.refresh_from_db()
    assert row.status == Status.FAILED
    assert row.attempts == 3
    assert row.last_error.startswith("gave up after 3 attempts: HTTP 500")
    assert len(esp.attempts) == 3
    assert len(broker) == 2  # one publish per retry, none after giving up
    # staff can retry it after fixing the cause
    esp.outcomes = []
    assert actions.retry(row)
    row.refresh_from_db()
    assert deliver(row.pk) == Status.SENT


def test_retry_after_header_is_honoured(order, broker, esp):
    row = confirmed(order)
    esp.outcomes = [api_error(429, retry_after="120")]
    before = timezone.now()
    assert deliver(row.pk) == "retry"
    row.refresh_from_db()
    assert row.send_after >= before + timedelta(seconds=120)
    assert broker[-1][1] >= 120


def test_retry_after_is_capped(order, broker, esp, mail_settings):
    mail_settings(RETRY_BACKOFF_MAX=300)
    row = confirmed(order)
    esp.outcomes = [api_error(503, retry_after="86400")]
    after = timezone.now()
    deliver(row.pk)
    row.refresh_from_db()
    assert row.send_after <= timezone.now() + timedelta(seconds=300)
    assert row.send_after >= after + timedelta(seconds=299)


# -- permanent errors --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (api_error(422, message="invalid template"), "HTTP 422"),
        (api_error(400), "HTTP 400"),
        (AnymailRecipientsRefused(), "AnymailRecipientsRefused"),
        (AnymailInvalidAddress("bad address"), "AnymailInvalidAddress"),
    ],
    ids=["422", "400", "refused", "invalid-address"],
)
def test_permanent_error_fails_with_reason(order, broker, esp, error, expected):
    row = confirmed(order)
    esp.outcomes = [error]
    assert deliver(row.pk) == Status.FAILED
    row.refresh_from_db()
    assert row.status == Status.FAILED
    assert expected in row.last_error
    assert row.attempts == 1
    assert row.subject  # staff can see what was attempted
    assert broker == []
    assert EmailLog.objects.filter(email=row, status=Status.FAILED).exists()
    assert deliver(row.pk) == "not-claimed"


# -- render errors and vanished orders ------------------------------------------------------------


def test_render_error_fails_the_row_and_others_still_send(broker, esp, monkeypatch):
    bad, good = OrderFactory(), OrderFactory()
    bad_row, good_row = confirmed(bad), confirmed(good)
    original = Order.get_mail_line_items

    def line_items(self):
        if self.pk == bad.pk:
            raise KeyError("price")
        return original(self)

    monkeypatch.setattr(Order, "get_mail_line_items", line_items)
    assert deliver(bad_row.pk) == Status.FAILED
    assert deliver(good_row.pk) == Status.SENT
    bad_row.refresh_from_db()
    assert bad_row.status == Status.FAILED
    assert bad_row.last_error.startswith("render error: KeyError")
    assert [m.to[0] for m in esp.sent] == [good.email]


def test_template_syntax_error_is_a_render_error(order, broker, esp, settings, tmp_path):
    """A project's broken override of a packaged template fails that email
    with the reason; the transition that queued it is long committed."""
    row = confirmed(order)
    override = tmp_path / "django_order_mail" / "email" / "order_confirmation.email"
    override.parent.mkdir(parents=True)
    override.write_text("{% block subject %}{% if %}{% endif %}{% endblock %}")
    settings.TEMPLATES = [{**settings.TEMPLATES[0], "DIRS": [str(tmp_path)]}]
    assert deliver(row.pk) == Status.FAILED
    row.refresh_from_db()
    assert row.last_error.startswith("render error: TemplateSyntaxError: ")
    assert "if" in row.last_error
    assert esp.attempts == []


def test_deleted_order_fails_the_row(order, broker, esp):
    row = confirmed(order)
    Order.objects.filter(pk=order.pk).delete()
    assert deliver(row.pk) == Status.FAILED
    row.refresh_from_db()
    assert row.status == Status.FAILED
    assert row.last_error == "the order no longer exists"
    assert esp.attempts == []


# -- re-check right before sending -----------------------------------------------------------------


def test_feedback_request_of_a_refunded_order_is_cancelled_at_send_time(order, broker, esp):
    delivered_order(order)
    feedback = OutboxEmail.for_order(order).get(event="feedback_request")
    # refunded behind the lifecycle's back (no transition, no cancel_scheduled)
    Order.objects.filter(pk=order.pk).update(state="refunded")
    make_due(feedback)
    assert dispatch_due() == [feedback.pk]
    assert deliver(feedback.pk) == Status.CANCELLED
    feedback.refresh_from_db()
    assert feedback.status == Status.CANCELLED
    assert feedback.last_error == "order is refunded"
    assert esp.attempts == []


def test_feedback_request_of_a_delivered_order_is_sent(order, broker, esp):
    delivered_order(order)
    feedback = OutboxEmail.for_order(order).get(event="feedback_request")
    make_due(feedback)
    dispatch_due()
    assert deliver(feedback.pk) == Status.SENT
    assert esp.sent[0].to == [order.email]


def test_refund_email_is_retried_after_a_transient_error(order, broker, esp):
    order.confirm_payment()
    order.save()
    order.refund(reason="out of stock")
    order.save()
    row = OutboxEmail.for_order(order).get(event=MailEvent.REFUND)
    esp.outcomes = [api_error(503)]
    assert deliver(row.pk) == "retry"
    make_due(row)
    assert deliver(row.pk) == Status.SENT


def test_released_feedback_request_of_refunded_order_is_not_sent(order, broker, esp):
    from django_order_mail.delivery.sweep import release_stuck

    delivered_order(order)
    feedback = OutboxEmail.for_order(order).get(event="feedback_request")
    make_due(feedback)
    dispatch_due()
    assert claim(feedback.pk) is not None  # a worker claims it and dies
    Order.objects.filter(pk=order.pk).update(state="refunded")
    assert release_stuck(now=timezone.now() + timedelta(hours=1)) == [feedback.pk]
    assert deliver(feedback.pk) == Status.CANCELLED


def test_resend_of_feedback_request_is_sent_even_if_refunded(order, broker, esp):
    delivered_order(order)
    feedback = OutboxEmail.for_order(order).get(event="feedback_request")
    Order.objects.filter(pk=order.pk).update(state="refunded")
    copy = actions.resend(feedback)
    assert deliver(copy.pk) == Status.SENT


# -- connection handling ---------------------------------------------------------------------------


def test_connection_is_reset_after_a_transient_error(order, broker, esp):
    row = confirmed(order)
    deliver(confirmed(OrderFactory()).pk)
    first_connection = sender._local.connections[None]
    esp.outcomes = [api_error(500)]
    deliver(row.pk)
    assert sender._local.connections.get(None) is not first_connection


# -- retry_delay properties --------------------------------------------------------------------------


@given(
    attempt=st.integers(min_value=0, max_value=200),
    base=st.integers(min_value=1, max_value=600),
    cap=st.integers(min_value=1, max_value=3300),
)
def test_retry_delay_is_between_half_and_full_capped_delay(attempt, base, cap):
    with override_settings(ORDER_MAIL={"RETRY_BACKOFF_BASE": base, "RETRY_BACKOFF_MAX": cap}):
        full = min(cap, base * 2 ** max(0, attempt - 1))
        delay = retry_delay(attempt)
        assert full / 2 <= delay <= full
        assert delay <= cap


@given(
    attempt=st.integers(min_value=1, max_value=30),
    retry_after=st.floats(min_value=0.001, max_value=10**7, allow_nan=False),
    cap=st.integers(min_value=1, max_value=3300),
)
def test_retry_delay_honours_retry_after_within_cap(attempt, retry_after, cap):
    with override_settings(ORDER_MAIL={"RETRY_BACKOFF_BASE": 15, "RETRY_BACKOFF_MAX": cap}):
        delay = retry_delay(attempt, retry_after)
        assert delay <= cap
        assert delay >= min(cap, retry_after)
        full = min(cap, 15 * 2 ** (attempt - 1))
        assert delay >= full / 2


# -- errors.classify ----------------------------------------------------------------------------------


class _SMTPRefused(smtplib.SMTPRecipientsRefused):
    def __init__(self):
        super().__init__({"a@example.com": (550, b"no such user")})


@pytest.mark.parametrize(
    ("exc", "transient", "reason_part"),
    [
        (api_error(500), True, "HTTP 500"),
        (api_error(502), True, "HTTP 502"),
        (api_error(429), True, "HTTP 429"),
        (api_error(400), False, "HTTP 400"),
        (api_error(401), False, "HTTP 401"),
        (api_error(422), False, "HTTP 422"),
        (api_error(None), True, "AnymailAPIError"),
        (AnymailRecipientsRefused(), False, "AnymailRecipientsRefused"),
        (AnymailInvalidAddress("x"), False, "AnymailInvalidAddress"),
        (AnymailConfigurationError("no key"), False, "AnymailConfigurationError"),
        (ConnectionError("reset"), True, "ConnectionError"),
        (TimeoutError("slow"), True, "TimeoutError"),
        (RuntimeError("who knows"), True, "RuntimeError"),
        (smtplib.SMTPResponseException(451, b"try later"), True, "SMTPResponseException"),
        (smtplib.SMTPResponseException(554, b"rejected"), False, "SMTPResponseException"),
        (_SMTPRefused(), False, "_SMTPRefused"),
    ],
)
def test_classify_table(exc, transient, reason_part):
    verdict = classify(exc)
    assert verdict.transient is transient
    assert reason_part in verdict.reason


def test_classify_reads_retry_after_only_for_transient_http():
    assert classify(api_error(429, retry_after="30")).retry_after == 30.0
    assert classify(api_error(503, retry_after="garbage")).retry_after is None
    assert classify(api_error(500)).retry_after is None
    assert classify(api_error(400, retry_after="30")).retry_after is None


def test_classify_truncates_long_messages():
    exc = AnymailAPIError("x" * 5000, status_code=500, response=FakeResponse(500, text="y" * 5000))
    assert len(classify(exc).reason) < 1600
