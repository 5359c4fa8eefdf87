"""System checks of the product-review app: ids ``E801``-``E803`` and
``W801``-``W803`` (docs/reviews.rst lists them).

``E803`` is the "no review gating" rule made checkable: the product block
of the emails (``django_order_mail/email/_product_reviews.html``, or a
project's override of it) must offer every rating, 1 to 5, for every
product. The app itself never filters, hides or orders reviews by rating.
"""

from __future__ import annotations

from django.conf import settings
from django.core.checks import CheckMessage, Error, Tags, Warning, register
from django.core.files.storage import FileSystemStorage, storages
from django.template.loader import get_template

from ..conf import user_settings
from ..events import get_event
from ..rendering.branding import BRANDING_DEFAULTS
from .app_settings import DEFAULTS, app_settings
from .events import FEEDBACK_REQUEST, NOT_RECEIVED_ALERT
from .links import STARS
from .photos import pillow_available

_ID = "django_order_mail.{}"
PARTIAL = "django_order_mail/email/_product_reviews"
#: Keys that must be positive integers, and those that may also be 0 or None.
POSITIVE = (
    "REVIEWS_MAX_PRODUCTS",
    "REVIEWS_PHOTO_MAX_BYTES",
    "REVIEWS_NOT_RECEIVED_DELAY_DAYS",
    "REVIEWS_PER_PAGE",
)
NON_NEGATIVE = ("REVIEWS_MAX_PHOTOS",)


def _int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _bad(key: str, wants: str) -> Error:
    return Error(f"ORDER_MAIL[{key!r}] must be {wants}.", hint="See docs/reviews.rst.", id=_ID.format("E801"))


@register(Tags.compatibility)
def check_review_settings(app_configs=None, **kwargs) -> list[CheckMessage]:
    raw = user_settings()
    if not isinstance(raw, dict):
        return []  # E001 already
    errors: list[CheckMessage] = []
    for key in POSITIVE:
        value = raw.get(key, DEFAULTS[key])
        if not _int(value) or value < 1:
            errors.append(_bad(key, "a positive integer"))
    for key in NON_NEGATIVE:
        value = raw.get(key, DEFAULTS[key])
        if not _int(value) or value < 0:
            errors.append(_bad(key, "a non-negative integer"))
    delay = raw.get("REVIEWS_REMINDER_DELAY_DAYS", DEFAULTS["REVIEWS_REMINDER_DELAY_DAYS"])
    if delay is not None and (not _int(delay) or delay < 0):
        errors.append(_bad("REVIEWS_REMINDER_DELAY_DAYS", "None or a non-negative integer"))
    limit = raw.get("REVIEWS_RATE_LIMIT", {})
    if not isinstance(limit, dict) or any(
        k not in ("token", "ip", "window") or not (v is None or (_int(v) and v >= 0))
        for k, v in limit.items()
    ):
        errors.append(_bad("REVIEWS_RATE_LIMIT", "a dict of 'token', 'ip' and 'window' integers (or None)"))
    address = raw.get("REVIEWS_ALERT_EMAIL")
    if address is not None and (not isinstance(address, str) or "@" not in address):
        errors.append(_bad("REVIEWS_ALERT_EMAIL", "None or an email address"))
    errors += _check_photos(raw)
    errors += _check_wiring(raw)
    return errors


def _check_photos(raw) -> list[CheckMessage]:
    photos = raw.get("REVIEWS_MAX_PHOTOS", DEFAULTS["REVIEWS_MAX_PHOTOS"])
    if not _int(photos) or photos <= 0:
        return []
    found: list[CheckMessage] = []
    if not pillow_available():
        found.append(
            Error(
                "The reviews app needs Pillow to check customer photos and strip their metadata.",
                hint="pip install 'django-order-mail[reviews]', or set ORDER_MAIL['REVIEWS_MAX_PHOTOS'] = 0.",
                id=_ID.format("E802"),
            )
        )
    if isinstance(storages["default"], FileSystemStorage) and not settings.MEDIA_ROOT:
        found.append(
            Warning(
                "MEDIA_ROOT is not set: review photos would be stored under the process's working directory.",
                hint="Set MEDIA_ROOT and MEDIA_URL, or a storage of your own (STORAGES['default']).",
                id=_ID.format("W802"),
            )
        )
    return found


def _check_wiring(raw) -> list[CheckMessage]:
    found: list[CheckMessage] = []
    if get_event(FEEDBACK_REQUEST) is None:
        found.append(
            Warning(
                "No app registers the 'feedback_request' email: the product stars have no email to go in.",
                hint="Add 'django_order_mail.feedback' to INSTALLED_APPS (before the reviews app).",
                id=_ID.format("W803"),
            )
        )
    if (
        NOT_RECEIVED_ALERT not in (raw.get("DISABLED_EVENTS") or [])
        and not app_settings.REVIEWS_ALERT_EMAIL
        and not (app_settings.BRANDING or {}).get("support_email")
    ):
        found.append(
            Warning(
                "Neither ORDER_MAIL['REVIEWS_ALERT_EMAIL'] nor BRANDING['support_email'] is set: "
                "'not received yet' alerts are skipped unless recipients are set in the admin (Staff "
                "notifications) or the admin's Branding record has a support address.",
                hint="Set one of them or the recipients in the admin, "
                "or add 'review_not_received_alert' to DISABLED_EVENTS.",
                id=_ID.format("W801"),
            )
        )
    return found


# -- no review gating -------------------------------------------------------------------------------------


def _sample_products() -> list[dict]:
    return [
        {
            "name": "Sample product",
            "image_url": "",
            "url": "https://check.invalid/review/0/",
            "stars": [{"score": s, "url": f"https://check.invalid/review/0/?stars={s}"} for s in STARS],
        }
    ]


@register(Tags.templates)
def check_every_rating_is_offered(app_configs=None, **kwargs) -> list[CheckMessage]:
    """E803: the product block offers all five ratings (HTML) or links to
    the review page that does (plain text), for every product."""
    products = _sample_products()
    context = {"product_reviews": products, "shop": {**BRANDING_DEFAULTS, "name": "Shop"}}
    problems = []
    for extension, wanted in (
        ("html", [star["url"] for star in products[0]["stars"]]),
        ("txt", [products[0]["url"]]),
    ):
        try:
            rendered = get_template(f"{PARTIAL}.{extension}").render(context)
        except Exception:  # noqa: BLE001 - a missing or broken partial: E008's business when rendered
            continue
        missing = [url for url in wanted if url.replace("&", "&amp;") not in rendered and url not in rendered]
        if missing:
            problems.append(f"{PARTIAL}.{extension}")
    return [
        Error(
            f"The product review block {name} does not offer every rating (1 to 5 stars) for every product.",
            hint="Inviting only some ratings is review gating: list every star link of product.stars.",
            id=_ID.format("E803"),
        )
        for name in problems
    ]
