"""Real services for the integration tests: PostgreSQL, a Redis server of our
own (so tests can stop and start it), real ``celery worker`` processes and
the fake ESP behind Anymail's Postmark backend.

Outside CI a missing service skips these tests with the reason; with
``CI=true`` it fails the run.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

from tests.integration import celery_app  # noqa: F401 - the app publishes go through
from tests.integration.fake_esp import FakeESP

ROOT = Path(__file__).resolve().parents[2]
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def pytest_collection_modifyitems(config, items):
    for item in items:
        if "tests/integration" in str(item.fspath):
            item.add_marker(pytest.mark.integration)


def _missing(what: str):
    if IN_CI:
        pytest.fail(f"integration service missing in CI: {what}", pytrace=False)
    pytest.skip(f"integration service missing: {what}")


def wait_until(predicate, timeout: float = 30.0, interval: float = 0.1, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


class RedisServer:
    """A redis-server process on its own port, with no persistence (a restart
    loses every queued message, the worst case for a broker outage)."""

    def __init__(self, port: int):
        self.port = port
        self.dir = tempfile.mkdtemp(prefix="order-mail-redis-")
        self.proc: subprocess.Popen | None = None

    def start(self) -> None:
        binary = shutil.which("redis-server")
        if not binary:
            _missing("redis-server binary")
        self.proc = subprocess.Popen(
            [
                binary,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                self.dir,
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        import redis

        client = redis.Redis(host="127.0.0.1", port=self.port, socket_connect_timeout=0.5)

        def ping():
            try:
                return client.ping()
            except redis.exceptions.RedisError:
                return False

        wait_until(ping, timeout=15, what=f"redis-server on port {self.port}")

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=10)
        self.proc = None


class CeleryWorker:
    """A real ``celery worker`` subprocess in its own process group."""

    def __init__(
        self,
        db_name: str,
        name: str = "w1",
        concurrency: int = 2,
        settings_module: str = "tests.integration.settings",
        queues: str | None = None,
        env: dict | None = None,
    ):
        self.db_name = db_name
        self.name = name
        self.concurrency = concurrency
        self.settings_module = settings_module
        self.queues = queues  # -Q: consume only these queues (comma-separated)
        self.extra_env = dict(env or {})
        self.proc: subprocess.Popen | None = None
        self.log_path = Path(tempfile.mkdtemp(prefix="order-mail-worker-")) / f"{name}.log"
        self.starts = 0

    def start(self) -> None:
        self.starts += 1
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": self.settings_module,
            "ORDER_MAIL_WORKER_DB": self.db_name,
            "PYTHONPATH": str(ROOT),
            **self.extra_env,
        }
        self._log = open(self.log_path, "ab")  # noqa: SIM115 - closed in stop()
        # The log file is shared by every start of this worker: look only at
        # what this start writes (an earlier start's " ready." must not make
        # a restart look ready before its pool exists).
        self._log_offset = self.log_path.stat().st_size if self.log_path.exists() else 0
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "tests.integration.celery_app",
                "worker",
                f"--concurrency={self.concurrency}",
                "--pool=prefork",
                "--loglevel=INFO",
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
                "-n",
                f"{self.name}-{self.starts}@%h",
                *(["-Q", self.queues] if self.queues else []),
            ],
            cwd=ROOT,
            env=env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        wait_until(
            lambda: b" ready." in self._this_start_log() or self.proc.poll() is not None,
            timeout=60,
            what="celery worker start",
        )
        if self.proc.poll() is not None:
            raise AssertionError(f"celery worker exited at start:\n{self.log()}")

    def _this_start_log(self) -> bytes:
        with open(self.log_path, "rb") as log:
            log.seek(getattr(self, "_log_offset", 0))
            return log.read()

    def gave_up(self) -> bool:
        """True when this start's worker has exited or is exiting: Celery's
        main process gives up ("Unrecoverable error", e.g. a pool process
        SIGKILLed while starting) and may take a while to exit."""
        if self.proc is None or self.proc.poll() is not None:
            return True
        return b"Unrecoverable error" in self._this_start_log()

    def ensure_running(self) -> bool:
        """Restart the worker if it gave up, as a process manager (systemd,
        supervisord, Kubernetes) would; True when it was restarted."""
        if not self.gave_up():
            return False
        self.kill()
        self.start()
        return True

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")[-6000:]

    def pool_pids(self) -> list[int]:
        """Process ids of the prefork pool children (Linux /proc)."""
        if not self.proc or self.proc.poll() is not None:
            return []
        pids = []
        for task in Path(f"/proc/{self.proc.pid}/task").glob("*"):  # any thread may fork
            try:
                pids.extend(int(p) for p in (task / "children").read_text().split())
            except OSError:
                pass
        return pids

    def kill(self) -> None:
        """SIGKILL the whole worker (main process and pool children)."""
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=10)
        self.proc = None

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=10)
        self.proc = None
        if getattr(self, "_log", None):
            self._log.close()


@pytest.fixture(scope="session")
def services_ok(django_db_setup):
    if connection.vendor != "postgresql":
        _missing("these tests run on PostgreSQL (use tests.integration.settings)")
    return True


@pytest.fixture(scope="session")
def redis_server(services_ok):
    server = RedisServer(settings.REDIS_PORT)
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def fake_esp_server():
    esp = FakeESP(token=settings.ANYMAIL["POSTMARK_SERVER_TOKEN"]).start(port=settings.ESP_PORT)
    yield esp
    esp.stop()


@pytest.fixture
def fake_esp(fake_esp_server):
    fake_esp_server.reset()
    yield fake_esp_server
    fake_esp_server.release_hanging()


@pytest.fixture(scope="session")
def worker_process(redis_server, fake_esp_server, django_db_setup):
    db_name = connection.settings_dict["NAME"]
    worker = CeleryWorker(db_name)
    worker.start()
    yield worker
    worker.stop()


@pytest.fixture
def worker(worker_process, transactional_db):
    """A running worker; tests may kill it, it is started again for the next."""
    if worker_process.proc is None or worker_process.proc.poll() is not None:
        worker_process.start()
    yield worker_process
    if worker_process.proc is None or worker_process.proc.poll() is not None:
        worker_process.start()
