"""The real services a bench run needs, started and stopped by the bench.

A Redis server of its own (no persistence), the fast fake ESP, celery worker
processes on ``bench.celery_app``, the django-post-office sender loop, and the
PostgreSQL database ``bench_order_mail`` (dropped and re-created per run).
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PY = sys.executable


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until(predicate, timeout: float = 60.0, interval: float = 0.05, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise TimeoutError(f"timed out after {timeout}s waiting for {what}")


def child_env() -> dict:
    return {**os.environ, "DJANGO_SETTINGS_MODULE": "bench.settings", "PYTHONPATH": str(ROOT)}


def rss_kib(pid: int) -> int:
    """Resident set size of ``pid`` in KiB (0 if it is gone)."""
    try:
        with open(f"/proc/{pid}/status") as fh:
            for line in fh:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of ``pid`` and its reaped children."""
    try:
        with open(f"/proc/{pid}/stat") as fh:
            fields = fh.read().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    ticks = os.sysconf("SC_CLK_TCK")
    return sum(int(v) for v in fields[11:15]) / ticks


def children(pid: int) -> list[int]:
    """The child processes of ``pid`` (forked by any of its threads)."""
    found: list[int] = []
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return found
    for task in tasks:
        try:
            with open(f"/proc/{pid}/task/{task}/children") as fh:
                found += [int(p) for p in fh.read().split()]
        except OSError:
            pass
    return found


def tree_cpu_seconds(pid: int) -> float:
    """CPU time of ``pid`` and every descendant, live or reaped (a reaped
    child's time is in its parent's ``cutime``/``cstime``)."""
    total, todo, seen = 0.0, [pid], set()
    while todo:
        p = todo.pop()
        if p in seen:
            continue
        seen.add(p)
        total += cpu_seconds(p)
        todo += children(p)
    return total


def self_cpu_seconds() -> float:
    """CPU time of this process (all its threads), not of its children."""
    times = os.times()
    return times.user + times.system


def postgres_cpu_seconds() -> float:
    """CPU time of the PostgreSQL server on this machine: every ``postgres``
    process (the backends of ended connections are in the postmaster's
    ``cutime``). The bench is its only client while it runs."""
    total = 0.0
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as fh:
                stat = fh.read()
        except OSError:
            continue
        if stat[stat.index("(") + 1 : stat.rindex(")")] == "postgres":
            fields = stat.rsplit(")", 1)[1].split()
            total += sum(int(v) for v in fields[11:15]) / os.sysconf("SC_CLK_TCK")
    return total


class Redis:
    def __init__(self, port: int):
        self.port = port
        self.dir = tempfile.mkdtemp(prefix="order-mail-bench-redis-")
        self.proc = None

    def start(self) -> None:
        binary = shutil.which("redis-server")
        if not binary:
            raise SystemExit("redis-server is not installed")
        self.proc = subprocess.Popen(
            [
                *(binary, "--port", str(self.port), "--bind", "127.0.0.1"),
                *("--save", "", "--appendonly", "no", "--dir", self.dir),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_until(self._ping, timeout=15, what="redis-server")

    def _ping(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as s:
                s.sendall(b"PING\r\n")
                return s.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    def command(self, *args: str) -> bytes:
        payload = f"*{len(args)}\r\n" + "".join(f"${len(a)}\r\n{a}\r\n" for a in args)
        with socket.create_connection(("127.0.0.1", self.port), timeout=5) as s:
            s.sendall(payload.encode())
            return s.recv(4096)

    def flush(self) -> None:
        self.command("FLUSHALL")

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=10)
        shutil.rmtree(self.dir, ignore_errors=True)


class ESP:
    """The fast fake ESP subprocess and its control endpoints."""

    def __init__(self, port: int, token: str, latency_ms: float = 0.0):
        self.port, self.token, self.latency_ms = port, token, latency_ms
        self.proc = None

    def start(self) -> None:
        self.proc = subprocess.Popen(
            [PY, "-m", "bench.fast_esp", str(self.port), self.token, f"--latency-ms={self.latency_ms:g}"],
            cwd=ROOT,
            env=child_env(),
        )
        wait_until(self._up, timeout=15, what="fast ESP")

    def _up(self) -> bool:
        try:
            self.stats()
            return True
        except OSError:
            return False

    def _get(self, path: str):
        with urllib.request.urlopen(f"http://127.0.0.1:{self.port}{path}", timeout=30) as r:
            return json.loads(r.read())

    def stats(self) -> dict:
        return self._get("/_stats")

    def accepted(self) -> int:
        return self.stats()["accepted"]

    def records(self) -> list:
        return self._get("/_records")

    def reset(self) -> None:
        self._get("/_reset")

    def set_latency(self, ms: float) -> None:
        """Every API call from now on is answered after ``ms`` milliseconds."""
        self.latency_ms = self._get(f"/_latency?ms={ms:g}")["latency_ms"]

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=10)


class Worker:
    """A real ``celery worker`` (prefork) on the bench settings."""

    def __init__(self, concurrency: int, name: str = "bench", env: dict | None = None):
        self.concurrency = concurrency
        self.name = name
        self.env = env or {}
        self.proc = None
        self.log_path = Path(tempfile.mkdtemp(prefix="order-mail-bench-worker-")) / "worker.log"

    def start(self, on_ready=None) -> None:
        """Start the worker; ``on_ready()`` is called as soon as its pool
        processes exist (they may start taking tasks right after)."""
        self._log = open(self.log_path, "ab")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen(
            [
                *(PY, "-m", "celery", "-A", "bench.celery_app", "worker"),
                *(f"--concurrency={self.concurrency}", "--pool=prefork", "--loglevel=WARNING"),
                *("--without-gossip", "--without-mingle", "--without-heartbeat", "-n", f"{self.name}@%h"),
            ],
            cwd=ROOT,
            env={**child_env(), **self.env},
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        # --loglevel=WARNING hides "ready": wait for the pool children instead.
        wait_until(
            lambda: len(children(self.proc.pid)) >= self.concurrency or self.proc.poll() is not None,
            timeout=60,
            what="celery worker pool",
        )
        if self.proc.poll() is not None:
            raise RuntimeError(f"celery worker exited:\n{self.log()}")
        if on_ready is not None:
            on_ready()
        time.sleep(0.5)  # the consumer connects to the broker after the pool forks

    def pool_pids(self) -> list[int]:
        return children(self.proc.pid) if self.proc else []

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")[-4000:]

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=10)
        self.proc = None
        if getattr(self, "_log", None):
            self._log.close()


class PostOfficeSender:
    """django-post-office's own queue runner: ``send_queued`` in a loop.

    Its documented ways to run are cron (``manage.py send_queued_mail``, once
    a minute) or a Celery task per queued email that calls
    ``send_queued_mail_until_done``; a loop that polls every 50 ms is the
    fastest either can be, so this is post_office at its best.
    """

    def __init__(self, processes: int, env: dict | None = None):
        self.processes = processes
        self.env = env or {}
        self.proc = None

    def start(self, on_ready=None) -> None:
        """Start the loop; ``on_ready()`` is called when it is about to send."""
        self.proc = subprocess.Popen(
            [PY, "-m", "bench.postoffice_loop", str(self.processes)],
            cwd=ROOT,
            env={**child_env(), **self.env},
            stdout=subprocess.PIPE,
            text=True,
            start_new_session=True,
        )
        line = self.proc.stdout.readline()
        if "ready" not in line:
            raise RuntimeError(f"post_office loop did not start: {line!r}")
        if on_ready is not None:
            on_ready()

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=10)
        self.proc = None


@contextlib.contextmanager
def running_services(db_name: str = "bench_order_mail"):
    """A fresh bench database, a Redis server and the fake ESP on free ports,
    and Django set up on ``bench.settings``: yields ``(redis, esp)``. Call it
    before anything reads Django's settings (the worker processes read the
    ports from the environment)."""
    os.environ["BENCH_REDIS_PORT"] = str(free_port())
    os.environ["BENCH_ESP_PORT"] = str(free_port())
    os.environ["BENCH_DB_NAME"] = db_name
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings")
    os.environ.setdefault("BENCH_DB_REUSE_MAX", "1000")
    recreate_database(db_name)
    redis = Redis(int(os.environ["BENCH_REDIS_PORT"]))
    esp = ESP(int(os.environ["BENCH_ESP_PORT"]), "bench-server-token")
    redis.start()
    esp.start()
    try:
        import django

        django.setup()
        import bench.celery_app  # noqa: F401 - publishes from this process go through it

        yield redis, esp
    finally:
        esp.stop()
        redis.stop()


def recreate_database(name: str) -> None:
    """Drop and create the bench database, then build its tables."""
    import psycopg

    with psycopg.connect(
        host=os.environ.get("PGHOST", "127.0.0.1"),
        port=os.environ.get("PGPORT", "5432"),
        user=os.environ.get("PGUSER", "postgres"),
        dbname="postgres",
        autocommit=True,
    ) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    subprocess.run(
        [PY, "-m", "django", "migrate", "--run-syncdb", "-v", "0"], cwd=ROOT, env=child_env(), check=True
    )


def ensure_database(name: str, rebuild: bool) -> bool:
    """Create PostgreSQL database ``name`` unless it exists (``rebuild``:
    drop it first); True if it was (re)created and needs data. For the
    benches that keep a large database between runs (the admin, the cart scan)."""
    import psycopg

    with psycopg.connect(
        host="127.0.0.1", user=os.environ.get("PGUSER", "postgres"), dbname="postgres"
    ) as conn:
        conn.autocommit = True
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if exists and not rebuild:
            return False
        if exists:
            conn.execute(f'DROP DATABASE "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')
    return True


def setup_tests_django(db_name: str) -> None:
    """Django with the tests' settings on PostgreSQL database ``db_name``,
    its tables built straight from the models in the tree."""
    os.environ["ORDER_MAIL_TEST_DB"] = "postgres"
    os.environ["PGDATABASE"] = db_name
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")
    sys.path.insert(0, str(ROOT))
    import django
    from django.conf import settings

    django.setup()
    settings.MIGRATION_MODULES = {app.label: None for app in django.apps.apps.get_app_configs()}
