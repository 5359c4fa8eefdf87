"""docs/quickstart.rst is true: the files it shows are docs/quickstart_project,
and this test runs them the way a new shop would.

The project is copied to a temporary directory and driven only through
``manage.py`` and ``celery -A proj`` with its own settings: no test settings,
no repository root on ``PYTHONPATH`` (django_order_mail comes from the
installed distribution). The environment carries just what a deployment sets
anyway: the broker URL (the tests' Redis server, on a database of its own so
the tests' worker never takes these tasks), the Postmark token and API URL
(the fake ESP) and the tracking webhooks' secret.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from tests.integration.conftest import ROOT, wait_until

QUICKSTART = ROOT / "docs" / "quickstart_project"
#: A Redis database no other test uses: kombu keeps queues per database.
BROKER_DB = 7
#: What a shop runs after ``first_order.py`` to see the send log (quickstart step 7).
CHECK_SNIPPET = """
import json
from shop.models import Order
order = Order.objects.get(number="1001")
fields = ("pk", "event", "status", "esp_message_id", "idempotency_key")
print(json.dumps(list(order.mail_log.values_list(*fields))))
"""


def _project_env(redis_port: int, esp_url: str, esp_token: str) -> dict[str, str]:
    """A clean environment: nothing of the pytest process (its
    DJANGO_SETTINGS_MODULE, PYTHONPATH, PG* variables) leaks into the shop."""
    env = {key: os.environ[key] for key in ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR") if key in os.environ}
    env.update(
        CELERY_BROKER_URL=f"redis://127.0.0.1:{redis_port}/{BROKER_DB}",
        POSTMARK_SERVER_TOKEN=esp_token,
        POSTMARK_API_URL=esp_url,
        ANYMAIL_WEBHOOK_SECRET="quickstart:webhook-secret",
        PYTHONDONTWRITEBYTECODE="1",
    )
    return env


class Shop:
    """The copied quickstart project and the processes it runs."""

    def __init__(self, path: Path, env: dict[str, str]):
        self.path = path
        self.env = env
        self.worker: subprocess.Popen | None = None
        self.worker_log = path / "worker.log"

    def manage(self, *args: str, timeout: float = 120) -> subprocess.CompletedProcess:
        result = subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=self.path,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        assert result.returncode == 0, (
            f"manage.py {args[0]} failed ({result.returncode}):\n{result.stdout}\n{result.stderr}"
        )
        return result

    def start_worker(self) -> None:
        celery = Path(sys.executable).with_name("celery")
        command = [str(celery)] if celery.exists() else [sys.executable, "-m", "celery"]
        with open(self.worker_log, "wb") as log:
            self.worker = subprocess.Popen(
                [
                    *command,
                    "-A",
                    "proj",
                    "worker",
                    "-l",
                    "info",
                    # Fast start, and deaf to other workers on the same Redis.
                    "--concurrency=1",
                    "--without-gossip",
                    "--without-mingle",
                    "--without-heartbeat",
                    "-n",
                    "quickstart@%h",
                ],
                cwd=self.path,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group, stopped as one
            )
        wait_until(
            lambda: b" ready." in self.worker_log.read_bytes() or self.worker.poll() is not None,
            timeout=60,
            what="the quickstart's celery worker to start",
        )
        assert self.worker.poll() is None, f"celery worker exited at start:\n{self.log()}"

    def stop_worker(self) -> None:
        if self.worker is None or self.worker.poll() is not None:
            return
        os.killpg(self.worker.pid, signal.SIGTERM)
        try:
            self.worker.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(self.worker.pid, signal.SIGKILL)
            self.worker.wait(timeout=10)

    def shell(self, code: str) -> str:
        """``manage.py shell -c``; the last line of its output (Django 5.2+
        first reports the models it imported automatically)."""
        lines = self.manage("shell", "-c", code).stdout.strip().splitlines()
        return lines[-1] if lines else ""

    def log(self) -> str:
        return self.worker_log.read_text(errors="replace")[-6000:]


@pytest.fixture
def shop(tmp_path, redis_server, fake_esp):
    path = tmp_path / "quickstart"
    shutil.copytree(
        QUICKSTART,
        path,
        ignore=shutil.ignore_patterns("db.sqlite3*", "migrations", "__pycache__", "celerybeat-schedule*"),
    )
    project = Shop(path, _project_env(redis_server.port, fake_esp.url, fake_esp.token))
    yield project
    project.stop_worker()


@pytest.mark.timeout(240)
def test_quickstart_project_sends_the_order_confirmation(shop, fake_esp):
    # Step 4: migrate and check, as the quickstart says.
    made = shop.manage("makemigrations", "shop")
    assert "Create model Order" in made.stdout
    shop.manage("migrate", "--no-input")
    assert (shop.path / "db.sqlite3").exists()
    checked = shop.manage("check", "--fail-level", "WARNING")
    assert "System check identified no issues" in checked.stdout, checked.stdout + checked.stderr
    assert not checked.stderr.strip(), checked.stderr
    # The project stands on the installed package alone, not on this repository.
    assert shop.shell("import importlib.util; print(importlib.util.find_spec('tests'))") == "None"

    # Step 6: the worker, whose banner lists the package's tasks.
    shop.start_worker()
    banner = shop.log()
    assert "django_order_mail.send_email" in banner and "django_order_mail.sweep" in banner, banner

    # Step 7: the snippet exactly as the page shows it.
    shop.manage("shell", "-c", (shop.path / "first_order.py").read_text())

    try:
        wait_until(lambda: fake_esp.accepted, timeout=60, what="the order confirmation at the ESP")
    except AssertionError as exc:
        raise AssertionError(f"{exc}\nsend log: {shop.shell(CHECK_SNIPPET)}\n{shop.log()}") from None

    def sent_rows():
        rows = json.loads(shop.shell(CHECK_SNIPPET))
        return rows if rows and rows[0][2] == "sent" else None

    rows = wait_until(sent_rows, timeout=30, interval=0.2, what="the send log to record the send")
    assert len(fake_esp.accepted) == 1, [(a.subject, a.metadata) for a in fake_esp.accepted]
    accepted = fake_esp.accepted[0]
    [(outbox_id, event, status, esp_message_id, key)] = rows
    assert (event, status, esp_message_id) == ("order_confirmation", "sent", accepted.message_id)
    assert key.startswith("shop.order:") and key.endswith(":order_confirmation:-"), key
    assert accepted.to == "tina@example.com"
    assert accepted.subject == "Order 1001 confirmed – thank you, Tina!"
    assert accepted.metadata == {
        "order": "1001",
        "event": "order_confirmation",
        "outbox_id": str(outbox_id),
        "channel": "web",
    }
    assert accepted.tags == ["order_confirmation"]  # one tag: what Postmark allows
    assert "Wool socks" in accepted.html and "Nordic Socks" in accepted.html
    assert "help@socks.example" in accepted.text

    # Step 8: ship, put on the van, deliver; the feedback request waits.
    printed = shop.manage("shell", "-c", (shop.path / "ship_and_deliver.py").read_text()).stdout
    assert "feedback_request scheduled" in printed, printed
    try:
        wait_until(lambda: len(fake_esp.accepted) >= 4, timeout=60, what="the shipping emails at the ESP")
    except AssertionError as exc:
        raise AssertionError(f"{exc}\nsend log: {shop.shell(CHECK_SNIPPET)}\n{shop.log()}") from None

    def settled():
        rows = json.loads(shop.shell(CHECK_SNIPPET))
        return (
            rows
            if all(status != "queued" and status != "sending" for _pk, _e, status, _m, _k in rows)
            else None
        )

    rows = wait_until(settled, timeout=30, interval=0.2, what="the send log to record the sends")
    assert [(event, status) for _pk, event, status, _m, _k in sorted(rows)] == [
        ("order_confirmation", "sent"),
        ("shipping_confirmation", "sent"),
        ("out_for_delivery", "sent"),
        ("delivered", "sent"),
        ("feedback_request", "scheduled"),
    ]
    # Each exactly once (in any order: the worker sends a batch concurrently).
    assert sorted(a.metadata["event"] for a in fake_esp.accepted) == [
        "delivered",
        "order_confirmation",
        "out_for_delivery",
        "shipping_confirmation",
    ]
    [shipping] = [a for a in fake_esp.accepted if a.metadata["event"] == "shipping_confirmation"]
    assert "1Z999AA10123456784" in shipping.text and "ups.com" in shipping.html
