#!/usr/bin/env bash
# Run every benchmark and write docs/performance.md (see bench/run.py --help).
#   bash bench/run.sh            the full run at 50 ms ESP latency (1,000 emails per throughput run,
#                                100,000 sends for memory)
#   bash bench/run.sh --latency 0,20,50,150 --skip machinery    what docs/performance.md shows
#   bash bench/run.sh --quick    300 emails per run: a few minutes
#   bash bench/run.sh --faults 10    the fault-injection suite at 10x -> docs/reliability.md
#   bash bench/run.sh --merge --skip esp,throughput,sizing,stock,render,machinery,memory,admin
#                                the transition overhead alone, put into the last full run's page
# Needs PostgreSQL on 127.0.0.1:5432 (trust auth, user postgres) and redis-server.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
if ! .venv/bin/python -m pip show -q django-post-office >/dev/null 2>&1; then
    .venv/bin/python -m pip install --quiet --disable-pip-version-check -e ".[bench]"
fi
exec .venv/bin/python -m bench.run "$@"
