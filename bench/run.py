"""Run every benchmark and write ``docs/performance.md``.

    bash bench/run.sh                 # the full run, ESP latency 50 ms (about 20 minutes on 2 cores)
    bash bench/run.sh --latency 0,20,50,150 --skip machinery   # what docs/performance.md shows
    bash bench/run.sh --quick         # 300 emails per throughput run, 5,000 sends for memory: minutes
    bash bench/run.sh --faults 10     # the fault-injection suite at 10x size -> docs/reliability.md
    .venv/bin/python -m bench.machinery       # only the "machinery" section (about a minute)
    .venv/bin/python -m bench.postoffice_grid # post_office's best settings (once per machine)

Everything is real: PostgreSQL (database ``bench_order_mail`` on
127.0.0.1:5432, dropped and re-created), a Redis server started here on a
free port, ``celery worker`` processes, Anymail's Postmark backend, and
django-post-office (``pip install -e ".[bench]"``) with the same backend. The
only fake is the ESP (``bench/fast_esp.py``), which answers each API call
after the chosen latency; its capacity is measured first. Raw figures go to
``bench/results/latest.json``.
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
from bench.services import PY, child_env, running_services  # noqa: E402

SECTIONS = ("esp", "overhead", "throughput", "sizing", "stock", "render", "machinery", "memory", "admin")
#: The sizing table: order-mail's drain rate by ESP latency and worker processes.
SIZING_LATENCIES, SIZING_PROCESSES = (20.0, 50.0, 150.0), (1, 2, 4)


def log(message: str) -> None:
    print(message, flush=True)


def parse(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, for iterating")
    parser.add_argument("--orders", type=int, help="emails per throughput run (default 1,000; quick 300)")
    parser.add_argument(
        "--latency",
        default="50",
        help="ESP latency of the throughput runs, ms per API call; a comma-separated list (default 50)",
    )
    parser.add_argument("--sizing-orders", type=int, help="emails per sizing run (default 600; quick 300)")
    parser.add_argument(
        "--memory-sends", type=int, help="sends for the RSS run (default 100,000; quick 5,000)"
    )
    parser.add_argument("--concurrency", type=int, default=os.cpu_count() or 2, help="celery --concurrency")
    parser.add_argument("--skip", default="", help=f"comma-separated sections to skip: {','.join(SECTIONS)}")
    parser.add_argument("--faults", type=float, metavar="SCALE", help="run tests/integration/test_faults.py")
    parser.add_argument("--output", default=str(ROOT / "docs" / "performance.md"))
    parser.add_argument("--report-only", action="store_true", help="rewrite the page from latest.json")
    parser.add_argument(
        "--merge",
        action="store_true",
        help="measure only the sections not skipped and put them into latest.json's run (the page says so)",
    )
    args = parser.parse_args(argv)
    args.orders = args.orders or (300 if args.quick else 1000)
    args.sizing_orders = args.sizing_orders or (300 if args.quick else 600)
    args.memory_sends = args.memory_sends or (5000 if args.quick else 100_000)
    args.latency = [float(v) for v in str(args.latency).split(",") if v.strip()]
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

    started = time.time()
    results: dict = {"args": {k: sorted(v) if isinstance(v, set) else v for k, v in vars(args).items()}}
    results["date"] = time.strftime("%Y-%m-%d")
    results["machine"] = machine.describe()
    results["code"] = machine.code_state()
    log(f"Machine: {results['machine']['summary']}")
    log(f"Code: {results['code']['summary']}")
    if args.merge:
        return merge(args, results)
    if results["machine"]["idle_before"] < 0.8:
        idle = results["machine"]["idle_before"]
        log(f"WARNING: the machine is busy ({idle:.0%} idle): the figures will be low")

    with running_services(os.environ.get("BENCH_DB_NAME", "bench_order_mail")) as (redis, esp):
        from bench import esp_capacity, memory, overhead, render_cost, throughput

        if "esp" not in args.skip:
            log("Fake ESP capacity (answering at once)")
            per_client = 300 if args.quick else 2000
            results["esp"] = esp_capacity.run(esp, args.concurrency + 1, per_client, log)
        if "overhead" not in args.skip:
            log("Transition overhead (order-mail on / off, post_office mail.send() in the transaction)")
            results["overhead"] = overhead.run(1000 if args.quick else 4000, redis, log)
        if "render" not in args.skip:
            log("Per-email cost and profiles")
            results["render"] = render_cost.run(200 if args.quick else 500, redis, log)
        if "machinery" not in args.skip:
            from bench import machinery

            log("What the hand-written machinery buys (each piece on and off)")
            results["machinery"] = machinery.run(log)
            machinery.save(results["machinery"])
        if "throughput" not in args.skip:
            latencies = ", ".join(f"{v:g}" for v in args.latency)
            log(f"Throughput: order-mail vs django-post-office at {latencies} ms, {args.orders} per run")
            results["throughput"] = throughput.compare(
                args.latency,
                args.orders,
                esp,
                redis,
                concurrency=args.concurrency,
                paced_n=min(args.orders, 300 if args.quick else 1000),
                log=log,
            )
        if "sizing" not in args.skip:
            latencies = (50.0,) if args.quick else SIZING_LATENCIES
            counts = (1, 2) if args.quick else SIZING_PROCESSES
            log(f"Sizing: order-mail drain by latency and worker processes, {args.sizing_orders} per run")
            results["sizing"] = throughput.sizing(
                list(latencies), list(counts), args.sizing_orders, esp, redis, log=log
            )
            throughput.save_sizing(results["sizing"], results["machine"]["summary"])
            from bench.report_sizing import splice_deployment_sizing

            saved = throughput.saved_sizing()
            if saved and splice_deployment_sizing(saved, ROOT / "docs" / "deployment.rst"):
                log("  docs/deployment.rst: sizing table written")
        if "stock" not in args.skip:
            n = min(args.orders, 500 if args.quick else 1500)
            latency = min(args.latency)
            log(f"Celery's default database handling (a connection per task), drain of {n} at {latency:g} ms")
            os.environ["BENCH_DB_REUSE_MAX"] = "0"
            try:
                stock = throughput.run_mode(
                    "drain", throughput.order_mail(args.concurrency), n, esp, redis, latency_ms=latency
                )
            finally:
                os.environ["BENCH_DB_REUSE_MAX"] = "1000"
                esp.set_latency(0)
            stock.pop("digests", None)
            results["stock"] = stock
            log(f"    {stock['per_second']:.1f} emails/s")
        if "memory" not in args.skip:
            esp.set_latency(0)
            log(f"Worker memory over {args.memory_sends} sends (ESP answering at once)")
            results["memory"] = memory.run(args.memory_sends, esp, args.concurrency, log)
    if "admin" not in args.skip and (ROOT / "bench" / "admin_changelist.py").exists():
        results["admin"] = run_admin(args.quick)
    results["seconds"] = time.time() - started
    results["machine"]["idle_during"] = machine.idle_since(results["machine"])
    _save(results)
    from bench import report

    report.write_performance(results, Path(args.output))
    log(f"Wrote {args.output} in {results['seconds'] / 60:.1f} min")
    return 0


def merge(args, now: dict) -> int:
    """Measure the sections ``args`` does not skip (only ``overhead`` and
    ``render`` are supported: the others need the whole run's services and
    comparisons) and put them into ``latest.json``'s run, which keeps its
    header; the page names each section measured again, its date and code."""
    path = ROOT / "bench" / "results" / "latest.json"
    results = json.loads(path.read_text())
    wanted = [s for s in ("overhead", "render") if s not in args.skip]
    if set(SECTIONS) - args.skip - {"overhead", "render"}:
        raise SystemExit("--merge measures only overhead and render: --skip every other section")
    with running_services(os.environ.get("BENCH_DB_NAME", "bench_order_mail")) as (redis, _esp):
        from bench import overhead, render_cost

        for section in wanted:
            log(f"Measuring {section} again")
            if section == "overhead":
                results["overhead"] = overhead.run(1000 if args.quick else 4000, redis, log)
            else:
                results["render"] = render_cost.run(200 if args.quick else 500, redis, log)
            results.setdefault("remeasured", {})[section] = {
                "date": now["date"],
                "code": now["code"]["summary"],
                "machine": now["machine"]["summary"],
                "idle_during": machine.idle_since(now["machine"]),
            }
    _save(results)
    from bench import report

    report.write_performance(results, Path(args.output))
    log(f"Wrote {args.output} ({', '.join(wanted)} measured again)")
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
