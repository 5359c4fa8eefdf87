"""Pieces of ``bench/growth.py``: the admin pages, the retention command in
its own process, and what it has left to do."""

from __future__ import annotations

import os
import signal
import statistics
import subprocess
import tempfile
import time
from datetime import timedelta
from pathlib import Path

from bench.services import (
    PY,
    child_env,
    cpu_seconds,
    postgres_cpu_seconds,
    tree_cpu_seconds,
    wait_until,
)

ROOT = Path(__file__).resolve().parents[1]
APP_NAME = "order_mail_retention_bench"
SETTINGS = "bench.growth_settings"


def growth_env() -> dict:
    return {**child_env(), "DJANGO_SETTINGS_MODULE": SETTINGS}


def log(message: str) -> None:
    print(message, flush=True)


def sql(query: str, params=()):
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(query, params)
        return cursor.fetchall() if cursor.description else []


# -- admin pages ---------------------------------------------------------------


def measure_admin(repeat: int) -> list[dict]:
    from django.contrib.auth.models import User
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from django.urls import reverse
    from django.utils import timezone

    from django_order_mail.outbox.models import OutboxEmail

    user = User.objects.filter(username="bench").first() or User.objects.create_superuser(
        "bench", "bench@shop.example", "bench"
    )
    client = Client()
    client.force_login(user)
    changelist = reverse("admin:django_order_mail_outboxemail_changelist")
    row = OutboxEmail.objects.filter(status="sent").exclude(body_html="").order_by("-id").first()
    week_ago = (timezone.now() - timedelta(days=7)).replace(microsecond=0).isoformat(" ")
    pages = [
        ("list, page 1", changelist, {}),
        ("list, page 100", changelist, {"p": "99"}),
        ("filter: status failed", changelist, {"status__exact": "failed"}),
        ("filter: event refund", changelist, {"event__exact": "refund"}),
        ("filter: channel amazon_fbm", changelist, {"channel": "amazon_fbm"}),
        ("filter: created in the past 7 days", changelist, {"created_at__gte": week_ago}),
        ("filter: failed + amazon_fbm", changelist, {"status__exact": "failed", "channel": "amazon_fbm"}),
        ("search: order number", changelist, {"q": row.reference}),
        ("search: email address", changelist, {"q": row.recipient}),
        ("search: ESP message id", changelist, {"q": row.esp_message_id}),
        (
            "change page (email as sent + timeline)",
            reverse("admin:django_order_mail_outboxemail_change", args=[row.pk]),
            {},
        ),
    ]
    results = []
    for label, url, params in pages:
        assert client.get(url, params).status_code == 200, label
        times = []
        for _ in range(repeat):
            with CaptureQueriesContext(connection) as queries:
                started = time.perf_counter()
                response = client.get(url, params)
                times.append((time.perf_counter() - started) * 1000)
            assert response.status_code == 200, (label, response.status_code)
        slowest = max(float(q["time"]) for q in queries.captured_queries) * 1000
        results.append(
            {
                "page": label,
                "median_ms": round(statistics.median(times), 1),
                "max_ms": round(max(times), 1),
                "queries": len(queries),
                "slowest_query_ms": round(slowest, 1),
            }
        )
        log(f"  {label:<42} {results[-1]['median_ms']:>8.1f} ms  {len(queries):>3} queries")
    return results


# -- the retention command in its own process ---------------------------------


class Retention:
    """``manage.py order_mail_retention`` on the bench database; ``only``:
    ``bodies``, ``delete`` or "" (the app's defaults), see
    ``bench/growth_settings.py``."""

    def __init__(self, only: str, pause: float | None = None):
        self.only, self.pause = only, pause
        self.proc = None
        self.output = Path(tempfile.mkstemp(prefix="order-mail-growth-retention-")[1])

    def start(self) -> None:
        env = {
            **growth_env(),
            "BENCH_RETENTION_ONLY": self.only,
            "PGAPPNAME": APP_NAME,
        }
        with open(self.output, "wb") as out:
            self.proc = subprocess.Popen(
                [
                    *(PY, "-m", "django", "order_mail_retention"),
                    *(["--pause", f"{self.pause:g}"] if self.pause is not None else []),
                ],
                cwd=ROOT,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self.started = time.time()

    def backend(self) -> int | None:
        rows = sql("SELECT pid FROM pg_stat_activity WHERE application_name = %s", [APP_NAME])
        return rows[0][0] if rows else None

    def wait_working(self, settle: float = 2.0) -> None:
        """Until its first statements run (Django's start-up is not part of
        it: :attr:`working_at`), and ``settle`` seconds more."""
        wait_until(lambda: self.backend() or self.proc.poll() is not None, timeout=60, what="retention")
        self.working_at = time.time()
        time.sleep(settle)
        if self.proc.poll():
            raise RuntimeError(f"the retention run failed:\n{self.output.read_text()}")

    def cpu(self) -> dict:
        backend = self.backend()
        return {
            "client": tree_cpu_seconds(self.proc.pid) if self.proc else 0.0,
            "backend": cpu_seconds(backend) if backend else 0.0,
        }

    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def stop(self) -> None:
        if self.running():
            os.killpg(self.proc.pid, signal.SIGTERM)
            self.proc.wait(timeout=30)
        wait_until(lambda: not self.backend(), timeout=30, what="retention backend gone")

    def wait(self) -> dict[str, int]:
        code = self.proc.wait()
        text = self.output.read_text()
        if code:
            raise RuntimeError(f"order_mail_retention exited with {code}:\n{text}")
        counts = {}
        for line in text.splitlines():  # "send_log (730 days): changed 123"
            if ": changed " in line:
                label, changed = line.split(": changed ")
                counts[label.split(" (")[0]] = int(changed)
        return counts


def progress(only: str) -> dict:
    """What retention has left to do: rows with bodies, or rows and
    timelines. Only rows older than a day count: a send burst meanwhile adds
    rows (with bodies, with timelines) that no retention period reaches."""
    from django_order_mail.outbox.models import EmailLog, OutboxEmail

    old = "created_at < now() - interval '1 day'"
    emails = OutboxEmail._meta.db_table
    if only == "bodies":
        return {"rows": sql(f"SELECT count(*) FROM {emails} WHERE body_html <> '' AND {old}")[0][0]}
    return {
        "rows": sql(f"SELECT count(*) FROM {emails} WHERE {old}")[0][0],
        "timeline": sql(f"SELECT count(*) FROM {EmailLog._meta.db_table} WHERE {old}")[0][0],
    }


def changed(before: dict, after: dict) -> dict:
    """Rows stripped or deleted (and the timeline entries deleted with them)."""
    return {k: before[k] - after[k] for k in before}


def retention_alone(only: str, budget: float, pause: float | None = None) -> dict:
    """The retention command (part ``only``; ``--pause pause``) alone for
    ``budget`` seconds from its first statement (or to its end): rows/s."""
    before = progress(only)
    pg0 = postgres_cpu_seconds()
    retention = Retention(only, pause)
    retention.start()
    retention.wait_working(settle=0)
    wait_until(
        lambda: not retention.running() or time.time() - retention.working_at >= budget, timeout=budget + 60
    )
    finished = not retention.running()
    seconds = time.time() - retention.working_at
    counts = retention.wait() if finished else {}
    retention.stop()
    after = progress(only)
    done = changed(before, after)
    result = {
        "part": only,
        "pause": pause,
        "finished": finished,
        "counts": counts,
        "rows": done["rows"],
        "timeline": done.get("timeline"),
        "seconds": seconds,
        "rows_per_second": done["rows"] / seconds if seconds else None,
        "postgres_cpu_seconds": postgres_cpu_seconds() - pg0,
        "before": before,
        "after": after,
    }
    log(f"    {done} in {seconds:.0f} s: {result['rows_per_second']:,.0f} rows/s")
    return result
