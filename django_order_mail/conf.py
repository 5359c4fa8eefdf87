"""The one place that reads ``settings.ORDER_MAIL``.

The package reads its settings through the typed object
``django_order_mail.app_settings.app_settings`` (``app_settings.MAX_ATTEMPTS``),
which asks :func:`get_setting` here, so that defaults live in one documented
table, tests can use ``override_settings(ORDER_MAIL=...)`` and the system
checks in :mod:`django_order_mail.checks` validate one dict.
"""

from __future__ import annotations

import copy
from typing import Any

from django.conf import settings
from django.core.signals import setting_changed
from django.dispatch import receiver

#: Defaults for every key of ``settings.ORDER_MAIL``. ``docs/settings.rst``
#: documents each one; keep the two in step.
DEFAULTS: dict[str, Any] = {
    # Master switch. When False, transitions still work but no outbox rows
    # are written (useful for data migrations and imports).
    "ENABLED": True,
    # Mail events that are switched off for every channel.
    "DISABLED_EVENTS": [],
    # Sales channel used when the order does not say which one it came from.
    "DEFAULT_CHANNEL": "web",
    # Per-channel rules, merged over django_order_mail.events.DEFAULT_CHANNELS.
    # {"amazon_fba": {"events": ["feedback_request"], "feedback_delay_days": 7}}
    "CHANNELS": {},
    # Preset reasons staff pick (cancellation, refund, ...), merged over
    # django_order_mail.lifecycle.reasons.PRESETS: {event: {code: {"label":
    # ..., "sentence": ...} or None}}. See docs/settings.rst.
    "REASONS": {},
    # From address; falls back to settings.DEFAULT_FROM_EMAIL.
    "FROM_EMAIL": None,
    # Language codes orders may be rendered in (default: settings.LANGUAGES).
    # An order language outside them falls back to its closest variant, its
    # base language, settings.LANGUAGE_CODE, then "en" (docs/translating.rst).
    "LANGUAGES": None,
    # Extra steps of that fallback chain, tried before the packaged ones:
    # {"ca": ["es"], "zh-hk": ["zh-hant"]} (code -> codes to try next).
    "LANGUAGE_FALLBACKS": {},
    # Shop branding used by every email (see docs/settings.rst).
    "BRANDING": {},
    # Absolute base URL for links in emails, e.g. "https://shop.example".
    "SITE_URL": "http://localhost:8000",
    # Carrier tracking-URL templates, merged over the packaged registry.
    "CARRIERS": {},
    # Delivery: retries of transient ESP errors (connection, 5xx, 429).
    "MAX_ATTEMPTS": 8,
    "RETRY_BACKOFF_BASE": 15,  # seconds; doubled each attempt, half of it random
    "RETRY_BACKOFF_MAX": 1800,  # seconds; kept below Redis' visibility timeout
    # Sweep: a queued row older than this is re-published to the broker.
    "REQUEUE_AFTER": 120,  # seconds
    # Sweep: a row left in "sending" longer than this is released for retry.
    "SENDING_TIMEOUT": 600,  # seconds
    # How many rows one sweep/dispatch pass handles.
    "SWEEP_BATCH_SIZE": 500,
    # Hand ids to the broker from a background thread of the process that
    # committed (True), so a web request does not wait for the broker round
    # trip; or in the on-commit callback itself (False). Either way only
    # after commit, and the sweep re-publishes whatever never got there.
    "PUBLISH_IN_BACKGROUND": True,
    # Rows one send task claims and sends: the one it was given plus up to
    # DELIVERY_BATCH_SIZE - 1 other due rows, in one claiming statement, with
    # orders, templates and suppressions loaded once for the batch.
    "DELIVERY_BATCH_SIZE": 20,
    # ESP calls one worker process keeps in flight at once: this many sending
    # threads, each with its own kept-alive ESP connection and its own
    # database connection, each email recorded right after its own call (1:
    # one after the other, in the task's thread).
    "DELIVERY_CONCURRENCY": 8,
    # Seconds a send_emails task keeps claiming further due rows (oldest
    # first, SKIP LOCKED) while its sending threads have room, so they never
    # wait for the slowest email of a batch or for the next broker message
    # (a trickle of orders comes one id per message). 0: a task sends only
    # the rows of its message.
    "DELIVERY_KEEP_CLAIMING": 10,
    # Send the emails of one claim in one API call where the ESP has a batch
    # endpoint and a batch sender is registered for the email backend
    # (Postmark's /email/batch, up to 500; django_order_mail.delivery.batch),
    # up to DELIVERY_CONCURRENCY calls in flight per worker process, each
    # answer still recorded per email. The duplicate window becomes the whole
    # call: a worker that dies between the ESP's answer and recording leaves
    # the whole call for the sweep to send again. False: one email per call,
    # each recorded right after its own (every other ESP, always).
    "ESP_BATCH_SEND": False,
    # Let the ESP's HTTP client take proxy settings, the CA bundle and .netrc
    # from the environment (HTTPS_PROXY, NO_PROXY, REQUESTS_CA_BUNDLE), read
    # once when a sending thread opens its connection. False ignores them.
    "ESP_TRUST_ENV": True,
    # Commercial mail apart from transactional mail (django_order_mail.streams):
    # {"commercial": {"mailer": "marketing", "esp_extra": {"MessageStream":
    # "broadcast"}}}; "mailer" is a Django 6.1 MAILERS alias.
    "MAIL_STREAMS": {},
    # Celery queue the send tasks go to (None: the default queue).
    "CELERY_QUEUE": None,
    # Broker publish retry when telling Celery after commit. Kept short so a
    # broker outage does not stall the request: the sweep re-publishes later.
    "PUBLISH_RETRY_POLICY": {
        "max_retries": 1,
        "interval_start": 0,
        "interval_step": 0.2,
        "interval_max": 0.2,
    },
    # Inline CSS into style="" attributes at render time (css-inline).
    "INLINE_CSS": True,
    # Tags added to every Anymail message after the event name. Some ESPs
    # (Postmark) accept only one tag: leave empty for them.
    "TAGS": [],
    # Signed customer links (feedback, order status) expire after this.
    "LINK_MAX_AGE_DAYS": 60,
    # Commercial mail (abandoned cart, feedback requests): at most "max" emails
    # per address within "hours"; later ones are skipped, events in "defer"
    # are postponed until the cap allows them. None: no cap.
    "COMMERCIAL_FREQUENCY_CAP": {"max": 1, "hours": 24, "defer": ["feedback_request"]},
    # Transactional emails stay transactional: at most this share of an email's
    # content may be promotional (recommendations, referral; the CAN-SPAM 80/20
    # practice). The sender trims the promotional blocks to stay under it.
    "PROMOTIONAL_SHARE_MAX": 0.2,
    # Data retention (django_order_mail.data, docs/data-protection.rst): kind ->
    # days after which order_mail_retention deletes or strips those rows (None:
    # keep). Keys you give are merged over these and over the feature apps' kinds.
    "RETENTION": {},
    # Rows one retention or erasure statement touches, each batch in its own
    # short transaction.
    "RETENTION_BATCH_SIZE": 1000,
    # After each batch, retention waits this many times as long as the batch
    # took (1.0: it works at most half the time), so workers sending at the
    # same time keep their share of the database. 0: no pause.
    "RETENTION_PAUSE": 1.0,
}

#: Keys whose dict values are merged with the defaults rather than replaced.
_MERGED_DICTS = {"PUBLISH_RETRY_POLICY"}

#: Keys of the feature apps (``docs/settings.rst``): each registers its own
#: section with :func:`register_settings` when it is imported.
_features: dict[str, dict[str, Any]] = {}

_cache: dict[str, Any] | None = None


def register_settings(app_label: str, defaults: dict[str, Any], *, merged_dicts=()) -> None:
    """Add a feature app's keys of ``ORDER_MAIL`` with their defaults.

    A feature app owns a section of the one ``ORDER_MAIL`` dict (its keys
    share a prefix, as django-allauth's apps' settings do); it calls this from
    its own ``app_settings`` module, so its keys are known, defaulted and
    checked only when it is installed.
    """
    global _cache
    for key in defaults:
        owner = next((label for label, keys in _features.items() if key in keys and label != app_label), None)
        if key in DEFAULTS or owner:
            raise ValueError(f"ORDER_MAIL[{key!r}] is already defined by {owner or 'the core'}")
    _features[app_label] = dict(defaults)
    _MERGED_DICTS.update(merged_dicts)
    _cache = None


def known_defaults() -> dict[str, Any]:
    """Every known key with its default: the core's and the installed features'."""
    merged = dict(DEFAULTS)
    for defaults in _features.values():
        merged.update(defaults)
    return merged


def _load() -> dict[str, Any]:
    user = getattr(settings, "ORDER_MAIL", {}) or {}
    merged = copy.deepcopy(known_defaults())
    for key, value in user.items():
        if key in _MERGED_DICTS and isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = {**merged[key], **value}
        else:
            merged[key] = value
    return merged


def get_setting(name: str) -> Any:
    """Return ``ORDER_MAIL[name]`` or its documented default."""
    global _cache
    if _cache is None:
        _cache = _load()
    if name not in _cache:
        raise KeyError(f"Unknown ORDER_MAIL setting {name!r}")
    return _cache[name]


def user_settings() -> dict[str, Any]:
    """The raw ``ORDER_MAIL`` dict as the project wrote it (for checks)."""
    return getattr(settings, "ORDER_MAIL", {}) or {}


@receiver(setting_changed)
def _reset_cache(*, setting, **kwargs):
    global _cache
    if setting in ("ORDER_MAIL", "DEFAULT_FROM_EMAIL", "LANGUAGE_CODE", "LANGUAGES"):
        _cache = None
