"""Settings for the integration tests and the celery worker they start.

PostgreSQL, a Redis server the tests run on their own port, and Anymail's
real Postmark backend pointed at the fake ESP. The pytest process and the
worker subprocess share these settings; the worker gets the test database
name, the broker URL and the fake ESP URL through environment variables.
"""

import os
import socket


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# Chosen once in the pytest process, inherited by the worker subprocesses.
os.environ.setdefault("ORDER_MAIL_TEST_REDIS_PORT", str(_free_port()))
os.environ.setdefault("ORDER_MAIL_TEST_ESP_PORT", str(_free_port()))
os.environ["ORDER_MAIL_TEST_DB"] = "postgres"

from tests.settings import *  # noqa: E402,F403

REDIS_PORT = int(os.environ["ORDER_MAIL_TEST_REDIS_PORT"])
ESP_PORT = int(os.environ["ORDER_MAIL_TEST_ESP_PORT"])

# The worker connects straight to the database pytest-django created.
if os.environ.get("ORDER_MAIL_WORKER_DB"):
    DATABASES["default"]["NAME"] = os.environ["ORDER_MAIL_WORKER_DB"]  # noqa: F405

EMAIL_BACKEND = "anymail.backends.postmark.EmailBackend"
ANYMAIL = {
    "POSTMARK_SERVER_TOKEN": "fake-server-token",
    "POSTMARK_API_URL": f"http://127.0.0.1:{ESP_PORT}/",
    "REQUESTS_TIMEOUT": 10,
}

CELERY_BROKER_URL = f"redis://127.0.0.1:{REDIS_PORT}/0"
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BROKER_CONNECTION_TIMEOUT = 2
CELERY_BROKER_TRANSPORT_OPTIONS = {"socket_connect_timeout": 1, "socket_timeout": 5}
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_IGNORE_RESULT = True
CELERY_WORKER_CANCEL_LONG_RUNNING_TASKS_ON_CONNECTION_LOSS = False  # as docs/deployment.rst says

ORDER_MAIL = {
    **{k: v for k, v in ORDER_MAIL.items() if k != "DELIVERY_CONCURRENCY"},  # noqa: F405 - the default
    "RETRY_BACKOFF_BASE": 1,
    "RETRY_BACKOFF_MAX": 4,
    "MAX_ATTEMPTS": 5,
    "PUBLISH_IN_BACKGROUND": True,  # the default: real Redis, real threads
}
