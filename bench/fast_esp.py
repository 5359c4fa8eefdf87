"""A fast fake ESP for the benchmarks: Postmark's API on 127.0.0.1.

The integration tests' fake ESP (``tests/integration/fake_esp.py``) is a
threaded ``http.server``: right for scripting failures, but it starts a thread
per connection and parses HTTP in pure Python line by line. For throughput
figures the ESP must not be the bottleneck, so this one is a single asyncio
process with a minimal HTTP/1.1 keep-alive parser (requests/urllib3, which
Anymail uses, keep their connection open and send ``Content-Length``).
``bench/run.py`` measures its ceiling with Anymail clients and reports the CPU
it used during each run.

A real ESP takes tens of milliseconds to answer an API call (Postmark,
SendGrid, SES: typically 20-150 ms from a server in the same region), and
that wait, not the CPU, is what bounds a sender. So every API call is
answered after a configurable delay (``--latency-ms``, or ``GET
/_latency?ms=N`` at run time), the same for every call and never blocking
other connections: each request waits in its own ``asyncio.sleep``, so any
number of calls are in flight at once. Replies on one connection keep their
order.

Endpoints (Postmark's):

* ``POST /email``: one message (JSON object in, JSON object out);
* ``POST /email/batch``: up to 500 messages (JSON array in, JSON array of
  per-message results out), one delay for the whole call;
  ``/email/batchWithTemplates`` (``{"Messages": [...]}``) is answered alike.

A message counts as accepted when its reply is written (after the delay): it
records ``(key, accepted_at, sha1(html))``, where ``key`` is the bench order
number (blanked in the hashed ``html``): django-order-mail sends it as the
Anymail metadata ``order``; the django-post-office run adds it as the header
``X-Bench-Order``.

Control endpoints (GET, not counted as API calls or connections):
``/_stats`` (accepted messages, API calls, batch calls, TCP connections that
carried API calls, the most calls in flight at once, the ESP's CPU seconds),
``/_records``, ``/_reset`` (all counters; the latency stays),
``/_latency?ms=N``.

Run: ``python -m bench.fast_esp PORT TOKEN [--latency-ms N]``.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import os
import time
import uuid
from urllib.parse import parse_qs, urlsplit

#: Postmark refuses a batch of more than 500 messages.
BATCH_LIMIT = 500


class State:
    def __init__(self, token: str, latency_ms: float = 0.0):
        self.token = token.encode()
        self.latency = latency_ms / 1000
        self.reset()

    def reset(self) -> None:
        self.records: list[tuple[str, float, str]] = []
        self.requests = 0  # API calls (POST)
        self.batch_calls = 0
        self.connections = 0  # TCP connections that carried at least one API call
        self.in_flight = 0
        self.max_in_flight = 0

    def accept(self, message: dict) -> dict:
        """Remember one message as Postmark would accept it; its result."""
        key = (message.get("Metadata") or {}).get("order") or ""
        if not key:
            for header in message.get("Headers") or ():
                if header.get("Name") == "X-Bench-Order":
                    key = header.get("Value", "")
        html = message.get("HtmlBody") or ""
        # The order number differs between the two systems' runs; the rest of
        # the HTML must be byte for byte the same.
        digest = hashlib.sha1(html.replace(key, "#").encode()).hexdigest()[:16] if key else ""
        self.records.append((key, time.time(), digest))
        return {
            "To": message.get("To", ""),
            "SubmittedAt": "2026-11-22T00:00:00Z",
            "MessageID": str(uuid.uuid4()),
            "ErrorCode": 0,
            "Message": "OK",
        }


def _response(status: bytes, body: bytes) -> bytes:
    return (
        b"HTTP/1.1 "
        + status
        + b"\r\nContent-Type: application/json\r\nContent-Length: "
        + str(len(body)).encode()
        + b"\r\n\r\n"
        + body
    )


def _error(status: bytes, code: int, message: str) -> bytes:
    return _response(status, json.dumps({"ErrorCode": code, "Message": message}).encode())


class ESPProtocol(asyncio.Protocol):
    def __init__(self, state: State):
        self.state = state
        self.buffer = b""
        self.counted = False
        self.last_reply: asyncio.Task | None = None  # replies on one connection stay in order

    def connection_made(self, transport):
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while True:
            end = self.buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            head = self.buffer[:end].decode("latin-1")
            lines = head.split("\r\n")
            method, path = lines[0].split(" ")[:2]
            headers = {}
            for line in lines[1:]:
                name, _, value = line.partition(":")
                headers[name.strip().lower()] = value.strip()
            length = int(headers.get("content-length") or 0)
            if len(self.buffer) < end + 4 + length:
                return  # wait for the rest of the body
            body = self.buffer[end + 4 : end + 4 + length]
            self.buffer = self.buffer[end + 4 + length :]
            if method == "GET":
                self.transport.write(self.control(path))
            else:
                self.api_call(path, headers, body)

    def api_call(self, path: str, headers: dict, body: bytes) -> None:
        state = self.state
        state.requests += 1
        if not self.counted:
            self.counted = True
            state.connections += 1
        state.in_flight += 1
        state.max_in_flight = max(state.max_in_flight, state.in_flight)
        if state.latency <= 0 and (self.last_reply is None or self.last_reply.done()):
            self.reply(path, headers, body)  # no delay: answer at once, as before
            return
        previous = self.last_reply
        self.last_reply = asyncio.get_running_loop().create_task(
            self.delayed_reply(previous, state.latency, path, headers, body)
        )

    async def delayed_reply(self, previous, delay: float, path: str, headers: dict, body: bytes) -> None:
        await asyncio.sleep(delay)
        if previous is not None:
            await previous
        self.reply(path, headers, body)

    def reply(self, path: str, headers: dict, body: bytes) -> None:
        self.state.in_flight -= 1
        if self.transport.is_closing():
            return  # the client gave up: nothing accepted
        self.transport.write(self.handle(path, headers, body))

    def handle(self, path: str, headers: dict, body: bytes) -> bytes:
        state = self.state
        if headers.get("x-postmark-server-token", "").encode() != state.token:
            return _error(b"401 Unauthorized", 10, "Bad token.")
        endpoint = path.split("?", 1)[0].rstrip("/")
        if endpoint == "/email":
            return _response(b"200 OK", json.dumps(state.accept(json.loads(body))).encode())
        if endpoint in ("/email/batch", "/email/batchWithTemplates"):
            payload = json.loads(body)
            messages = payload.get("Messages") if isinstance(payload, dict) else payload
            if not isinstance(messages, list):
                return _error(b"422 Unprocessable Entity", 402, "Expected a JSON array of messages.")
            if len(messages) > BATCH_LIMIT:
                return _error(b"422 Unprocessable Entity", 300, f"At most {BATCH_LIMIT} messages per batch.")
            state.batch_calls += 1
            return _response(b"200 OK", json.dumps([state.accept(m) for m in messages]).encode())
        return _error(b"404 Not Found", 404, "unknown endpoint")

    def control(self, path: str) -> bytes:
        state = self.state
        url = urlsplit(path)
        if url.path == "/_reset":
            state.reset()
            payload: object = {"ok": True}
        elif url.path == "/_records":
            payload = state.records
        elif url.path == "/_latency":
            ms = parse_qs(url.query).get("ms")
            if ms:
                state.latency = float(ms[0]) / 1000
            payload = {"latency_ms": state.latency * 1000}
        else:
            cpu = os.times()
            payload = {
                "accepted": len(state.records),
                "requests": state.requests,
                "batch_calls": state.batch_calls,
                "connections": state.connections,
                "max_in_flight": state.max_in_flight,
                "latency_ms": state.latency * 1000,
                "cpu_seconds": cpu.user + cpu.system,
            }
        return _response(b"200 OK", json.dumps(payload).encode())


async def main(port: int, token: str, latency_ms: float = 0.0) -> None:
    state = State(token, latency_ms)
    loop = asyncio.get_running_loop()
    server = await loop.create_server(lambda: ESPProtocol(state), "127.0.0.1", port, backlog=1024)
    print(f"fast ESP listening on 127.0.0.1:{port}, {latency_ms:g} ms per API call", flush=True)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description="A fast fake Postmark API")
    parser.add_argument("port", type=int)
    parser.add_argument("token")
    parser.add_argument("--latency-ms", type=float, default=0.0, help="delay of every API call")
    args = parser.parse_args()
    asyncio.run(main(args.port, args.token, args.latency_ms))
