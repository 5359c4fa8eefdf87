"""django-post-office's best settings on this machine, found by a small grid.

post_office documents three knobs for sending speed (its README, "Settings"
and the ``send_queued_mail`` command; ``post_office/settings.py``,
``post_office/mail.py``): ``THREADS_PER_PROCESS`` (default 5; the README's
example is 10 and says threads "dramatically" speed up HTTP backends),
``BATCH_SIZE`` (emails one ``send_queued`` call takes, default 100) and the
number of processes ``send_queued(processes=...)`` forks per batch
(``send_queued_mail --processes``, default 1). Each combination of the grid
below runs the throughput bench's burst and drain (``bench/throughput.py``)
at one ESP latency; the fastest per mode is the "best" the comparison uses
(burst and drain may differ: in a burst post_office's producer renders every
email and needs the CPUs). ``LOG_LEVEL`` stays 2 (a ``Log`` row per email,
as order-mail keeps one).

Run once per machine (about 15 minutes):
``python -m bench.postoffice_grid [--latency 50] [--orders 1500]``; the
figures and the pick go to ``bench/results/postoffice_grid.json``, which
``bench/run.py`` reads and ``docs/performance.md`` shows.
"""

from __future__ import annotations

import argparse
import itertools
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

#: The combinations per mode. A burst is bound by post_office's producer
#: (it renders every email in the order's transaction), so its grid is
#: smaller; the drain grid reaches further, as its fastest settings were at
#: the edge of the smaller one.
GRIDS = {
    "burst": {"processes": (1, 2), "threads": (5, 10, 20, 50), "batch_size": (100, 500)},
    "drain": {"processes": (1, 2), "threads": (5, 10, 20, 50, 100), "batch_size": (100, 500, 1000)},
}
KNOBS = ("processes", "threads", "batch_size")


def main(argv=None) -> int:
    from bench import machine
    from bench.services import running_services

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--latency", type=float, default=50.0, help="ms per ESP API call")
    parser.add_argument("--orders", type=int, default=1500, help="emails per run")
    parser.add_argument("--modes", default="burst,drain")
    parser.add_argument(
        "--extend",
        action="store_true",
        help="keep the saved rows (same latency and size), run only the others",
    )
    args = parser.parse_args(argv)
    modes = args.modes.split(",")
    path = ROOT / "bench" / "results" / "postoffice_grid.json"
    info = machine.describe()
    started = time.time()
    rows = []
    seconds = 0.0
    if path.exists():
        # The saved rows of the other modes stay (and with --extend those of these modes).
        saved = json.loads(path.read_text())
        if saved["latency_ms"] == args.latency and saved["n"] == args.orders:
            rows = [r for r in saved["rows"] if args.extend or r["mode"] not in modes]
            seconds = saved.get("seconds", 0.0)
    done = {(r["mode"], *(r[k] for k in KNOBS)) for r in rows}
    with running_services("bench_order_mail_grid") as (redis, esp):
        from bench.throughput import System, run_mode

        for mode in modes:
            for processes, threads, batch_size in itertools.product(*GRIDS[mode].values()):
                if (mode, processes, threads, batch_size) in done:
                    continue
                system = System(
                    "post_office",
                    "post_office",
                    "django-post-office",
                    processes=processes,
                    threads=threads,
                    batch_size=batch_size,
                )
                res = run_mode(mode, system, args.orders, esp, redis, latency_ms=args.latency)
                row = {
                    "mode": mode,
                    **system.settings(),
                    "per_second": res["per_second"],
                    "p95_s": res["latency"]["p95"] if res["latency"]["n"] else None,
                    "cpu_ms_per_email": res["cpu_ms_per_email"],
                    "connections_per_1000": res["connections_per_1000"],
                    "missing": res["missing"],
                }
                print(
                    f"{mode:5s} processes={processes} threads={threads:2d} batch={batch_size:3d}: "
                    f"{row['per_second']:6.1f} emails/s, CPU {row['cpu_ms_per_email']:.1f} ms/email",
                    flush=True,
                )
                rows.append(row)
    pick, why = {}, {}
    for mode in sorted({r["mode"] for r in rows}):
        ranked = sorted((r for r in rows if r["mode"] == mode), key=lambda r: -r["per_second"])
        best, runner_up = ranked[0], ranked[1]
        pick[mode] = {k: best[k] for k in KNOBS}
        why[mode] = (
            f"fastest of {len(ranked)}: {best['per_second']:.1f} emails/s; next "
            f"{runner_up['per_second']:.1f} (processes {runner_up['processes']}, threads "
            f"{runner_up['threads']}, batch {runner_up['batch_size']})"
        )
    result = {
        "date": time.strftime("%Y-%m-%d"),
        "seconds": seconds + time.time() - started,
        "latency_ms": args.latency,
        "n": args.orders,
        "grid": {mode: {k: list(v) for k, v in grid.items()} for mode, grid in GRIDS.items()},
        "rows": rows,
        "pick": pick,
        "why": why,
        "machine": info["summary"],
    }
    path.parent.mkdir(exist_ok=True)
    path.write_text(json.dumps(result, indent=1))
    for mode in pick:
        print(f"best {mode}: {pick[mode]} ({why[mode]})")
    print(f"Written to {path.relative_to(ROOT)} in {result['seconds'] / 60:.1f} min")
    return 0


if __name__ == "__main__":
    sys.exit(main())
