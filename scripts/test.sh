#!/usr/bin/env bash
# Set up and run every test of django-order-mail:
#   lint (ruff) -> type check (mypy) -> docs build (Sphinx, warnings are errors)
#   -> example project checks
#   -> unit tests on SQLite -> integration tests on PostgreSQL + Redis + a real
#      celery worker + Anymail's Postmark backend against a fake ESP on 127.0.0.1.
#
# Needs PostgreSQL on 127.0.0.1:5432 (trust auth; PGUSER defaults to postgres), the
# redis-server binary (the tests start their own Redis on a free port) and Debian's
# chromium for the browser tests (installed here with apt-get when run as root).
# With CI=true a missing service fails the run instead of skipping those tests.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
ROOT="$(pwd)"

# shellcheck source=scripts/_venv.sh
source scripts/_venv.sh
ensure_venv dev,docs

say "System packages for the tests (chromium, gettext)"
if { [ ! -x /usr/bin/chromium ] || ! command -v msgfmt >/dev/null; } \
    && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    # chromium for the browser tests; gettext for the "every string translated" check
    apt-get update -qq && apt-get install -y -qq chromium gettext >/dev/null
fi

say "Lint"
.venv/bin/ruff check .
.venv/bin/ruff format --check .

say "Packaging: sdist and wheel build, twine check, nothing missing"
rm -rf build/dist-check && mkdir -p build
"$PY" -m build --outdir build/dist-check . >build/dist-check.log 2>&1 || { cat build/dist-check.log; exit 1; }
.venv/bin/twine check --strict build/dist-check/*
"$PY" scripts/check_dist.py build/dist-check

say "Type check (mypy)"
.venv/bin/mypy

say "Docs (sphinx -W)"
.venv/bin/sphinx-build -W -q -b html docs docs/_build/html

say "Example project: system checks and migrations in step"
(cd example_project && "$PY" manage.py check --fail-level WARNING && "$PY" manage.py makemigrations --check --dry-run)

# The unit suites (SQLite in memory, one database per process) run on every
# CPU through pytest-xdist; TEST_PROCESSES=0 runs them in one process.
XDIST="-n ${TEST_PROCESSES:-auto}"

say "Unit tests (SQLite)"
.venv/bin/pytest tests -m "not integration and not browser" -p no:cacheprovider -q $XDIST

say "The core alone: a project with no feature app sends every lifecycle email"
.venv/bin/pytest tests/core_only --ds tests.core_only.settings --noconftest -p no:cacheprovider -q

say "Browser tests (Playwright driving Debian's chromium)"
if [ -x /usr/bin/chromium ] || [ "${CI:-}" = "true" ]; then
    DJANGO_ALLOW_ASYNC_UNSAFE=true .venv/bin/pytest tests/browser -m browser -p no:cacheprovider -q
else
    echo "chromium is not installed (apt-get install chromium): browser tests not run"
fi

say "Integration tests (PostgreSQL, Redis, celery worker, Anymail Postmark -> fake ESP)"
.venv/bin/pytest tests/integration --ds tests.integration.settings -m integration \
    -p no:cacheprovider -q --timeout 300
say "Unit tests of the send path on PostgreSQL"
# Where PostgreSQL takes other code paths than SQLite (the one-statement
# record, RETURNING, SKIP LOCKED) or behaves differently (closing a
# connection ends a transaction; SQLite's in-memory one never closes), and
# the one admin test that needs PostgreSQL (the search help without the
# trigram indexes; the SQLite run above skips it).
ORDER_MAIL_TEST_DB=postgres .venv/bin/pytest tests/delivery tests/outbox tests/data \
    tests/test_batch_send.py tests/test_machinery_guards.py -p no:cacheprovider -q $XDIST
ORDER_MAIL_TEST_DB=postgres .venv/bin/pytest tests/admin/test_send_log_search.py \
    -k without_the_trigram_indexes -p no:cacheprovider -q

# The supported matrix beyond .venv (Django 5.2, Python 3.11): the unit suite
# on Django 5.2 / Python 3.10, 6.0 / 3.12 and 6.1 / 3.13, the integration
# suite on 6.1 too. A deprecation warning from the package's own code is an
# error on each (pyproject.toml, filterwarnings).
for pair in "dj52py310 3.10 django>=5.2,<5.3" "dj60 3.12 django>=6.0,<6.1" "dj61 3.13 django>=6.1,<6.2"; do
    set -- $pair
    ensure_matrix_venv "$1" "$2" "$3"
    say "Unit tests on $(".venv-$1/bin/python" -c 'import django, sys; print(f"Django {django.get_version()}, Python {sys.version.split()[0]}")')"
    ".venv-$1/bin/pytest" tests -m "not integration and not browser" -p no:cacheprovider -q $XDIST
done
say "Integration tests on Django 6.1"
ORDER_MAIL_TEST_DB_NAME=test_django_order_mail_dj61 .venv-dj61/bin/pytest tests/integration \
    --ds tests.integration.settings -m integration -p no:cacheprovider -q --timeout 300
