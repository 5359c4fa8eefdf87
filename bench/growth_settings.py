"""The bench settings of ``bench/growth.py`` (its worker, its retention runs).

The throughput bench's settings without django-post-office (not compared
here).

``BENCH_RETENTION_ONLY`` picks one part of the real retention command:
``bodies`` (only the bodies are stripped, every other kind kept) or
``delete`` (everything but the bodies: the send log's deletions, with the
feature apps' kinds), so the send bursts can be measured against each part.
Unset: the app's defaults.
"""

import json
import os

from bench.settings import *  # noqa: F403

INSTALLED_APPS = [app for app in INSTALLED_APPS if app != "post_office"]  # noqa: F405

_KINDS = ("bodies", "send_log", "tracking_events", "survey_responses", "carts", "reviews")
_ONLY = os.environ.get("BENCH_RETENTION_ONLY", "")
if _ONLY == "bodies":
    ORDER_MAIL = {**ORDER_MAIL, "RETENTION": {kind: None for kind in _KINDS if kind != "bodies"}}  # noqa: F405
elif _ONLY == "delete":
    ORDER_MAIL = {**ORDER_MAIL, "RETENTION": {"bodies": None}}
elif _ONLY:
    raise ValueError(f"BENCH_RETENTION_ONLY must be 'bodies' or 'delete', not {_ONLY!r}")
# Experiments: more RETENTION keys as JSON (not used by bench/growth.py).
if os.environ.get("BENCH_RETENTION_EXTRA"):
    ORDER_MAIL = {
        **ORDER_MAIL,
        "RETENTION": {**ORDER_MAIL.get("RETENTION", {}), **json.loads(os.environ["BENCH_RETENTION_EXTRA"])},
    }
