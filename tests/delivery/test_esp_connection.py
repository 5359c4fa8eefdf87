"""The sender's ESP connection: opened once per sending thread and kept."""

import threading

import pytest

from django_order_mail.delivery import sender

POSTMARK = "anymail.backends.postmark.EmailBackend"


@pytest.fixture
def postmark(settings):
    settings.EMAIL_BACKEND = POSTMARK
    settings.ANYMAIL = {"POSTMARK_SERVER_TOKEN": "token"}
    sender.reset_connection()
    yield
    sender.reset_connection()


def test_the_connection_is_opened_once_and_reused(postmark):
    """Anymail's requests backends close their session after each message
    unless they were opened: one session, kept, is what keeps TCP
    connections alive between sends."""
    first = sender._connection()
    assert first.session is not None  # Anymail's AnymailRequestsBackend.session
    assert sender._connection() is first
    sender.reset_connection()
    assert first.session is None and sender._connection() is not first


def test_each_sending_thread_has_its_own_connection(postmark):
    mine = sender._connection()
    theirs = []
    thread = threading.Thread(target=lambda: theirs.append(sender._connection()))
    thread.start()
    thread.join()
    assert theirs[0] is not mine and theirs[0].session is not mine.session


def test_the_environment_is_read_once_when_the_connection_opens(postmark, mail_settings, monkeypatch):
    """ESP_TRUST_ENV (the default): the proxy and CA bundle of the
    environment apply, read when the connection opens, not before every call."""
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.example:3128")
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", "/etc/ssl/shop-ca.pem")
    session = sender._connection().session
    assert session.trust_env is False  # nothing left to read per call
    assert session.proxies["https"] == "http://proxy.example:3128"
    assert session.verify == "/etc/ssl/shop-ca.pem"
    monkeypatch.setenv("HTTPS_PROXY", "http://other.example:3128")
    assert sender._connection().session.proxies["https"] == "http://proxy.example:3128"


def test_no_proxy_for_the_esp_host_is_honoured(postmark, monkeypatch):
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.example:3128")
    monkeypatch.setenv("NO_PROXY", "api.postmarkapp.com")
    assert "https" not in sender._connection().session.proxies


def test_esp_trust_env_false_ignores_the_environment(postmark, mail_settings, monkeypatch):
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.example:3128")
    mail_settings(ESP_TRUST_ENV=False)
    session = sender._connection().session
    assert session.trust_env is False and "https" not in session.proxies


def test_an_anymail_pre_send_cancel_is_recorded_as_cancelled_not_sent(order, broker, settings):
    """A shop's receiver of Anymail's own pre_send signal may cancel a send
    (AnymailCancelSend): the ESP never got it, so the row must not say sent."""
    from anymail.exceptions import AnymailCancelSend
    from anymail.signals import pre_send as anymail_pre_send
    from django.db import transaction

    from django_order_mail.outbox.models import OutboxEmail, Status

    settings.EMAIL_BACKEND = "anymail.backends.test.EmailBackend"
    sender.reset_connection()

    def cancel(sender, message, esp_name, **kwargs):
        raise AnymailCancelSend("held by the shop")

    anymail_pre_send.connect(cancel, weak=False, dispatch_uid="test-cancel")
    try:
        with transaction.atomic():
            order.confirm_payment()
            order.save()
        row = OutboxEmail.objects.get()
        assert sender.deliver(row.pk) == Status.CANCELLED
    finally:
        anymail_pre_send.disconnect(dispatch_uid="test-cancel")
        sender.reset_connection()
    row.refresh_from_db()
    assert row.status == Status.CANCELLED and "Anymail pre_send" in row.last_error
    assert row.sent_at is None and row.esp_message_id == ""
