"""Mail streams: commercial mail through its own mailer (Django 6.1's
MAILERS) or ESP stream (Anymail's esp_extra), transactional mail untouched
(docs/settings.rst, MAIL_STREAMS)."""

import pytest
from django.core import mail
from django.core.checks import run_checks

from django_order_mail.delivery import sender
from django_order_mail.outbox.models import Status
from tests.backends import AliasRecordingBackend
from tests.tracking_utils import queued_row

pytestmark = pytest.mark.django_db

BACKEND = "tests.backends.AliasRecordingBackend"
POSTMARK_BROADCAST = {"MessageStream": "broadcast"}


@pytest.fixture
def recording(settings):
    AliasRecordingBackend.sent = []
    settings.EMAIL_BACKEND = BACKEND
    sender.reset_connection()
    yield AliasRecordingBackend.sent
    sender.reset_connection()


def test_commercial_mail_gets_its_stream_options_and_transactional_mail_none(
    order, broker, recording, mail_settings
):
    mail_settings(MAIL_STREAMS={"commercial": {"esp_extra": POSTMARK_BROADCAST}})
    confirmation = queued_row(order, "order_confirmation")
    feedback = queued_row(order, "feedback_request")
    assert sender.deliver(confirmation.pk) == Status.SENT
    assert sender.deliver(feedback.pk) == Status.SENT
    by_event = {message.metadata["event"]: message for _alias, message in recording}
    assert by_event["feedback_request"].esp_extra == POSTMARK_BROADCAST
    assert not hasattr(by_event["order_confirmation"], "esp_extra")


def test_commercial_mail_goes_through_its_own_mailer(order, broker, recording, mail_settings, settings):
    """Django 6.1: the stream's MAILERS alias sends it. Before 6.1 there is
    no MAILERS: the system check refuses a mailer, with the hint to use
    esp_extra instead."""
    mail_settings(MAIL_STREAMS={"commercial": {"mailer": "marketing"}})
    if not hasattr(mail, "mailers"):
        [error] = [e for e in run_checks() if e.id == "django_order_mail.E013"]
        assert "Django 6.1" in error.msg and "esp_extra" in error.hint
        return
    settings.MAILERS = {"default": {"BACKEND": BACKEND}, "marketing": {"BACKEND": BACKEND}}
    assert not [e for e in run_checks() if e.id == "django_order_mail.E013"]
    confirmation = queued_row(order, "order_confirmation")
    feedback = queued_row(order, "feedback_request")
    assert sender.deliver(confirmation.pk) == Status.SENT
    assert sender.deliver(feedback.pk) == Status.SENT
    assert {message.metadata["event"]: alias for alias, message in recording} == {
        "order_confirmation": "default",
        "feedback_request": "marketing",
    }


@pytest.mark.parametrize(
    "streams",
    [
        {"newsletter": {"esp_extra": {}}},
        {"commercial": {"esp_extra": "broadcast"}},
        {"commercial": {"stream": "broadcast"}},
        "commercial",
    ],
)
def test_malformed_streams_are_refused_at_start_up(mail_settings, streams):
    mail_settings(MAIL_STREAMS=streams)
    assert [e.id for e in run_checks() if e.id == "django_order_mail.E013"]
