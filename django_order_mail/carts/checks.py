"""System checks of abandoned-cart reminders (E401–E405, W401–W402; the frequency cap, E406, is the core's).

Registered by the abandoned-cart app config (:func:`check_abandoned_cart`). Mistakes
here would otherwise show up as reminders that never go out, or go out to
everyone at once.
"""

from __future__ import annotations

from django.core.checks import Error, Tags, Warning, register
from django.template import TemplateDoesNotExist
from django.template.loader import get_template
from django.utils.module_loading import import_string

from ..conf import known_defaults, user_settings
from .events import ABANDONED_CART
from .mixins import AbandonedCartMixin, cart_models
from .sequence import parse_steps

_ID = "django_order_mail.{}"
_NON_NEGATIVE = (
    "ABANDONED_CART_MAX_IDLE_HOURS",
    "ABANDONED_CART_LINK_MAX_AGE_DAYS",
    "ABANDONED_CART_ATTRIBUTION_HOURS",
)
_POLICY_KEYS = {"from_step", "first_recovery_only", "once_per_days"}


def _e(msg, n, hint=None):
    return Error(msg, hint=hint, id=_ID.format(f"E{n}"))


def _w(msg, n, hint=None):
    return Warning(msg, hint=hint, id=_ID.format(f"W{n}"))


def _is_int(value, minimum=0) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= minimum


@register(Tags.compatibility)
def check_abandoned_cart(app_configs=None, **kwargs):
    """E401-E405, W401-W402: the reminder sequence, coupons, the
    abandoned_cart template and the shop's cart models."""
    return cart_checks()


def cart_checks() -> list:
    raw = user_settings()
    if not isinstance(raw, dict):
        return []  # E001 already says so

    def value(key):
        return raw.get(key, known_defaults()[key])

    errors = []
    steps = []
    try:
        steps = parse_steps(value("ABANDONED_CART_STEPS"))
    except ValueError as exc:
        errors.append(
            _e(
                f"ORDER_MAIL['ABANDONED_CART_STEPS'] {exc}.",
                401,
                "Example: [1, 24, 72] (hours of inactivity).",
            )
        )
    for key in _NON_NEGATIVE:
        if not _is_int(value(key)):
            errors.append(_e(f"ORDER_MAIL[{key!r}] must be a non-negative integer.", 404))
    if not _is_int(value("ABANDONED_CART_BATCH_SIZE"), 1):
        errors.append(_e("ORDER_MAIL['ABANDONED_CART_BATCH_SIZE'] must be a positive integer.", 404))
    threshold = value("ABANDONED_CART_LOW_STOCK_THRESHOLD")
    if threshold is not None and not _is_int(threshold):
        errors.append(
            _e(
                "ORDER_MAIL['ABANDONED_CART_LOW_STOCK_THRESHOLD'] must be a non-negative integer or None.",
                404,
            )
        )
    errors.extend(
        _coupon_errors(value("ABANDONED_CART_COUPON_ISSUER"), value("ABANDONED_CART_COUPON_POLICY"))
    )
    limit = value("ABANDONED_CART_RATE_LIMIT")
    if not isinstance(limit, dict) or any(
        k not in ("token", "ip", "window") or not (v is None or _is_int(v)) for k, v in limit.items()
    ):
        errors.append(
            _e("ORDER_MAIL['ABANDONED_CART_RATE_LIMIT'] takes 'token', 'ip' and 'window' integers.", 404)
        )
    max_idle = value("ABANDONED_CART_MAX_IDLE_HOURS")
    if steps and _is_int(max_idle) and max_idle * 3600 <= steps[0].after.total_seconds():
        errors.append(
            _w(
                "ORDER_MAIL['ABANDONED_CART_MAX_IDLE_HOURS'] is not above the first step's after_hours: "
                "no cart will ever get a reminder.",
                402,
            )
        )
    models = cart_models()
    if models and ABANDONED_CART not in value("DISABLED_EVENTS"):
        try:
            get_template("django_order_mail/email/abandoned_cart.email")
        except TemplateDoesNotExist:
            errors.append(
                _e(
                    "No template for the 'abandoned_cart' email.",
                    403,
                    "Add django_order_mail/email/abandoned_cart.email or disable the event.",
                )
            )
    for model in models:
        errors.extend(_model_errors(model))
    return errors


def _model_errors(model) -> list:
    errors = []
    label = model._meta.label
    for hook in ("get_cart_items", "get_checkout_url"):
        if getattr(model, hook) is getattr(AbandonedCartMixin, hook):
            errors.append(_e(f"{label} does not implement {hook}().", 402, "See docs/abandoned-cart.rst."))
    indexed = any(
        list(index.fields[:2]) == ["reminder_step", "last_activity_at"] for index in model._meta.indexes
    )
    if not indexed:
        errors.append(
            _w(
                f"{label} has no index for the abandoned-cart scan: it reads the whole table.",
                401,
                "Inherit the mixin's Meta (class Meta(AbandonedCartMixin.Meta): ...) or add "
                "django_order_mail.carts.mixins.reminder_scan_index('<name>') to Meta.indexes.",
            )
        )
    return errors


def _coupon_errors(issuer, policy) -> list:
    errors = []
    if issuer:
        try:
            if not callable(import_string(issuer)):
                raise TypeError("not callable")
        except (ImportError, TypeError) as exc:
            errors.append(
                _e(f"ORDER_MAIL['ABANDONED_CART_COUPON_ISSUER'] {issuer!r} cannot be used ({exc}).", 405)
            )
    if not isinstance(policy, dict):
        return [*errors, _e("ORDER_MAIL['ABANDONED_CART_COUPON_POLICY'] must be a dict.", 405)]
    unknown = set(policy) - _POLICY_KEYS
    if unknown:
        errors.append(
            _e(
                f"ORDER_MAIL['ABANDONED_CART_COUPON_POLICY'] has unknown keys {sorted(unknown)}.",
                405,
                f"Known keys: {', '.join(sorted(_POLICY_KEYS))}.",
            )
        )
    if "from_step" in policy and not _is_int(policy["from_step"], 1):
        errors.append(_e("ABANDONED_CART_COUPON_POLICY['from_step'] must be an integer from 1.", 405))
    days = policy.get("once_per_days")
    if days is not None and not _is_int(days):
        errors.append(_e("ABANDONED_CART_COUPON_POLICY['once_per_days'] must be None or days.", 405))
    return errors
