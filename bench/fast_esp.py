"""A fast fake ESP for the benchmarks: Postmark's ``POST /email`` on 127.0.0.1.

The integration tests' fake ESP (``tests/integration/fake_esp.py``) is a
threaded ``http.server``: right for scripting failures, but it starts a thread
per connection and parses HTTP in pure Python line by line. For throughput
figures the ESP must not be the bottleneck, so this one is a single asyncio
process with a minimal HTTP/1.1 keep-alive parser (requests/urllib3, which
Anymail uses, keep their connection open and send ``Content-Length``).
``bench/run.py`` measures its ceiling with Anymail clients and reports the CPU
it used during each run.

It records every accepted message as ``(key, accepted_at, sha1(html))``, where
``key`` is the bench order number (blanked in the hashed ``html``):
django-order-mail sends it as the Anymail metadata ``order``; the django-post-office run adds it as the header
``X-Bench-Order``. Control endpoints (GET): ``/_stats``, ``/_records``,
``/_reset``.

Run: ``python -m bench.fast_esp PORT TOKEN``.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import sys
import time
import uuid


class State:
    def __init__(self, token: str):
        self.token = token.encode()
        self.records: list[tuple[str, float, str]] = []
        self.requests = 0

    def accept(self, body: bytes) -> bytes:
        """Parse the message as Postmark would and remember it; the reply body."""
        message = json.loads(body)
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
        reply = {
            "To": message.get("To", ""),
            "SubmittedAt": "2026-11-22T00:00:00Z",
            "MessageID": str(uuid.uuid4()),
            "ErrorCode": 0,
            "Message": "OK",
        }
        return json.dumps(reply).encode()


def _response(status: bytes, body: bytes) -> bytes:
    return (
        b"HTTP/1.1 "
        + status
        + b"\r\nContent-Type: application/json\r\nContent-Length: "
        + str(len(body)).encode()
        + b"\r\n\r\n"
        + body
    )


class ESPProtocol(asyncio.Protocol):
    def __init__(self, state: State):
        self.state = state
        self.buffer = b""

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
            self.transport.write(self.handle(method, path, headers, body))

    def handle(self, method: str, path: str, headers: dict, body: bytes) -> bytes:
        state = self.state
        if method == "GET":
            return self.control(path)
        state.requests += 1
        if path.rstrip("/") != "/email":
            return _response(b"404 Not Found", b'{"ErrorCode":404,"Message":"unknown endpoint"}')
        if headers.get("x-postmark-server-token", "").encode() != state.token:
            return _response(b"401 Unauthorized", b'{"ErrorCode":10,"Message":"Bad token."}')
        return _response(b"200 OK", state.accept(body))

    def control(self, path: str) -> bytes:
        state = self.state
        if path == "/_reset":
            state.records = []
            state.requests = 0
            payload = {"ok": True}
        elif path == "/_records":
            payload = state.records
        else:
            cpu = os.times()
            payload = {
                "accepted": len(state.records),
                "requests": state.requests,
                "cpu_seconds": cpu.user + cpu.system,
            }
        return _response(b"200 OK", json.dumps(payload).encode())


async def main(port: int, token: str) -> None:
    state = State(token)
    loop = asyncio.get_running_loop()
    server = await loop.create_server(lambda: ESPProtocol(state), "127.0.0.1", port, backlog=1024)
    print(f"fast ESP listening on 127.0.0.1:{port}", flush=True)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]), sys.argv[2]))
