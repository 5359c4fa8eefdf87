"""A fake ESP speaking Postmark's ``/email`` and ``/email/batch`` API on 127.0.0.1.

Anymail's real Postmark backend talks to it over HTTP (``POSTMARK_API_URL``),
so the integration tests exercise the real request building and response
parsing. Tests script its answers (500, 429, 422, hang) and read what it
*accepted*: a message counts as delivered only once the fake ESP has answered
200 for it, exactly as a real ESP would have taken responsibility for it.

``/email/batch`` (``ESP_BATCH_SEND``) is one request for many messages: each
message draws its own outcome from the same script (``"ok"``, ``422`` and
``"422-from"`` become that message's result in the 200 answer); a message
that draws an outcome of the whole call (another status, ``"hang"``,
``"slow"``) gives it to the whole call, as a real ESP failing the call would.
"""

from __future__ import annotations

import json
import random
import select
import socket
import sys
import threading
import time
import uuid
from collections import Counter, deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Accepted:
    message_id: str
    to: str
    subject: str
    metadata: dict
    tags: list
    html: str
    text: str
    headers: dict = field(default_factory=dict)


def _client_gone(handler) -> bool:
    """True once the client closed its end (a killed worker)."""
    sock = handler.connection
    readable, _, _ = select.select([sock], [], [], 0)
    if not readable:
        return False
    try:
        return sock.recv(1, socket.MSG_PEEK) == b""
    except OSError:
        return True


class FakeESP:
    """Start with :meth:`start`; ``url`` is the API base for POSTMARK_API_URL."""

    def __init__(self, token: str = "fake-server-token"):
        self.token = token
        self.accepted: list[Accepted] = []
        #: HTTP calls to /email and /email/batch (one per batch).
        self.requests = 0
        #: The number of messages in each /email/batch call.
        self.batch_sizes: list[int] = []
        self.refused = Counter()  # status code -> count
        self.hanging = 0
        #: Every message sent (an /email request, or one message of a batch):
        #: (time.time(), outbox_id, outcome), for checking retry spacing and
        #: counting attempts per email.
        self.attempts: list[tuple[float, int | None, object]] = []
        #: "slow" requests whose client gave up (timed out) before the answer.
        self.timed_out = 0
        #: How long a "slow" answer takes; set it above ANYMAIL REQUESTS_TIMEOUT.
        self.slow_seconds = 2.0
        #: Seconds every API call takes, like a real ESP's response time
        #: (0: answer at once).
        self.latency = 0.0
        #: TCP connections clients opened (keep-alive makes this small).
        self.connections = 0
        #: API calls being answered right now, and the most there ever were.
        self.in_flight = 0
        self.max_in_flight = 0
        #: When > 0, every call waits (up to :attr:`rendezvous_timeout`
        #: seconds) until this many calls are in flight at once: a client
        #: that sends one at a time makes each call wait out the timeout
        #: and ``max_in_flight`` stays 1.
        self.rendezvous = 0
        self.rendezvous_timeout = 20.0
        self._in_flight_changed = threading.Condition()
        self._fail_rate = 0.0
        self._fail_outcomes: tuple = ()
        self._rng = random.Random(0)
        self._script: deque = deque()
        self._lock = threading.Lock()
        self._release = threading.Event()
        self._server: ThreadingHTTPServer | None = None

    # -- control -------------------------------------------------------------
    def script(self, *outcomes) -> None:
        """Queue answers for the next requests: an int HTTP status, ``"hang"``
        (hold the request open until :meth:`release_hanging` or the client
        goes away), ``"slow"`` (answer 200 only after :attr:`slow_seconds`;
        a client that timed out meanwhile gets nothing and the message is not
        accepted) or ``"ok"``. Once the script is used up, every answer is 200
        (or a random failure, see :meth:`fail_randomly`)."""
        with self._lock:
            self._script.extend(outcomes)

    def fail_randomly(self, rate: float, outcomes=(500, 429, "slow"), seed: int = 0) -> None:
        """Answer a fraction ``rate`` of unscripted requests with one of
        ``outcomes`` (picked at random, reproducibly from ``seed``)."""
        with self._lock:
            self._fail_rate = rate
            self._fail_outcomes = tuple(outcomes)
            self._rng = random.Random(seed)

    def release_hanging(self) -> None:
        self._release.set()

    def reset(self) -> None:
        with self._lock:
            self.accepted.clear()
            self.refused.clear()
            self._script.clear()
            self.requests = 0
            self.batch_sizes = []
            self.hanging = 0
            self.attempts = []
            self.timed_out = 0
            self.slow_seconds = 2.0
            self.latency = 0.0
            self.connections = 0
            self.max_in_flight = 0
            self.rendezvous = 0
            self._fail_rate = 0.0
            self._fail_outcomes = ()
        self._release.set()
        self._release = threading.Event()

    def accepted_by_outbox_id(self) -> Counter:
        return Counter(int(a.metadata["outbox_id"]) for a in self.accepted)

    def accepted_by_key(self, keys_by_id: dict[int, str]) -> Counter:
        return Counter(keys_by_id[int(a.metadata["outbox_id"])] for a in self.accepted)

    # -- server --------------------------------------------------------------
    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}/"

    def start(self, port: int = 0) -> FakeESP:
        esp = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):  # keep test output clean
                pass

            def setup(self):
                super().setup()
                with esp._lock:
                    esp.connections += 1

            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                esp._enter()
                try:
                    esp._handle(self, body)
                finally:
                    esp._leave()

        class Server(ThreadingHTTPServer):
            def handle_error(self, request, client_address):
                # A worker SIGKILLed mid-request resets its connection: that
                # is the fault under test, not a server error worth a traceback.
                if not isinstance(sys.exc_info()[1], ConnectionError):
                    super().handle_error(request, client_address)

        self._server = Server(("127.0.0.1", port), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server:
            self._release.set()
            self._server.shutdown()
            self._server.server_close()

    def _enter(self) -> None:
        with self._in_flight_changed:
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
            self._in_flight_changed.notify_all()
            if self.rendezvous:
                self._in_flight_changed.wait_for(
                    lambda: self.max_in_flight >= self.rendezvous, timeout=self.rendezvous_timeout
                )

    def _leave(self) -> None:
        with self._in_flight_changed:
            self.in_flight -= 1

    def _next_outcome(self, outbox_id=None, new_request: bool = True):
        with self._lock:
            self.requests += new_request
            if self._script:
                outcome = self._script.popleft()
            elif self._fail_rate and self._rng.random() < self._fail_rate:
                outcome = self._rng.choice(self._fail_outcomes)
            else:
                outcome = "ok"
            self.attempts.append((time.time(), outbox_id, outcome))
            return outcome

    def _reply(self, handler, status: int, payload: dict | list) -> None:
        data = json.dumps(payload).encode()
        handler.send_response(status)
        handler.send_header("Content-Type", "application/json")
        handler.send_header("Content-Length", str(len(data)))
        handler.end_headers()
        handler.wfile.write(data)

    def _handle(self, handler, body: bytes) -> None:
        path = handler.path.rstrip("/")
        if path not in ("/email", "/email/batch"):
            return self._reply(handler, 404, {"ErrorCode": 404, "Message": "unknown endpoint"})
        if handler.headers.get("X-Postmark-Server-Token") != self.token:
            return self._reply(handler, 401, {"ErrorCode": 10, "Message": "Bad or missing Server API token."})
        if path == "/email/batch":
            return self._handle_batch(handler, json.loads(body))
        try:
            outbox_id = _outbox_id(json.loads(body))
        except ValueError:
            outbox_id = None
        if self.latency:
            time.sleep(self.latency)
        outcome = self._next_outcome(outbox_id)
        if outcome in ("slow", "hang"):
            if not self._wait(handler, outcome):
                return None
            outcome = "ok"
        if outcome != "ok":
            with self._lock:
                self.refused[outcome] += 1
            if outcome in (422, "422-from"):
                return self._reply(handler, 422, self._message_error(outcome, json.loads(body)))
            return self._reply_error(handler, outcome)
        message = json.loads(body)
        result, accepted = self._accept(message)
        try:
            self._reply(handler, 200, result)
            handler.wfile.flush()
        except OSError:
            return None  # the client went away before our answer: not accepted
        with self._lock:
            self.accepted.append(accepted)
        return None

    def _handle_batch(self, handler, messages: list) -> None:
        """``POST /email/batch``: one request, one outcome per message."""
        if self.latency:
            time.sleep(self.latency)
        with self._lock:
            self.requests += 1
            self.batch_sizes.append(len(messages))
        outcomes = [self._next_outcome(_outbox_id(m), new_request=False) for m in messages]
        call = next((o for o in outcomes if o not in ("ok", 422, "422-from")), "ok")
        if call in ("slow", "hang"):
            if not self._wait(handler, call):
                return None
            call = "ok"
        if call != "ok":
            with self._lock:
                self.refused[call] += 1
            return self._reply_error(handler, call)
        results, accepted = [], []
        for message, outcome in zip(messages, outcomes, strict=True):
            if outcome in (422, "422-from"):
                with self._lock:
                    self.refused[outcome] += 1
                results.append(self._message_error(outcome, message))
            else:
                result, taken = self._accept(message)
                results.append(result)
                accepted.append(taken)
        try:
            self._reply(handler, 200, results)
            handler.wfile.flush()
        except OSError:
            return None  # the client went away before our answer: nothing accepted
        with self._lock:
            self.accepted.extend(accepted)
        return None

    def _wait(self, handler, outcome) -> bool:
        """Answer late (``"slow"``) or not until released (``"hang"``); False
        if the client went away meanwhile (the ESP never took the message)."""
        if outcome == "slow":
            # Slower than the client's timeout: a client that gave up gets
            # nothing, and the ESP never took the message.
            deadline = time.monotonic() + self.slow_seconds
            while time.monotonic() < deadline and not self._release.wait(timeout=0.05):
                pass
            if _client_gone(handler):
                with self._lock:
                    self.timed_out += 1
                return False
            return True
        with self._lock:
            self.hanging += 1
        # Hold the request; if the client dies meanwhile, the reply fails
        # and nothing is accepted - the ESP never took the message.
        while not self._release.wait(timeout=0.05):
            if _client_gone(handler):
                return False
        return True

    @staticmethod
    def _message_error(outcome, message: dict) -> dict:
        if outcome == 422:
            return {"ErrorCode": 300, "Message": f"Invalid 'To' address: '{message.get('To', '')}'."}
        return {"ErrorCode": 300, "Message": "Invalid 'From' address: 'x'."}

    def _reply_error(self, handler, status: int) -> None:
        handler.send_response(status)
        if status == 429:
            handler.send_header("Retry-After", "1")
        data = json.dumps({"ErrorCode": 0, "Message": f"simulated {status}"}).encode()
        handler.send_header("Content-Type", "application/json")
        handler.send_header("Content-Length", str(len(data)))
        handler.end_headers()
        handler.wfile.write(data)

    @staticmethod
    def _accept(message: dict) -> tuple[dict, Accepted]:
        """The 200 result for ``message`` and what is accepted once it is delivered."""
        message_id = str(uuid.uuid4())
        result = {
            "To": message.get("To"),
            "SubmittedAt": "2026-11-22T00:00:00Z",
            "MessageID": message_id,
            "ErrorCode": 0,
            "Message": "OK",
        }
        return result, Accepted(
            message_id=message_id,
            to=message.get("To", ""),
            subject=message.get("Subject", ""),
            metadata=message.get("Metadata") or {},
            tags=[message.get("Tag")] if message.get("Tag") else [],
            html=message.get("HtmlBody", ""),
            text=message.get("TextBody", ""),
            headers={h["Name"]: h["Value"] for h in message.get("Headers", [])},
        )


def _outbox_id(message) -> int | None:
    try:
        return int((message.get("Metadata") or {})["outbox_id"])
    except (ValueError, KeyError, TypeError, AttributeError):
        return None
