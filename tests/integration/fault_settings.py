"""Settings of the fault-injection worker and racer processes
(``tests/integration/test_faults.py``).

The integration settings plus:

* a short Anymail ``REQUESTS_TIMEOUT``, so the fake ESP's "slow" answers
  time out in a second rather than ten;
* a Celery queue of their own, so the fault worker never shares work with
  the session's worker (and vice versa);
* an ``application_name`` on the PostgreSQL connections, so the test can
  terminate exactly the worker's connections.
"""

import os

from tests.integration.settings import *  # noqa: F403

FAULT_QUEUE = "order-mail-faults"

ANYMAIL = {
    **ANYMAIL,  # noqa: F405
    "REQUESTS_TIMEOUT": float(os.environ.get("ORDER_MAIL_FAULT_REQUESTS_TIMEOUT", "1.0")),
}
ORDER_MAIL = {**ORDER_MAIL, "CELERY_QUEUE": FAULT_QUEUE}  # noqa: F405
DATABASES = {
    "default": {
        **DATABASES["default"],  # noqa: F405
        "OPTIONS": {"application_name": os.environ.get("ORDER_MAIL_FAULT_APP_NAME", "order-mail-fault")},
    }
}
