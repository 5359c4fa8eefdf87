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
    def FEEDBACK_DELAY_DAYS(self) -> int:
        """Days after delivery before the feedback/review request is sent."""
        return get_setting("FEEDBACK_DELAY_DAYS")

    @property
    def FEEDBACK_SCALE(self) -> str:
        """Rating row of the feedback request: "csat" (1-5) or "nps" (0-10)."""
        return get_setting("FEEDBACK_SCALE")

    @property
    def FEEDBACK_LOW_SCORE(self) -> dict[str, int]:
        """Scores at or below these are "low": staff are alerted and the response joins the
        admin's follow-up queue. Keys you give are merged in."""
        return get_setting("FEEDBACK_LOW_SCORE")

    @property
    def FEEDBACK_QUESTIONS(self) -> list[dict[str, Any]] | None:
        """Optional questions on the survey page (None: the packaged two, []: none)."""
        return get_setting("FEEDBACK_QUESTIONS")

    @property
    def FEEDBACK_ALERT_EMAIL(self) -> str | None:
        """Who gets low-score alerts (None: BRANDING["support_email"])."""
        return get_setting("FEEDBACK_ALERT_EMAIL")

    @property
    def FEEDBACK_ALERT_DELAY(self) -> int:
        """Seconds to wait before alerting, so a comment typed right after the click is in the
        alert and a corrected mis-click alerts nobody."""
        return get_setting("FEEDBACK_ALERT_DELAY")

    @property
    def FEEDBACK_REVIEW_URL(self) -> str | None:
        """Per-product review page of the shop (non-marketplace channels), with {placeholders}
        from the line item, e.g. "https://shop.example/p/{sku}/review/"."""
        return get_setting("FEEDBACK_REVIEW_URL")

    @property
    def FEEDBACK_RATE_LIMIT(self) -> dict[str, int | None]:
        """Survey requests allowed per link and per client IP within "window" seconds."""
        return get_setting("FEEDBACK_RATE_LIMIT")

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
    def MARKETPLACE_ORDER_RESOLVER(self) -> Any:
        """Dotted path of a function update -> order (or None) that finds or creates the shop's
        order for a marketplace order id."""
        return get_setting("MARKETPLACE_ORDER_RESOLVER")

    @property
    def MARKETPLACE_ADAPTERS(self) -> dict[str, str]:
        """Adapter name -> dotted path of a BaseAdapter subclass, over the packaged
        {"aliexpress": ..., "generic": ...} (replace one to override its hooks)."""
        return get_setting("MARKETPLACE_ADAPTERS")

    @property
    def UNSUBSCRIBE_LINK_MAX_AGE_DAYS(self) -> int:
        """Unsubscribe links must keep working long after the email was sent."""
        return get_setting("UNSUBSCRIBE_LINK_MAX_AGE_DAYS")

    @property
    def SENDING_DOMAIN(self) -> str | None:
        """Domain the ESP sends and DKIM-signs as (None: the From address's domain). Checked
        against FROM_EMAIL for DMARC alignment."""
        return get_setting("SENDING_DOMAIN")

    @property
    def DKIM_SELECTORS(self) -> list[str]:
        """DKIM selectors order_mail_check_domain looks up, e.g. ["pm"] (Postmark) or ["s1",
        "s2"] (SendGrid); your ESP's DNS settings page shows them."""
        return get_setting("DKIM_SELECTORS")

    @property
    def COMPLAINT_RATE_WARNING(self) -> float:
        """Analytics warn above these rates (Gmail/Yahoo: spam rate below 0.1 %)."""
        return get_setting("COMPLAINT_RATE_WARNING")

    @property
    def BOUNCE_RATE_WARNING(self) -> float:
        """Bounce rate warning."""
        return get_setting("BOUNCE_RATE_WARNING")

    @property
    def ANALYTICS_WEEKS(self) -> int:
        """Weeks the analytics page shows by default."""
        return get_setting("ANALYTICS_WEEKS")

    @property
    def ABANDONED_CART_STEPS(self) -> list[Any]:
        """The sequence: hours of cart inactivity before each reminder, e.g. [1, 24, 72] or
        [{"after_hours": 1}, {"after_hours": 24}, {"after_hours": 72}]."""
        return get_setting("ABANDONED_CART_STEPS")

    @property
    def ABANDONED_CART_MAX_IDLE_HOURS(self) -> float:
        """A cart idle longer than this when first found gets no reminder at all."""
        return get_setting("ABANDONED_CART_MAX_IDLE_HOURS")

    @property
    def ABANDONED_CART_BATCH_SIZE(self) -> int:
        """Carts one scan transaction handles (SKIP LOCKED splits them between scans)."""
        return get_setting("ABANDONED_CART_BATCH_SIZE")

    @property
    def ABANDONED_CART_LINK_MAX_AGE_DAYS(self) -> int:
        """Cart-restore links in reminders expire after this."""
        return get_setting("ABANDONED_CART_LINK_MAX_AGE_DAYS")

    @property
    def ABANDONED_CART_RATE_LIMIT(self) -> dict[str, int | None]:
        """Cart-restore requests allowed per link and per client IP within "window" seconds (None
        switches a limit off); keys you give are merged in."""
        return get_setting("ABANDONED_CART_RATE_LIMIT")

    @property
    def ABANDONED_CART_ATTRIBUTION_HOURS(self) -> float:
        """An order within this many hours after a reminder (or after a restore link was opened)
        counts as recovered by that reminder."""
        return get_setting("ABANDONED_CART_ATTRIBUTION_HOURS")

    @property
    def ABANDONED_CART_LOW_STOCK_THRESHOLD(self) -> int | None:
        """Items with this many units left or fewer show "only N left" (None: never)."""
        return get_setting("ABANDONED_CART_LOW_STOCK_THRESHOLD")

    @property
    def ABANDONED_CART_COUPON_ISSUER(self) -> Any:
        """Dotted path of a ``callable(cart, *, step, recipient)`` returning a code, a dict
        or None that issues a unique single-use coupon (None: reminders carry no coupon)."""
        return get_setting("ABANDONED_CART_COUPON_ISSUER")

    @property
    def ABANDONED_CART_COUPON_POLICY(self) -> dict[str, Any]:
        """Who may get a coupon; keys you give are merged over these defaults."""
        return get_setting("ABANDONED_CART_COUPON_POLICY")

    @property
    def COMMERCIAL_FREQUENCY_CAP(self) -> dict[str, Any] | None:
        """Commercial mail (abandoned cart, feedback requests): at most "max" emails per address
        within "hours"; later ones are skipped, events in "defer" are postponed until the cap
        allows them. None: no cap."""
        return get_setting("COMMERCIAL_FREQUENCY_CAP")


#: The settings object: ``from django_order_mail.app_settings import app_settings``.
app_settings = OrderMailSettings()


def __getattr__(name: str) -> Any:
    # PEP 562, as django-allauth's app_settings: the module reads like the
    # object too (``from django_order_mail import app_settings``).
    return getattr(app_settings, name)
