"""Settings of the benchmarks and of the worker processes they start.

PostgreSQL database ``bench_order_mail`` on 127.0.0.1:5432 (its own, dropped
and re-created by ``bench/run.py``), a Redis server the bench starts on a
free port, Anymail's real Postmark backend pointed at ``bench/fast_esp.py``,
and django-post-office configured with the same Anymail backend so both
systems hand the same messages to the same fake ESP.

Ports and the database name come from environment variables that
``bench/run.py`` sets before any Django import, so the worker subprocesses
share them.
"""

import os

from tests.settings import *  # noqa: F403 - the tests' shop (tests.testapp.Order)

DEBUG = False
INSTALLED_APPS = [*INSTALLED_APPS, "post_office"]  # noqa: F405

REDIS_PORT = int(os.environ.get("BENCH_REDIS_PORT", "6399"))
ESP_PORT = int(os.environ.get("BENCH_ESP_PORT", "8799"))

DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": os.environ.get("BENCH_DB_NAME", "bench_order_mail"),
        "USER": os.environ.get("PGUSER", "postgres"),
        "HOST": os.environ.get("PGHOST", "127.0.0.1"),
        "PORT": os.environ.get("PGPORT", "5432"),
        # Persistent connections, as a production web or worker process has.
        "CONN_MAX_AGE": None,
        "CONN_HEALTH_CHECKS": True,
    }
}


# The tables come from the real migrations (``migrate``), as in a shop's
# database: 0004 switches the stored bodies to LZ4 on PostgreSQL, which a
# table built from the models alone would not have. CI checks that the
# migrations match the models.

EMAIL_BACKEND = "anymail.backends.postmark.EmailBackend"
ANYMAIL = {
    "POSTMARK_SERVER_TOKEN": "bench-server-token",
    "POSTMARK_API_URL": f"http://127.0.0.1:{ESP_PORT}/",
    "REQUESTS_TIMEOUT": 10,
    # DEBUG is False: without credentials the webhooks are refused (E601).
    "WEBHOOK_SECRET": "bench-hook:bench-secret",
}

CELERY_BROKER_URL = f"redis://127.0.0.1:{REDIS_PORT}/0"
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_IGNORE_RESULT = True
CELERY_WORKER_PREFETCH_MULTIPLIER = int(os.environ.get("BENCH_PREFETCH", "4"))
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
# Celery's Django fix-up closes every database connection before and after
# each task unless DB_REUSE_MAX is set: one new PostgreSQL connection per email.
# The bench measures both; 0 = Celery's default.
CELERY_DB_REUSE_MAX = int(os.environ.get("BENCH_DB_REUSE_MAX", "1000")) or None

# The app's defaults, not the unit tests' overrides: tests.settings sends in
# the test's own thread (DELIVERY_CONCURRENCY 1) and publishes in the
# on-commit callback; the bench measures what a shop gets out of the box.
_TEST_ONLY = ("DELIVERY_CONCURRENCY", "PUBLISH_IN_BACKGROUND")
ORDER_MAIL = {
    **{k: v for k, v in ORDER_MAIL.items() if k not in _TEST_ONLY},  # noqa: F405
    "ENABLED": True,
    "RETRY_BACKOFF_BASE": 1,
    "RETRY_BACKOFF_MAX": 4,
}
# The optional batch path (one ``POST /email/batch`` per batch), for the
# throughput runs that measure it; the app's default otherwise.
if os.environ.get("BENCH_ESP_BATCH_SEND") == "1":
    ORDER_MAIL["ESP_BATCH_SEND"] = True
# Experiments only (not used by bench/run.py; the sizing runs publish one id
# per message from the producer and leave the workers at the defaults).
if os.environ.get("BENCH_DELIVERY_BATCH_SIZE"):
    ORDER_MAIL["DELIVERY_BATCH_SIZE"] = int(os.environ["BENCH_DELIVERY_BATCH_SIZE"])
# Experiments only (not used by bench/run.py): the sending threads per worker process.
if os.environ.get("BENCH_DELIVERY_CONCURRENCY"):
    ORDER_MAIL["DELIVERY_CONCURRENCY"] = int(os.environ["BENCH_DELIVERY_CONCURRENCY"])

# django-post-office: same Anymail backend, its defaults otherwise (batches of
# 100, 5 sending threads per process, log level 2 = a Log row per email). The
# throughput bench runs it at its defaults and at the best settings its grid
# found (bench/postoffice_grid.py), passed to the sender through these
# variables.
POST_OFFICE = {
    "BACKENDS": {"default": "anymail.backends.postmark.EmailBackend"},
    "DEFAULT_PRIORITY": "medium",
}
if os.environ.get("BENCH_PO_THREADS"):
    POST_OFFICE["THREADS_PER_PROCESS"] = int(os.environ["BENCH_PO_THREADS"])
if os.environ.get("BENCH_PO_BATCH_SIZE"):
    POST_OFFICE["BATCH_SIZE"] = int(os.environ["BENCH_PO_BATCH_SIZE"])

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler", "level": "WARNING"}},
    "root": {"handlers": ["console"], "level": "WARNING"},
    # post_office logs every batch at INFO through its own handler.
    "loggers": {"post_office": {"handlers": ["console"], "level": "WARNING", "propagate": False}},
}
