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
    # Days after delivery before the feedback/review request is sent.
    "FEEDBACK_DELAY_DAYS": 7,
    # --- Feedback survey (docs/feedback.rst) ---
    # Rating row of the feedback request: "csat" (1-5) or "nps" (0-10).
    "FEEDBACK_SCALE": "csat",
    # Scores at or below these are "low": staff are alerted and the response
    # joins the admin's follow-up queue. Keys you give are merged in.
    "FEEDBACK_LOW_SCORE": {"csat": 2, "nps": 6},
    # Optional questions on the survey page (None: the packaged two, []: none).
    "FEEDBACK_QUESTIONS": None,
    # Who gets low-score alerts (None: BRANDING["support_email"]).
    "FEEDBACK_ALERT_EMAIL": None,
    # Seconds to wait before alerting, so a comment typed right after the
    # click is in the alert and a corrected mis-click alerts nobody.
    "FEEDBACK_ALERT_DELAY": 300,
    # Per-product review page of the shop (non-marketplace channels), with
    # {placeholders} from the line item, e.g. "https://shop.example/p/{sku}/review/".
    "FEEDBACK_REVIEW_URL": None,
    # Survey requests allowed per link and per client IP within "window" seconds.
    "FEEDBACK_RATE_LIMIT": {"token": 30, "ip": 300, "window": 3600},
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
    # --- Marketplace status sync (docs/marketplaces.rst) ---
    # Dotted path of a function update -> order (or None) that finds or
    # creates the shop's order for a marketplace order id.
    "MARKETPLACE_ORDER_RESOLVER": None,
    # Adapter name -> dotted path of a BaseAdapter subclass, over the packaged
    # {"aliexpress": ..., "generic": ...} (replace one to override its hooks).
    "MARKETPLACE_ADAPTERS": {},
    # --- Tracking and deliverability (docs/tracking.rst) ---
    # Unsubscribe links must keep working long after the email was sent.
    "UNSUBSCRIBE_LINK_MAX_AGE_DAYS": 730,
    # Domain the ESP sends and DKIM-signs as (None: the From address's
    # domain). Checked against FROM_EMAIL for DMARC alignment.
    "SENDING_DOMAIN": None,
    # DKIM selectors order_mail_check_domain looks up, e.g. ["pm"] (Postmark)
    # or ["s1", "s2"] (SendGrid); your ESP's DNS settings page shows them.
    "DKIM_SELECTORS": [],
    # Analytics warn above these rates (Gmail/Yahoo: spam rate below 0.1 %).
    "COMPLAINT_RATE_WARNING": 0.001,
    "BOUNCE_RATE_WARNING": 0.02,
    # Weeks the analytics page shows by default.
    "ANALYTICS_WEEKS": 12,
    # --- Abandoned-cart reminders (docs/abandoned-cart.rst) ---
    # The sequence: hours of cart inactivity before each reminder, e.g.
    # [1, 24, 72] or [{"after_hours": 1}, {"after_hours": 24}, {"after_hours": 72}].
    "ABANDONED_CART_STEPS": [{"after_hours": 12}],
    # A cart idle longer than this when first found gets no reminder at all.
    "ABANDONED_CART_MAX_IDLE_HOURS": 168,
    # Carts one scan transaction handles (SKIP LOCKED splits them between scans).
    "ABANDONED_CART_BATCH_SIZE": 500,
    # Cart-restore links in reminders expire after this.
    "ABANDONED_CART_LINK_MAX_AGE_DAYS": 30,
    # Cart-restore requests allowed per link and per client IP within "window"
    # seconds (None switches a limit off); keys you give are merged in.
    "ABANDONED_CART_RATE_LIMIT": {"token": 30, "ip": 300, "window": 3600},
    # An order within this many hours after a reminder (or after a restore
    # link was opened) counts as recovered by that reminder.
    "ABANDONED_CART_ATTRIBUTION_HOURS": 72,
    # Items with this many units left or fewer show "only N left" (None: never).
    "ABANDONED_CART_LOW_STOCK_THRESHOLD": 5,
    # Dotted path of a callable(cart, *, step, recipient) -> code, dict or None
    # that issues a unique single-use coupon (None: reminders carry no coupon).
    "ABANDONED_CART_COUPON_ISSUER": None,
    # Who may get a coupon; keys you give are merged over these defaults.
    "ABANDONED_CART_COUPON_POLICY": {"from_step": 1, "first_recovery_only": True, "once_per_days": 90},
    # Commercial mail (abandoned cart, feedback requests): at most "max" emails
    # per address within "hours"; later ones are skipped, events in "defer"
    # are postponed until the cap allows them. None: no cap.
    "COMMERCIAL_FREQUENCY_CAP": {"max": 1, "hours": 24, "defer": ["feedback_request"]},
}

#: Keys whose dict values are merged with the defaults rather than replaced.
_MERGED_DICTS = ("PUBLISH_RETRY_POLICY",)

_cache: dict[str, Any] | None = None


def _load() -> dict[str, Any]:
    user = getattr(settings, "ORDER_MAIL", {}) or {}
    merged = copy.deepcopy(DEFAULTS)
    for key, value in user.items():
        if key in _MERGED_DICTS and isinstance(value, dict):
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
