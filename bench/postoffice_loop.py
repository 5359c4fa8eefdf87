"""django-post-office's sender, run as a loop: ``python -m bench.postoffice_loop PROCESSES``.

Each pass is ``send_queued_mail_until_done`` (what ``manage.py
send_queued_mail`` and post_office's Celery task call): it takes post_office's
file lock, sends batch after batch with ``send_queued(processes)`` until
nothing is queued, and returns. The loop then polls again after 50 ms.
"""

import os
import sys
import tempfile
import time

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings")

import django

django.setup()

from django.db import connection  # noqa: E402
from post_office.mail import send_queued_mail_until_done  # noqa: E402


def main() -> None:
    processes = int(sys.argv[1]) if len(sys.argv) > 1 else 1
    lockfile = os.path.join(tempfile.gettempdir(), f"order-mail-bench-post-office-{os.getpid()}")
    # No SIGTERM handler: the forked pool children inherit handlers, and
    # multiprocessing's Pool.terminate() relies on SIGTERM ending them.
    print("ready", flush=True)
    while True:
        send_queued_mail_until_done(lockfile, processes, None)
        connection.close()
        time.sleep(0.05)


if __name__ == "__main__":
    main()
