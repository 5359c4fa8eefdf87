"""ESP_BATCH_SEND: a claimed batch in one Postmark ``/email/batch`` call.

Anymail's real Postmark backend talks to a small HTTP server of the test's
own (127.0.0.1, an ephemeral port, its own thread) that answers ``/email``
and ``/email/batch`` with scripted per-message results.
"""

from __future__ import annotations

import json
import socket
import threading
from dataclasses import dataclass
from email.utils import parseaddr
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from anymail.message import attach_inline_image
from anymail.signals import pre_send as anymail_pre_send
from django.core.mail import get_connection
from django.test import override_settings
from django.utils import timezone

from django_order_mail.checks import check_settings
from django_order_mail.delivery import outcome, preparation, sender
from django_order_mail.delivery.batch import PostmarkBatchSender, batch_sender_for
from django_order_mail.events import MailEvent
from django_order_mail.exceptions import SendVetoed
from django_order_mail.outbox.models import EmailLog, OutboxEmail, Status
from django_order_mail.signals import email_failed, email_sent, pre_send
from tests.factories import OrderFactory

pytestmark = pytest.mark.django_db

TOKEN = "batch-test-token"
POSTMARK = "anymail.backends.postmark.EmailBackend"


@dataclass
class Request:
    path: str
    headers: dict
    body: bytes

    @property
    def json(self):
        return json.loads(self.body)


class LocalPostmark:
    """Postmark's ``/email`` and ``/email/batch`` on 127.0.0.1.

    ``answer(message) -> dict | None`` scripts a message's result (None:
    accepted, with MessageID ``pm-<outbox id>``); ``whole = (status, body,
    headers)`` answers the whole call instead.
    """

    def __init__(self):
        self.requests: list[Request] = []
        self.answer = lambda message: None
        self.whole: tuple[int, dict, dict] | None = None
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                server.requests.append(Request(self.path, dict(self.headers), body))
                status, payload, headers = server.respond(self.path, json.loads(body))
                data = json.dumps(payload).encode()
                self.send_response(status)
                for name, value in {**headers, "Content-Type": "application/json"}.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True).start()

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}/"

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def result(self, message: dict) -> dict:
        scripted = self.answer(message)
        if scripted is not None:
            return scripted
        return {
            "To": message["To"],
            "SubmittedAt": "2026-11-22T00:00:00Z",
            "MessageID": f"pm-{message['Metadata']['outbox_id']}",
            "ErrorCode": 0,
            "Message": "OK",
        }

    def respond(self, path: str, body):
        if self.whole is not None:
            return self.whole
        if path == "/email/batch":
            return 200, [self.result(message) for message in body], {}
        if path == "/email":
            result = self.result(body)
            return (200 if result["ErrorCode"] == 0 else 422), result, {}
        return 404, {"ErrorCode": 404, "Message": "unknown endpoint"}, {}

    def calls(self, path: str) -> list[Request]:
        return [request for request in self.requests if request.path == path]

    def batches(self) -> list[list[int]]:
        """The outbox ids in each /email/batch call."""
        return [[int(m["Metadata"]["outbox_id"]) for m in r.json] for r in self.calls("/email/batch")]


@pytest.fixture
def postmark(settings, mail_settings):
    server = LocalPostmark()
    settings.EMAIL_BACKEND = POSTMARK
    settings.ANYMAIL = {"POSTMARK_SERVER_TOKEN": TOKEN, "POSTMARK_API_URL": server.url}
    mail_settings(ESP_BATCH_SEND=True)
    sender.reset_connection()
    yield server
    sender.reset_connection()
    server.stop()


@pytest.fixture
def listen(request):
    def connect(signal):
        calls: list[dict] = []
        uid = f"test-batch-{id(calls)}"
        signal.connect(lambda **kwargs: calls.append(kwargs), dispatch_uid=uid, weak=False)
        request.addfinalizer(lambda: signal.disconnect(dispatch_uid=uid))
        return calls

    return connect


def confirmed_rows(n):
    rows = []
    for _ in range(n):
        order = OrderFactory()
        order.confirm_payment()
        order.save()
        rows.append(OutboxEmail.for_order(order).get(event=MailEvent.ORDER_CONFIRMATION))
    return rows


def by_pk(rows):
    return {row.pk: OutboxEmail.objects.get(pk=row.pk) for row in rows}


def test_all_accepted_in_one_call_each_row_sent_with_its_message_id(postmark, broker, listen):
    sent = listen(email_sent)
    rows = confirmed_rows(5)
    assert sender.deliver_batch([r.pk for r in rows]) == {r.pk: Status.SENT for r in rows}
    assert len(postmark.requests) == 1
    assert postmark.batches() == [[r.pk for r in rows]]
    [call] = postmark.requests
    assert call.headers["X-Postmark-Server-Token"] == TOKEN
    for pk, row in by_pk(rows).items():
        assert row.status == Status.SENT and row.esp_message_id == f"pm-{pk}"
        assert row.attempts == 1 and row.sent_at is not None and row.last_error == ""
        assert EmailLog.objects.filter(
            email=row, status=Status.SENT, message=f"accepted by the ESP as pm-{pk}"
        )
    # email_sent per row, with Anymail's status on the message as one by one.
    assert sorted(c["email"].pk for c in sent) == [r.pk for r in rows]
    assert all(c["message"].anymail_status.message_id == f"pm-{c['email'].pk}" for c in sent)
    assert broker == []


def test_per_message_errors_fail_only_their_rows(postmark, broker, listen):
    failed = listen(email_failed)
    rows = confirmed_rows(6)
    bad, inactive, flagged, throttled = rows[1].pk, rows[2].pk, rows[3].pk, rows[4].pk

    def answer(message):
        outbox_id, to = int(message["Metadata"]["outbox_id"]), parseaddr(message["To"])[1]
        if outbox_id == bad:
            return {"ErrorCode": 300, "Message": f"Invalid 'To' address: '{to}'."}
        if outbox_id == inactive:
            return {
                "ErrorCode": 406,
                "Message": "You tried to send to a recipient that has been marked as inactive. "
                f"Found inactive addresses: {to}. Inactive recipients are ones that have generated "
                "a hard bounce or a spam complaint.",
            }
        if outbox_id == flagged:  # accepted, yet not delivered to this (its only) address
            return {
                "To": message["To"],
                "MessageID": "pm-flagged",
                "ErrorCode": 0,
                "Message": f"Message OK, but will not deliver to these inactive addresses: {to}. "
                "Inactive recipients are ones that have generated a hard bounce or a spam complaint.",
            }
        if outbox_id == throttled:
            return {"ErrorCode": 429, "Message": "Rate limit exceeded."}
        return None

    postmark.answer = answer
    outcomes = sender.deliver_batch([r.pk for r in rows])
    assert len(postmark.requests) == 1 and len(postmark.batches()[0]) == 6
    assert outcomes == {
        rows[0].pk: Status.SENT,
        bad: Status.FAILED,
        inactive: Status.FAILED,
        flagged: Status.FAILED,
        throttled: "retry",
        rows[5].pk: Status.SENT,
    }
    after = by_pk(rows)
    assert after[bad].last_error.startswith("refused by Postmark (ErrorCode 300): Invalid 'To' address")
    assert (
        "ErrorCode 406" in after[inactive].last_error and "marked as inactive" in after[inactive].last_error
    )
    assert after[flagged].last_error.startswith("recipient rejected at the ESP")
    assert all(after[pk].attempts == 1 and after[pk].sent_at is None for pk in (bad, inactive, flagged))
    assert after[throttled].status == Status.QUEUED and after[throttled].send_after > timezone.now()
    assert "ErrorCode 429" in after[throttled].last_error
    assert [ids for ids, _countdown in broker] == [[throttled]]  # only the passing refusal is retried
    assert {after[pk].esp_message_id for pk in (rows[0].pk, rows[5].pk)} == {
        f"pm-{rows[0].pk}",
        f"pm-{rows[5].pk}",
    }
    assert sorted((c["email"].pk, c["permanent"]) for c in failed) == sorted(
        [(bad, True), (inactive, True), (flagged, True), (throttled, False)]
    )


@pytest.mark.parametrize(
    ("whole", "expected"),
    [
        ((500, {"ErrorCode": 0, "Message": "simulated 500"}, {}), "HTTP 500"),
        ((429, {"ErrorCode": 429, "Message": "Rate limit exceeded"}, {"Retry-After": "30"}), "HTTP 429"),
    ],
)
def test_a_whole_call_500_or_429_sends_every_row_back_to_queued(postmark, broker, whole, expected):
    postmark.whole = whole
    rows = confirmed_rows(3)
    assert sender.deliver_batch([r.pk for r in rows]) == dict.fromkeys([r.pk for r in rows], "retry")
    assert len(postmark.requests) == 1
    for row in by_pk(rows).values():
        assert row.status == Status.QUEUED and row.last_error.startswith(expected)
        assert row.send_after > timezone.now() and row.attempts == 1
    assert sorted(ids[0] for ids, _ in broker) == [r.pk for r in rows]
    if whole[0] == 429:  # the ESP's Retry-After, as one by one
        assert all(countdown >= 30 for _, countdown in broker)
    # The retry goes through: each row once more, then sent.
    postmark.whole = None
    OutboxEmail.objects.update(send_after=None)
    assert sender.deliver_batch([r.pk for r in rows]) == {r.pk: Status.SENT for r in rows}
    assert {row.attempts for row in by_pk(rows).values()} == {2}


def test_no_answer_at_all_is_retried(postmark, broker, settings):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        closed = f"http://127.0.0.1:{s.getsockname()[1]}/"
    settings.ANYMAIL = {**settings.ANYMAIL, "POSTMARK_API_URL": closed}
    sender.reset_connection()
    rows = confirmed_rows(2)
    assert sender.deliver_batch([r.pk for r in rows]) == dict.fromkeys([r.pk for r in rows], "retry")
    assert all("Error posting to" in row.last_error for row in by_pk(rows).values())


def test_a_whole_call_4xx_fails_every_row_with_the_reason(postmark, broker):
    postmark.whole = (401, {"ErrorCode": 10, "Message": "Bad or missing Server API token."}, {})
    rows = confirmed_rows(2)
    assert sender.deliver_batch([r.pk for r in rows]) == dict.fromkeys([r.pk for r in rows], Status.FAILED)
    for row in by_pk(rows).values():
        assert row.status == Status.FAILED and row.last_error.startswith("HTTP 401")
        assert "Bad or missing Server API token" in row.last_error
    assert broker == []


def test_a_vetoed_row_and_a_render_error_never_reach_the_call(postmark, broker, monkeypatch, request):
    rows = confirmed_rows(4)
    vetoed, broken = rows[0].pk, rows[2].pk

    def veto(sender, email, **kwargs):
        if email.pk == vetoed:
            raise SendVetoed("the shop said no", status=Status.CANCELLED)

    pre_send.connect(veto, dispatch_uid="test.batch.veto")
    request.addfinalizer(lambda: pre_send.disconnect(dispatch_uid="test.batch.veto"))
    original = preparation.render_outbox_email

    def render(row, order, **kwargs):
        if row.pk == broken:
            raise ValueError("bad data in this order")
        return original(row, order, **kwargs)

    monkeypatch.setattr(preparation, "render_outbox_email", render)
    outcomes = sender.deliver_batch([r.pk for r in rows])
    assert outcomes == {
        vetoed: Status.CANCELLED,
        rows[1].pk: Status.SENT,
        broken: Status.FAILED,
        rows[3].pk: Status.SENT,
    }
    assert postmark.batches() == [[rows[1].pk, rows[3].pk]]
    after = by_pk(rows)
    assert after[vetoed].last_error == "the shop said no"
    assert after[broken].last_error == "render error: ValueError: bad data in this order"


def test_chunks_of_at_most_max_messages(postmark, broker, monkeypatch):
    monkeypatch.setattr(PostmarkBatchSender, "max_messages", 2)
    rows = confirmed_rows(5)
    assert sender.deliver_batch([r.pk for r in rows]) == {r.pk: Status.SENT for r in rows}
    assert postmark.batches() == [[rows[0].pk, rows[1].pk], [rows[2].pk, rows[3].pk], [rows[4].pk]]


def test_a_recording_error_after_the_call_leaves_that_row_for_the_sweep(postmark, broker, monkeypatch):
    """The ESP has the message (send_started), so only the sweep may send it again."""
    rows = confirmed_rows(2)
    original = outcome.record_outcome

    def record(row, *args, status, **kwargs):
        if row.pk == rows[0].pk and status == Status.SENT:
            raise RuntimeError("the database went away")
        return original(row, *args, status=status, **kwargs)

    monkeypatch.setattr(outcome, "record_outcome", record)
    assert sender.deliver_batch([r.pk for r in rows]) == {rows[0].pk: "error", rows[1].pk: Status.SENT}
    assert OutboxEmail.objects.get(pk=rows[0].pk).status == Status.SENDING
    assert broker == []


def test_one_by_one_stays_the_default(postmark, broker, mail_settings):
    mail_settings(ESP_BATCH_SEND=False)
    rows = confirmed_rows(3)
    assert sender.deliver_batch([r.pk for r in rows]) == {r.pk: Status.SENT for r in rows}
    assert [r.path for r in postmark.requests] == ["/email"] * 3


def test_a_message_the_batch_cannot_carry_goes_alone(postmark, broker, request):
    """Another server token (Anymail's esp_extra, set in Anymail's pre_send)
    cannot share the call: it is sent on its own, as one by one."""
    rows = confirmed_rows(3)
    seen = []

    def other_token(sender, message, **kwargs):
        seen.append(message.metadata["outbox_id"])
        if message.metadata["outbox_id"] == str(rows[1].pk):
            message.esp_extra = {"server_token": "other-server"}

    anymail_pre_send.connect(other_token, dispatch_uid="test.batch.token")
    request.addfinalizer(lambda: anymail_pre_send.disconnect(dispatch_uid="test.batch.token"))
    assert sender.deliver_batch([r.pk for r in rows]) == {r.pk: Status.SENT for r in rows}
    assert sorted(seen) == sorted(str(r.pk) for r in rows)  # Anymail's pre_send once per message
    assert postmark.batches() == [[rows[0].pk, rows[2].pk]]
    [alone] = postmark.calls("/email")
    assert alone.headers["X-Postmark-Server-Token"] == "other-server"
    assert OutboxEmail.objects.get(pk=rows[1].pk).esp_message_id == f"pm-{rows[1].pk}"


def test_the_batch_carries_each_message_exactly_as_one_by_one_posts_it(postmark):
    """Fails loudly if Anymail's payload API the batch path relies on
    changes: for one message, the element of the /email/batch array is
    byte for byte the body Anymail's one-by-one send POSTs to /email."""
    [row] = confirmed_rows(1)
    prepared = sender.prepare(sender.claim(row.pk))
    message = prepared.message
    message.attach("invoice.pdf", b"%PDF-1.4 not really", "application/pdf")
    attach_inline_image(message, b"GIF89a-not-really", filename="logo.gif")
    message.extra_headers["X-Campaign"] = "spring"
    backend = get_connection()
    backend.open()
    try:
        message.connection = backend
        assert message.send() == 1
        [single] = postmark.requests
        assert single.path == "/email"
        sender_ = batch_sender_for(backend)
        assert isinstance(sender_, PostmarkBatchSender)
        assert sender_.send([message]) == [None]
    finally:
        backend.close()
    batch = postmark.requests[1]
    assert batch.path == "/email/batch"
    assert batch.body == b"[" + single.body + b"]"
    assert batch.headers["X-Postmark-Server-Token"] == single.headers["X-Postmark-Server-Token"] == TOKEN
    assert batch.headers["Content-Type"] == single.headers["Content-Type"] == "application/json"
    data = single.json
    assert data["Metadata"] == {
        "order": row.reference,
        "event": row.event,
        "outbox_id": str(row.pk),
        "channel": "web",
    }
    assert data["Tag"] == row.event
    headers = {h["Name"]: h["Value"] for h in data["Headers"]}
    assert headers["X-Order-Mail-Id"] == str(row.pk) and headers["X-Campaign"] == "spring"
    assert [a["Name"] for a in data["Attachments"]] == ["invoice.pdf", "logo.gif"]
    assert data["Attachments"][1]["ContentID"].startswith("cid:")
    assert "style=" in data["HtmlBody"]  # CSS inlined at render time
    assert message.anymail_status.message_id == f"pm-{row.pk}"


def test_esp_batch_send_without_a_batch_sender_is_warned_about():
    valid = {"SITE_URL": "https://shop.example", "FROM_EMAIL": "orders@shop.example"}
    locmem = "django.core.mail.backends.locmem.EmailBackend"

    def ids(backend, **order_mail):
        with override_settings(ORDER_MAIL={**valid, **order_mail}, EMAIL_BACKEND=backend):
            return [e.id for e in check_settings()]

    assert ids(locmem, ESP_BATCH_SEND=True) == ["django_order_mail.W005"]
    assert ids("no.such.Backend", ESP_BATCH_SEND=True) == ["django_order_mail.W005"]
    assert ids(POSTMARK, ESP_BATCH_SEND=True) == []
    assert ids(locmem) == ids(locmem, ESP_BATCH_SEND=False) == []
