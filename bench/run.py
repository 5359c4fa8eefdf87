"""Run every benchmark and write ``docs/performance.md``.

    bash bench/run.sh                 # the full run (about 45 minutes on 2 cores)
    bash bench/run.sh --quick         # ~1,000 orders, 5,000 sends for memory: a few minutes
    bash bench/run.sh --faults 10     # the fault-injection suite at 10x size -> docs/reliability.md
    .venv/bin/python -m bench.machinery   # only the "machinery" section (about a minute)

Everything is real: PostgreSQL (database ``bench_order_mail`` on
127.0.0.1:5432, dropped and re-created), a Redis server started here on a
free port, ``celery worker`` processes, Anymail's Postmark backend, and
django-post-office (``pip install -e ".[bench]"``) with the same backend. The
only fake is the ESP (``bench/fast_esp.py``), and its capacity is measured
first. Raw figures go to ``bench/results/latest.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench import machine  # noqa: E402
from bench.services import ESP, PY, Redis, child_env, free_port, recreate_database  # noqa: E402

SECTIONS = ("esp", "overhead", "throughput", "stock", "render", "machinery", "memory", "admin")


def log(message: str) -> None:
    print(message, flush=True)


def parse(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, for iterating")
    parser.add_argument("--orders", type=int, help="orders per throughput run (default 10,000; quick 1,000)")
    parser.add_argument(
        "--memory-sends", type=int, help="sends for the RSS run (default 100,000; quick 5,000)"
    )
    parser.add_argument("--concurrency", type=int, default=os.cpu_count() or 2, help="celery --concurrency")
    parser.add_argument("--po-processes", type=int, help="post_office send_queued processes (default: same)")
    parser.add_argument("--skip", default="", help=f"comma-separated sections to skip: {','.join(SECTIONS)}")
    parser.add_argument("--faults", type=float, metavar="SCALE", help="run tests/integration/test_faults.py")
    parser.add_argument("--output", default=str(ROOT / "docs" / "performance.md"))
    parser.add_argument("--report-only", action="store_true", help="rewrite the page from latest.json")
    args = parser.parse_args(argv)
    args.orders = args.orders or (1000 if args.quick else 10_000)
    args.memory_sends = args.memory_sends or (5000 if args.quick else 100_000)
    args.po_processes = args.po_processes or args.concurrency
    args.skip = {s.strip() for s in args.skip.split(",") if s.strip()}
    return args


def run_faults(scale: float) -> int:
    """The fault-injection suite at ``scale``. Each scale's figures are kept in
    ``bench/results/faults-<scale>.json``; docs/reliability.md shows them all."""
    from bench import report

    results = ROOT / "bench" / "results"
    results.mkdir(exist_ok=True)
    lines = results / f"faults-{scale:g}.jsonl"
    lines.unlink(missing_ok=True)
    command = [
        str(ROOT / ".venv" / "bin" / "pytest"),
        "tests/integration/test_faults.py",
        "--ds",
        "tests.integration.settings",
        "-p",
        "no:cacheprovider",
        "-q",
        "--nomigrations",
        "--timeout",
        str(int(600 * max(1.0, scale))),
    ]
    env = {**os.environ, "ORDER_MAIL_FAULT_SCALE": f"{scale:g}", "ORDER_MAIL_FAULT_REPORT": str(lines)}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    log(f"Fault-injection suite at scale {scale:g}: ORDER_MAIL_FAULT_SCALE={scale:g} {' '.join(command[1:])}")
    started = time.time()
    code = subprocess.call(command, cwd=ROOT, env=env)
    tests = [json.loads(line) for line in lines.read_text().splitlines()] if lines.exists() else []
    run = {
        "scale": scale,
        "seconds": time.time() - started,
        "exit_code": code,
        "date": time.strftime("%Y-%m-%d"),
        "tests": tests,
    }
    (results / f"faults-{scale:g}.json").write_text(json.dumps(run, indent=1))
    lines.unlink(missing_ok=True)
    runs = [json.loads(p.read_text()) for p in sorted(results.glob("faults-*.json"))]
    report.write_reliability(sorted(runs, key=lambda r: r["scale"]), machine.describe())
    log(f"docs/reliability.md written ({len(tests)} tests at scale {scale:g}, exit code {code})")
    return code


def main(argv=None) -> int:
    args = parse(argv)
    if args.faults:
        return run_faults(args.faults)
    if args.report_only:
        from bench import report

        results = json.loads((ROOT / "bench" / "results" / "latest.json").read_text())
        report.write_performance(report.from_json(results), Path(args.output))
        log(f"Rewrote {args.output} from bench/results/latest.json")
        return 0

    os.environ["BENCH_REDIS_PORT"] = str(free_port())
    os.environ["BENCH_ESP_PORT"] = str(free_port())
    os.environ.setdefault("BENCH_DB_NAME", "bench_order_mail")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings")
    os.environ.setdefault("BENCH_DB_REUSE_MAX", "1000")
    started = time.time()
    results: dict = {"args": {k: sorted(v) if isinstance(v, set) else v for k, v in vars(args).items()}}
    results["machine"] = machine.describe()
    log(f"Machine: {results['machine']['summary']}")
    if results["machine"]["idle_before"] < 0.8:
        idle = results["machine"]["idle_before"]
        log(f"WARNING: the machine is busy ({idle:.0%} idle): the figures will be low")

    recreate_database(os.environ["BENCH_DB_NAME"])
    redis = Redis(int(os.environ["BENCH_REDIS_PORT"]))
    esp = ESP(int(os.environ["BENCH_ESP_PORT"]), "bench-server-token")
    redis.start()
    esp.start()
    try:
        import django

        django.setup()
        import bench.celery_app  # noqa: F401 - publishes from this process go through it
        from bench import esp_capacity, memory, overhead, render_cost, throughput

        if "esp" not in args.skip:
            log("Fake ESP capacity")
            per_client = 300 if args.quick else 2000
            results["esp"] = esp_capacity.run(esp, args.concurrency + 1, per_client, log)
        if "overhead" not in args.skip:
            log("Transition overhead")
            results["overhead"] = overhead.run(min(args.orders, 4000), redis, log)
        if "render" not in args.skip:
            log("Per-email cost and profiles")
            results["render"] = render_cost.run(200 if args.quick else 500, redis, log)
        if "machinery" not in args.skip:
            from bench import machinery

            log("What the hand-written machinery buys (each piece on and off)")
            results["machinery"] = machinery.run(log)
            machinery.save(results["machinery"])
        if "throughput" not in args.skip:
            log(f"Throughput: order-mail vs django-post-office, {args.orders} orders")
            paced = min(args.orders, 300 if args.quick else 2000)
            compared = throughput.compare(
                args.orders,
                esp,
                concurrency=args.concurrency,
                po_processes=args.po_processes,
                paced_n=paced,
                log=log,
            )
            results["throughput"] = compared
        if "stock" not in args.skip:
            n = min(args.orders, 500 if args.quick else 2000)
            log(f"Celery's default database handling (a new connection per task), drain of {n}")
            os.environ["BENCH_DB_REUSE_MAX"] = "0"
            try:
                results["stock"] = throughput.run_mode(
                    "drain",
                    "order_mail",
                    n,
                    esp,
                    "SD",
                    concurrency=args.concurrency,
                    po_processes=args.po_processes,
                )
            finally:
                os.environ["BENCH_DB_REUSE_MAX"] = "1000"
            log(f"    {results['stock']['delivery_per_second']:.1f} emails/s")
        if "memory" not in args.skip:
            log(f"Worker memory over {args.memory_sends} sends")
            results["memory"] = memory.run(args.memory_sends, esp, args.concurrency, log)
    finally:
        esp.stop()
        redis.stop()
    if "admin" not in args.skip and (ROOT / "bench" / "admin_changelist.py").exists():
        results["admin"] = run_admin(args.quick)
    results["seconds"] = time.time() - started
    results["machine"]["idle_during"] = machine.idle_since(results["machine"])
    _save(results)
    from bench import report

    report.write_performance(results, Path(args.output))
    log(f"Wrote {args.output} in {results['seconds'] / 60:.1f} min")
    return 0


def run_admin(quick: bool) -> dict:
    """The send-log admin at 1,000,000 rows: ``bench/admin_changelist.py``
    (another bench, its own database and settings); its output is kept as is."""
    command = [PY, "-m", "bench.admin_changelist", *(["--repeat", "3"] if quick else [])]
    log(f"Send-log admin: {' '.join(command[1:])}")
    env = child_env()
    env.pop("DJANGO_SETTINGS_MODULE", None)
    proc = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=7200)
    log(proc.stdout[-3000:])
    return {"command": " ".join(command[1:]), "code": proc.returncode, "output": proc.stdout[-6000:]}


def _save(results: dict) -> None:
    path = ROOT / "bench" / "results" / "latest.json"
    path.parent.mkdir(exist_ok=True)

    def clean(value):
        if isinstance(value, dict):
            return {("/".join(k) if isinstance(k, tuple) else str(k)): clean(v) for k, v in value.items()}
        if isinstance(value, list):
            return [clean(v) for v in value]
        return value

    path.write_text(json.dumps(clean(results), indent=1, default=str))


if __name__ == "__main__":
    sys.exit(main())
