"""The machine and software a bench ran on, and how busy the machine was."""

from __future__ import annotations

import os
import platform
import subprocess
import time
from importlib import metadata


def _cpu_times() -> tuple[int, int]:
    """(idle, total) jiffies of all CPUs since boot."""
    with open("/proc/stat") as fh:
        fields = [int(v) for v in fh.readline().split()[1:]]
    idle = fields[3] + fields[4]  # idle + iowait
    return idle, sum(fields)


def busy_cpu_seconds() -> float:
    """CPU-seconds all CPUs have spent busy since boot (whatever ran)."""
    idle, total = _cpu_times()
    return (total - idle) / os.sysconf("SC_CLK_TCK")


def _idle_fraction(seconds: float = 2.0) -> float:
    i0, t0 = _cpu_times()
    time.sleep(seconds)
    i1, t1 = _cpu_times()
    return (i1 - i0) / max(1, t1 - t0)


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as fh:
            for line in fh:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _mem_gib() -> float:
    with open("/proc/meminfo") as fh:
        return int(fh.readline().split()[1]) / 1024 / 1024


def _version(package: str) -> str:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return "not installed"


def _postgres() -> dict:
    try:
        import psycopg

        with psycopg.connect(
            host=os.environ.get("PGHOST", "127.0.0.1"),
            port=os.environ.get("PGPORT", "5432"),
            user=os.environ.get("PGUSER", "postgres"),
            dbname="postgres",
        ) as conn:
            version = conn.execute("SHOW server_version").fetchone()[0]
            settings = {
                name: conn.execute(f"SHOW {name}").fetchone()[0]
                for name in ("synchronous_commit", "fsync", "shared_buffers", "max_connections")
            }
        return {"version": version, **settings}
    except Exception as exc:  # noqa: BLE001 - reported, not fatal
        return {"version": f"unknown ({exc})"}


def _redis() -> str:
    try:
        out = subprocess.run(["redis-server", "--version"], capture_output=True, text=True).stdout
        return out.split("v=")[1].split()[0]
    except (OSError, IndexError):
        return "unknown"


def describe() -> dict:
    idle_before = _idle_fraction()
    info = {
        "nproc": os.cpu_count(),
        "cpu": _cpu_model(),
        "memory_gib": round(_mem_gib(), 1),
        "kernel": platform.release(),
        "python": platform.python_version(),
        "postgres": _postgres(),
        "redis": _redis(),
        "packages": {
            p: _version(p)
            for p in (
                "django",
                "celery",
                "kombu",
                "django-anymail",
                "django-post-office",
                "django-templated-email",
                "css-inline",
                "psycopg",
                "requests",
            )
        },
        "loadavg_before": os.getloadavg()[0],
        "idle_before": idle_before,
        "cpu_times_at_start": _cpu_times(),
    }
    pg = info["postgres"]
    info["summary"] = (
        f"{info['nproc']} CPUs ({info['cpu']}), {info['memory_gib']} GiB RAM, Linux {info['kernel']}, "
        f"Python {info['python']}, PostgreSQL {pg.get('version')}, Redis {info['redis']}; "
        f"{idle_before:.0%} idle before the run"
    )
    return info


def idle_since(info: dict) -> float:
    """Average idle fraction of all CPUs since :func:`describe` ran."""
    i0, t0 = info["cpu_times_at_start"]
    i1, t1 = _cpu_times()
    return (i1 - i0) / max(1, t1 - t0)


def code_state() -> dict:
    """The commit the bench ran on, and any uncommitted change to the app
    (``django_order_mail/``) it measured with it."""
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

    def git(*args: str) -> str:
        try:
            return subprocess.run(["git", *args], cwd=root, capture_output=True, text=True).stdout.rstrip()
        except OSError:
            return ""

    commit = git("rev-parse", "--short", "HEAD").strip() or "unknown"
    changed = [line[3:] for line in git("status", "--porcelain", "--", "django_order_mail").splitlines()]
    summary = f"commit {commit}" + (
        f" with uncommitted changes to {len(changed)} file(s) of django_order_mail/: {', '.join(changed)}"
        if changed
        else ", no uncommitted change to django_order_mail/"
    )
    return {"commit": commit, "uncommitted": changed, "summary": summary}
