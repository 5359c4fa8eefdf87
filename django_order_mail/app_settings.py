"""The typed settings object: ``from django_order_mail.app_settings import app_settings``.

Modelled on django-allauth's ``app_settings``: one attribute per key of
``settings.ORDER_MAIL``, typed, documented, read when used. Names are the
setting names (upper case), hence ``N802`` is off for this file.
"""

# ruff: noqa: N802

from __future__ import annotations

from typing import Any

from .conf import get_setting

__all__ = ["OrderMailSettings", "app_settings"]


class OrderMailSettings:
    """Every ``ORDER_MAIL`` setting as a typed attribute: ``app_settings.MAX_ATTEMPTS``.

    The one object the package reads its settings through (as django-allauth's
    ``app_settings``): each attribute is ``ORDER_MAIL[name]`` or its default
    from ``django_order_mail.conf.DEFAULTS``, read when it is used, so ``override_settings``
    applies at once. ``docs/settings.rst`` documents each one; the system
    checks validate them.
    """

    @property
    def ENABLED(self) -> bool:
        """Master switch. When False, transitions still work but no outbox rows are written
        (useful for data migrations and imports)."""
        return get_setting("ENABLED")

    @property
    def DISABLED_EVENTS(self) -> list[str]:
        """Mail events that are switched off for every channel."""
        return get_setting("DISABLED_EVENTS")

    @property
    def DEFAULT_CHANNEL(self) -> str:
        """Sales channel used when the order does not say which one it came from."""
        return get_setting("DEFAULT_CHANNEL")

    @property
    def CHANNELS(self) -> dict[str, dict[str, Any]]:
        """Per-channel rules, merged over django_order_mail.events.DEFAULT_CHANNELS.
        {"amazon_fba": {"events": ["feedback_request"], "feedback_delay_days": 7}}."""
        return get_setting("CHANNELS")

    @property
    def REASONS(self) -> dict[str, Any]:
        """Preset reasons staff pick (cancellation, refund, ...), merged over
        django_order_mail.lifecycle.reasons.PRESETS: {event: {code: {"label": ..., "sentence":
        ...} or None}}. See docs/settings.rst."""
        return get_setting("REASONS")

    @property
    def FROM_EMAIL(self) -> str | None:
        """From address; falls back to settings.DEFAULT_FROM_EMAIL."""
        return get_setting("FROM_EMAIL")

    @property
    def LANGUAGES(self) -> list[Any] | None:
        """Language codes orders may be rendered in (default: settings.LANGUAGES). An order
        language outside them falls back to its closest variant, its base language,
        settings.LANGUAGE_CODE, then "en" (docs/translating.rst)."""
        return get_setting("LANGUAGES")

    @property
    def LANGUAGE_FALLBACKS(self) -> dict[str, Any]:
        """Extra steps of that fallback chain, tried before the packaged ones: {"ca": ["es"],
        "zh-hk": ["zh-hant"]} (code -> codes to try next)."""
        return get_setting("LANGUAGE_FALLBACKS")

    @property
    def BRANDING(self) -> dict[str, Any]:
        """Shop branding used by every email (see docs/settings.rst)."""
        return get_setting("BRANDING")

    @property
    def SITE_URL(self) -> str:
        """Absolute base URL for links in emails, e.g. "https://shop.example"."""
        return get_setting("SITE_URL")

    @property
    def CARRIERS(self) -> dict[str, Any]:
        """Carrier tracking-URL templates, merged over the packaged registry."""
        return get_setting("CARRIERS")

    @property
    def MAX_ATTEMPTS(self) -> int:
        """Delivery: retries of transient ESP errors (connection, 5xx, 429)."""
        return get_setting("MAX_ATTEMPTS")

    @property
    def RETRY_BACKOFF_BASE(self) -> float:
        """seconds; doubled each attempt, half of it random."""
        return get_setting("RETRY_BACKOFF_BASE")

    @property
    def RETRY_BACKOFF_MAX(self) -> float:
        """seconds; kept below Redis' visibility timeout."""
        return get_setting("RETRY_BACKOFF_MAX")

    @property
    def REQUEUE_AFTER(self) -> float:
        """Sweep: a queued row older than this is re-published to the broker. seconds."""
        return get_setting("REQUEUE_AFTER")

    @property
    def SENDING_TIMEOUT(self) -> float:
        """Sweep: a row left in "sending" longer than this is released for retry. seconds."""
        return get_setting("SENDING_TIMEOUT")

    @property
    def SWEEP_BATCH_SIZE(self) -> int:
        """How many rows one sweep/dispatch pass handles."""
        return get_setting("SWEEP_BATCH_SIZE")

    @property
    def PUBLISH_IN_BACKGROUND(self) -> bool:
        """Hand ids to the broker from a background thread of the process that committed (True),
        so a web request does not wait for the broker round trip; or in the on-commit callback
        itself (False). Either way only after commit, and the sweep re-publishes whatever
        never got there."""
        return get_setting("PUBLISH_IN_BACKGROUND")

    @property
    def DELIVERY_BATCH_SIZE(self) -> int:
        """Rows one send task claims and sends: the one it was given plus up to
        DELIVERY_BATCH_SIZE - 1 other due rows, in one claiming statement, with orders,
        templates and suppressions loaded once for the batch."""
        return get_setting("DELIVERY_BATCH_SIZE")

    @property
    def DELIVERY_CONCURRENCY(self) -> int:
        """ESP calls one worker process keeps in flight at once: this many sending threads, each
        with its own kept-alive ESP connection and database connection, each email recorded
        right after its own call (1: one after the other, in the task's thread)."""
        return get_setting("DELIVERY_CONCURRENCY")

    @property
    def DELIVERY_KEEP_CLAIMING(self) -> float:
        """Seconds a send task keeps claiming further due rows (oldest first, SKIP LOCKED)
        while its sending threads have room; 0: only the rows of its own message."""
        return get_setting("DELIVERY_KEEP_CLAIMING")

    @property
    def ESP_BATCH_SEND(self) -> bool:
        """Send the emails of one claim in one API call where the ESP has a batch endpoint and
        a batch sender is registered for the email backend (Postmark, up to 500 a call), up to
        DELIVERY_CONCURRENCY calls in flight per worker process, each answer still recorded
        per email. The duplicate window becomes the whole call.
        False: one email per call (every other ESP, always)."""
        return get_setting("ESP_BATCH_SEND")

    @property
    def ESP_TRUST_ENV(self) -> bool:
        """Let the ESP's HTTP client take proxy settings, the CA bundle and .netrc from the
        environment, read once when a sending thread opens its connection (requests alone reads
        them on every call). False ignores the environment."""
        return get_setting("ESP_TRUST_ENV")

    @property
    def MAIL_STREAMS(self) -> dict[str, dict[str, Any]]:
        """Commercial mail apart from transactional mail: per stream ("transactional",
        "commercial") the Django 6.1 MAILERS alias that sends it ("mailer") and Anymail's
        "esp_extra" for its messages (Postmark: {"MessageStream": "broadcast"})."""
        return get_setting("MAIL_STREAMS")

    @property
    def CELERY_QUEUE(self) -> str | None:
        """Celery queue the send tasks go to (None: the default queue)."""
        return get_setting("CELERY_QUEUE")

    @property
    def PUBLISH_RETRY_POLICY(self) -> dict[str, Any]:
        """Broker publish retry when telling Celery after commit. Kept short so a broker outage
        does not stall the request: the sweep re-publishes later."""
        return get_setting("PUBLISH_RETRY_POLICY")

    @property
    def INLINE_CSS(self) -> bool:
        """Inline CSS into style="" attributes at render time (css-inline)."""
        return get_setting("INLINE_CSS")

    @property
    def TAGS(self) -> list[str]:
        """Tags added to every Anymail message after the event name. Some ESPs (Postmark) accept
        only one tag: leave empty for them."""
        return get_setting("TAGS")

    @property
    def LINK_MAX_AGE_DAYS(self) -> int:
        """Signed customer links (feedback, order status) expire after this."""
        return get_setting("LINK_MAX_AGE_DAYS")

    @property
    def COMMERCIAL_FREQUENCY_CAP(self) -> dict[str, Any] | None:
        """Commercial mail (abandoned cart, feedback requests): at most "max" emails per address
        within "hours"; later ones are skipped, events in "defer" are postponed until the cap
        allows them. None: no cap."""
        return get_setting("COMMERCIAL_FREQUENCY_CAP")

    @property
    def PROMOTIONAL_SHARE_MAX(self) -> float:
        """At most this share of an email's content may be promotional (recommendations, referral;
        the CAN-SPAM 80/20 practice); the sender trims the promotional blocks to stay under it."""
        return get_setting("PROMOTIONAL_SHARE_MAX")

    @property
    def RETENTION(self) -> dict[str, int | None]:
        """Data retention: kind -> days after which order_mail_retention deletes or strips those
        rows (None: keep), merged over the registered kinds' defaults (docs/data-protection.rst)."""
        return get_setting("RETENTION")

    @property
    def RETENTION_BATCH_SIZE(self) -> int:
        """Rows one retention or erasure statement touches, each batch in its own short
        transaction."""
        return get_setting("RETENTION_BATCH_SIZE")

    @property
    def RETENTION_PAUSE(self) -> float:
        """After each batch, retention waits this many times as long as the batch took (1.0: it
        works at most half the time), so sends keep their share of the database; 0: no pause."""
        return get_setting("RETENTION_PAUSE")


#: The settings object: ``from django_order_mail.app_settings import app_settings``.
app_settings = OrderMailSettings()


def __getattr__(name: str) -> Any:
    # PEP 562, as django-allauth's app_settings: the module reads like the
    # object too (``from django_order_mail import app_settings``).
    return getattr(app_settings, name)
