"""Settings of the batch-sending worker (``tests/integration/test_batch_send.py``).

The integration settings plus ``ESP_BATCH_SEND`` (one ``POST /email/batch``
per claimed batch), bigger send tasks (``DELIVERY_BATCH_SIZE``) and a Celery
queue of their own, so this worker never shares work with the session's
worker (and vice versa).
"""

from tests.integration.settings import *  # noqa: F403

BATCH_QUEUE = "order-mail-batch"

ORDER_MAIL = {
    **ORDER_MAIL,  # noqa: F405
    "ESP_BATCH_SEND": True,
    "DELIVERY_BATCH_SIZE": 50,
    "CELERY_QUEUE": BATCH_QUEUE,
}
