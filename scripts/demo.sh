#!/usr/bin/env bash
# One-command demo of django-order-mail: a shop whose orders move through the
# lifecycle while a real Celery worker sends the emails to var/sent_mail/.
#
#   bash scripts/demo.sh                   # then open http://127.0.0.1:8000/
#   DEMO_NO_SERVER=1 bash scripts/demo.sh  # smoke test: no runserver, exit after the summary
#
# Needs no servers (SQLite + kombu's filesystem broker). For PostgreSQL/Redis set
# DATABASE_URL / CELERY_BROKER_URL (see example_project/demo_shop/settings.py).
# Other knobs: DEMO_FAST_FEEDBACK=1 (send feedback requests now, not in 5-7 days),
# DEMO_MAIL_FAILURE_RATE=0.3 (simulate ESP outages to watch retries), DEMO_PORT=8001 (serve
# there; the links in the emails follow unless SITE_URL is set).
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
ROOT="$(pwd)"
PORT="${DEMO_PORT:-8000}"
# The worker, the management commands and runserver all read it: the links in
# the emails (SITE_URL, unless you set one) point to the port served below.
export DEMO_PORT="$PORT"

# shellcheck source=scripts/_venv.sh
source scripts/_venv.sh
ensure_venv dev

cd example_project
mkdir -p var

say "Migrating the database"
"$PY" manage.py migrate --noinput

if ! "$PY" manage.py shell -c "import sys; from django.contrib.auth import get_user_model; \
sys.exit(0 if get_user_model().objects.filter(username='admin').exists() else 1)" >/dev/null 2>&1; then
    say "Creating superuser admin / admin"
    DJANGO_SUPERUSER_PASSWORD="${DJANGO_SUPERUSER_PASSWORD:-admin}" \
        "$PY" manage.py createsuperuser --noinput --username admin --email admin@nordlys-goods.example
fi

say "Starting the Celery worker with embedded beat (log: example_project/var/worker.log)"
: > var/worker.log
"$ROOT/.venv/bin/celery" -A demo_shop worker -B --loglevel=info --concurrency=2 \
    --hostname "demo@%h" >> var/worker.log 2>&1 &
WORKER_PID=$!

stop_worker() {
    if kill -0 "$WORKER_PID" 2>/dev/null; then
        echo "Stopping the Celery worker (pid $WORKER_PID)..."
        kill -TERM "$WORKER_PID" 2>/dev/null || true
        for _ in $(seq 1 20); do
            kill -0 "$WORKER_PID" 2>/dev/null || break
            sleep 0.5
        done
        kill -KILL "$WORKER_PID" 2>/dev/null || true
        wait "$WORKER_PID" 2>/dev/null || true
    fi
}
trap stop_worker EXIT

for _ in $(seq 1 60); do
    grep -q "ready\." var/worker.log && break
    if ! kill -0 "$WORKER_PID" 2>/dev/null; then
        echo "The Celery worker exited; its log:" >&2
        cat var/worker.log >&2
        exit 1
    fi
    sleep 0.5
done
grep -q "ready\." var/worker.log || echo "warning: worker not ready after 30 s, continuing" >&2

say "Creating sample orders and walking them through the lifecycle"
DEMO_ARGS=(--wait)
if [ "${DEMO_FAST_FEEDBACK:-0}" = "1" ]; then
    DEMO_ARGS+=(--fast-feedback)
fi
"$PY" manage.py demo_orders "${DEMO_ARGS[@]}"

SENT_COUNT=$(find var/sent_mail -name '*.eml' | wc -l | tr -d ' ')
say "Done. Where to look:"
cat <<INFO
  Orders and their states   http://127.0.0.1:${PORT}/
  Send log (every email)    http://127.0.0.1:${PORT}/sent/
  Admin (admin / admin)     http://127.0.0.1:${PORT}/admin/   (actions move orders and send mail)
  Emails on disk            ${ROOT}/example_project/var/sent_mail/  (${SENT_COUNT} messages, each as .eml + .html)
  Worker log                ${ROOT}/example_project/var/worker.log
INFO

if [ "${DEMO_NO_SERVER:-0}" = "1" ]; then
    say "DEMO_NO_SERVER=1: not starting the web server"
    exit 0
fi

say "Serving on http://127.0.0.1:${PORT}/ (Ctrl-C stops the server and the worker)"
"$PY" manage.py runserver "127.0.0.1:${PORT}"
