"""How fast the fake ESP answers, so it is known not to be the bottleneck.

``python -m bench.esp_capacity COUNT`` is one client: Anymail's Postmark
backend (a kept-open session, as a long-lived sender has) sending COUNT
messages of realistic size (6 KB of HTML). :func:`run` starts several such
clients at once and reports the ESP's total rate; the throughput runs also
record the share of one CPU the ESP used.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time

from .services import PY, ROOT, child_env

HTML = (
    "<html><body>" + ("<p style='margin:0 0 8px'>Wool socks x 2 ... 25.00 USD</p>" * 110) + "</body></html>"
)


def client(count: int) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings")
    import django

    django.setup()
    from django.core.mail import EmailMultiAlternatives, get_connection

    conn = get_connection()
    conn.open()
    print("ready", flush=True)
    sys.stdin.readline()  # all clients start together, after Django's start-up
    start = time.perf_counter()
    for i in range(count):
        message = EmailMultiAlternatives(
            subject=f"Order CAP{i:06d} confirmed",
            body="Thanks for your order.\n" * 30,
            from_email="Shop <orders@shop.example>",
            to=[f"customer{i}@example.com"],
            connection=conn,
        )
        message.attach_alternative(HTML, "text/html")
        message.metadata = {"order": f"CAP{i:06d}", "outbox_id": str(i)}
        message.send()
    print(time.perf_counter() - start, flush=True)
    conn.close()


def run(esp, clients: int, per_client: int, log) -> dict:
    esp.reset()
    procs = [
        subprocess.Popen(
            [PY, "-m", "bench.esp_capacity", str(per_client)],
            cwd=ROOT,
            env=child_env(),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        for _ in range(clients)
    ]
    for proc in procs:
        if proc.stdout.readline().strip() != "ready":
            raise RuntimeError("ESP capacity client did not start")
    cpu0 = esp.stats()["cpu_seconds"]
    for proc in procs:
        proc.stdin.write("go\n")
        proc.stdin.flush()
    seconds = max(float(proc.communicate(timeout=600)[0].split()[-1]) for proc in procs)
    stats = esp.stats()
    total = clients * per_client
    result = {
        "clients": clients,
        "messages": total,
        "accepted": stats["accepted"],
        "seconds": seconds,
        "per_second": total / seconds,
        "esp_cpu_seconds_per_1000": (stats["cpu_seconds"] - cpu0) / total * 1000,
    }
    log(
        f"  fake ESP: {result['per_second']:.0f} messages/s from {clients} Anymail clients "
        f"at once; {result['esp_cpu_seconds_per_1000']:.2f} ESP CPU-seconds per 1000 messages"
    )
    esp.reset()
    return result


if __name__ == "__main__":
    client(int(sys.argv[1]))
