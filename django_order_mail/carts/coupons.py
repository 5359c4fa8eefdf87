"""Coupons from staff's rules (:class:`~.models.CouponRule`), and the
checkout's side: is this code good, and what does it take off.

**Issuing.** A reminder whose step names a rule gets a code right before
it is sent (:func:`.incentives.attach_coupon`, after every check and the
frequency cap), unless the shop's own ``ABANDONED_CART_COUPON_ISSUER`` is
set: the hook wins. The rule rations: no code when the rule is off or over,
the cart is below its minimum or in another currency, the address already
got ``per_customer_limit`` codes of it, recovered a cart before
(``first_recovery_only``) or got any coupon within ``once_per_days``. The
rule's row is locked while a code is issued, so two reminders to one
address sent at the same moment cannot both pass the per-customer limit.

**Codes** are 12 random characters from :data:`ALPHABET` (about 60 bits,
from :mod:`secrets`: unguessable), behind the rule's prefix, unique (a
database constraint; a collision draws again), bound to the address they
were sent to, usable once and expiring after the rule's ``valid_days``.
The code keeps the rule's terms as issued: editing the rule later changes
only the codes issued after.

**Checkout.** :func:`check_coupon` says whether a code applies to a cart
and what it takes off; :func:`redeem_coupon` does the same and marks the
code used, once, for an order: call it in the transaction that creates the
order. Both answer with a translated reason a checkout can show. No code
here, nor anywhere in the app, depends on what a customer rates or writes:
review requests never carry an incentive (``docs/feedback.rst``).
"""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from babel.numbers import format_percent
from django.db import IntegrityError, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext

from ..outbox.addresses import normalize_address
from ..outbox.models import OutboxEmail
from ..rendering.i18n import babel_locale, format_money
from ..rendering.render import resolve_language
from .models import CartCoupon, CartRecovery, CouponRule

logger = logging.getLogger("django_order_mail.carts")

#: No 0/O, 1/I/L: codes are read off a phone and typed in.
ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 12
CENT = Decimal("0.01")


def new_code(prefix: str = "") -> str:
    """``PREFIX`` + ``XXXX-XXXX-XXXX`` from :data:`ALPHABET` (:mod:`secrets`)."""
    raw = "".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH))
    return prefix + "-".join(raw[i : i + 4] for i in range(0, CODE_LENGTH, 4))


def normalize_code(code: str) -> str:
    return "".join(str(code or "").split()).upper()


def _decimal(value) -> Decimal | None:
    try:
        return None if value in (None, "") else Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None


def describe(kind: str, value, currency: str, minimum, language: str) -> str:
    """ "10 % off your order", "€5.00 off orders from €50.00", in ``language``."""
    language = resolve_language(language)
    with translation.override(language):
        if kind == CouponRule.Kind.PERCENT:
            shown = format_percent(Decimal(value) / 100, locale=babel_locale(language))
        else:
            shown = format_money(value, currency, language)
        if minimum:
            return gettext("%(discount)s off orders from %(minimum)s") % {
                "discount": shown,
                "minimum": format_money(minimum, currency, language),
            }
        return gettext("%(discount)s off your order") % {"discount": shown}


def rule_withheld_reason(rule: CouponRule, row: OutboxEmail, cart, address: str, now: datetime) -> str | None:
    """Why ``rule`` gives reminder ``row`` no code, or None (English, for the send log)."""
    if not rule.gives_codes(now):
        return f"coupon rule {rule.name!r} gives no codes (switched off or ended)"
    currency = str(cart.get_cart_currency() or "").upper()
    if rule.currency and currency != rule.currency:
        return f"the cart is in {currency or '?'}; coupon rule {rule.name!r} is for {rule.currency}"
    if rule.minimum_cart_value is not None:
        total = _decimal(cart.get_cart_total()) or Decimal("0")
        if total < rule.minimum_cart_value:
            return f"the cart ({total} {currency}) is below the rule's minimum of {rule.minimum_cart_value}"
    address = normalize_address(address)
    given = CartCoupon.objects.filter(rule=rule, recipient=address).count()
    if given >= rule.per_customer_limit:
        return f"per-customer limit: this address already got {given} code(s) of rule {rule.name!r}"
    if rule.first_recovery_only:
        earlier = CartRecovery.objects.filter(recipient=address).first()
        if earlier is not None:
            return f"first recovery only: this address recovered a cart on {earlier.recovered_at:%Y-%m-%d}"
    if rule.once_per_days:
        previous = (
            CartCoupon.objects.filter(
                recipient=address, issued_at__gte=now - timedelta(days=rule.once_per_days)
            )
            .exclude(reminder=row)
            .first()
        )
        if previous is not None:
            return (
                f"once per {rule.once_per_days} days: coupon {previous.code} went to this address "
                f"on {previous.issued_at:%Y-%m-%d}"
            )
    return None


def issue_from_rule(rule: CouponRule, row: OutboxEmail, cart, address: str, now: datetime) -> CartCoupon:
    """A new code of ``rule`` for reminder ``row`` (call inside a transaction)."""
    expires = now + timedelta(days=rule.valid_days)
    for _attempt in range(5):
        try:
            with transaction.atomic():
                return CartCoupon.objects.create(
                    code=new_code(rule.code_prefix),
                    recipient=normalize_address(address),
                    reminder=row,
                    step=int((row.extra or {}).get("step") or 1),
                    issued_at=now,
                    rule=rule,
                    kind=rule.kind,
                    value=rule.value,
                    currency=rule.currency,
                    minimum_cart_value=rule.minimum_cart_value,
                    expires_at=expires,
                )
        except IntegrityError:  # the one-in-2**60 collision: draw again
            continue
    raise RuntimeError("could not draw a unique coupon code")


def coupon_payload(coupon: CartCoupon, language: str) -> dict:
    """What the reminder shows (``extra["coupon"]``, the template's ``coupon``)."""
    return {
        "code": coupon.code,
        "description": describe(
            coupon.kind, coupon.value, coupon.currency, coupon.minimum_cart_value, language
        ),
        "expires_at": coupon.expires_at.isoformat() if coupon.expires_at else "",
    }


def attach_rule_coupon(row: OutboxEmail, cart, address: str, rule_id: int, now: datetime) -> dict | None:
    """Issue and store the code of ``row``'s rule, or log why not; the coupon or None."""
    extra = dict(row.extra or {})
    step = int(extra.get("step") or 1)
    with transaction.atomic():
        rule = CouponRule.objects.select_for_update().filter(pk=rule_id).first()
        reason = (
            "the step's coupon rule was deleted"
            if rule is None
            else rule_withheld_reason(rule, row, cart, address, now)
        )
        coupon = None
        if reason is None and rule is not None:
            issued = issue_from_rule(rule, row, cart, address, now)
            coupon = coupon_payload(issued, row.language)
            extra["coupon"] = coupon
            message = f"coupon {issued.code} issued for step {step} (rule {rule.name!r})"
        else:
            extra["coupon_withheld"] = reason
            message = f"no coupon: {reason}"
        # Only while our claim holds: a row another worker took is not ours to change.
        if not OutboxEmail.objects.filter(pk=row.pk, claim_token=row.claim_token).update(extra=extra):
            transaction.set_rollback(True)
            return None
        row.extra = extra
        row.log("coupon", message)
    return coupon


# -- the checkout ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class CouponCheck:
    """The answer for one code: ``discount`` off, or the ``error`` to show."""

    coupon: CartCoupon | None
    discount: Decimal
    error: str = ""

    @property
    def ok(self) -> bool:
        return not self.error


def _refuse(message: str, coupon: CartCoupon | None = None) -> CouponCheck:
    return CouponCheck(coupon, Decimal("0"), message)


def check_coupon(code: str, *, email: str, cart_total, currency: str = "", now=None) -> CouponCheck:
    """Does ``code`` (from a staff rule) apply to a cart of ``email`` worth
    ``cart_total`` in ``currency``, and what does it take off? Changes nothing.

    Codes of the shop's own issuer are not known here: they belong to the
    shop's discount system.
    """
    now = now or timezone.now()
    coupon = CartCoupon.objects.filter(code=normalize_code(code)).exclude(kind="").first()
    if coupon is None:
        return _refuse(gettext("This code does not exist."))
    if coupon.recipient != normalize_address(email):
        return _refuse(gettext("This code was sent to another email address."), coupon)
    if coupon.redeemed_at is not None:
        return _refuse(gettext("This code has already been used."), coupon)
    if coupon.expires_at is not None and coupon.expires_at <= now:
        return _refuse(gettext("This code has expired."), coupon)
    currency = str(currency or "").upper()
    if coupon.currency and currency and currency != coupon.currency:
        return _refuse(
            gettext("This code is for orders in %(currency)s.") % {"currency": coupon.currency}, coupon
        )
    total = _decimal(cart_total) or Decimal("0")
    if coupon.minimum_cart_value is not None and total < coupon.minimum_cart_value:
        return _refuse(
            gettext("This code needs an order of at least %(amount)s.")
            % {"amount": format_money(coupon.minimum_cart_value, coupon.currency or currency)},
            coupon,
        )
    value = coupon.value or Decimal("0")
    if coupon.kind == CouponRule.Kind.PERCENT:
        discount = (total * value / 100).quantize(CENT, rounding=ROUND_HALF_UP)
    else:
        discount = min(value, total)
    return CouponCheck(coupon, discount)


def redeem_coupon(
    code: str, *, email: str, cart_total, currency: str = "", order=None, now=None
) -> CouponCheck:
    """:func:`check_coupon`, and if it applies, mark the code used for
    ``order`` (once: a second checkout with the same code is refused, even
    at the same moment). Call it inside the transaction that creates the order."""
    now = now or timezone.now()
    result = check_coupon(code, email=email, cart_total=cart_total, currency=currency, now=now)
    if not result.ok or result.coupon is None:
        return result
    reference = ""
    if order is not None:
        getter = getattr(order, "get_mail_order_number", None)
        reference = str((getter() if getter else "") or order.pk or "")[:64]
    taken = CartCoupon.objects.filter(pk=result.coupon.pk, redeemed_at__isnull=True).update(
        redeemed_at=now, redeemed_order=reference
    )
    if not taken:
        return _refuse(gettext("This code has already been used."), result.coupon)
    if result.coupon.reminder_id is not None:
        OutboxEmail(pk=result.coupon.reminder_id).log(
            "coupon", f"coupon {result.coupon.code} used for order {reference or '-'}"
        )
    result.coupon.redeemed_at, result.coupon.redeemed_order = now, reference
    return result
