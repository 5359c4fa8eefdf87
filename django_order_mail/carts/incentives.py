"""Coupons in reminders, rationed so customers do not learn to abandon first.

A coupon is issued right before a reminder is sent (never when the
reminder is only written: a cart that is ordered, emptied or suppressed in
the meantime costs no coupon), from one of two sources:

* the shop's ``ABANDONED_CART_COUPON_ISSUER`` (a hook into its own coupon
  system) when set - it wins, whatever the steps say;
* else the coupon rule staff chose for the reminder's step in the admin
  (:mod:`.coupons`), which rations by its own terms.

The hook's coupons are given only if ``ABANDONED_CART_COUPON_POLICY``
allows it:

``from_step``
    only reminders of this step or later carry one (say 2: the first
    reminder is a plain reminder, the last one sweetens it);
``first_recovery_only``
    only customers who never recovered a cart before (by address);
``once_per_days``
    at most one coupon per address within this many days (None: no limit).

The coupon is stored on the outbox row (``extra["coupon"]``), so a retried
send shows the same code, and the send log says why a reminder had none;
:class:`~.models.CartCoupon` is the ledger the policy reads.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone
from django.utils.module_loading import import_string

from ..outbox.addresses import normalize_address
from ..outbox.models import OutboxEmail
from .app_settings import DEFAULTS, app_settings
from .coupons import attach_rule_coupon
from .models import CartCoupon, CartRecovery

logger = logging.getLogger("django_order_mail.carts")


def coupon_policy() -> dict:
    """The policy: the project's keys merged over the defaults."""
    return {**DEFAULTS["ABANDONED_CART_COUPON_POLICY"], **(app_settings.ABANDONED_CART_COUPON_POLICY or {})}


def withheld_reason(row: OutboxEmail, address: str, now: datetime | None = None) -> str | None:
    """Why reminder ``row`` to ``address`` may not carry a coupon, or None.

    Both ledgers hold normalised addresses: ``Tina@Example.com`` and
    ``tina@example.com`` are one customer.
    """
    now = now or timezone.now()
    policy = coupon_policy()
    step = int((row.extra or {}).get("step") or 1)
    from_step = int(policy.get("from_step") or 1)
    if step < from_step:
        return f"coupons start at step {from_step} (this is step {step})"
    if policy.get("first_recovery_only"):
        earlier = CartRecovery.objects.filter(recipient=normalize_address(address)).first()
        if earlier is not None:
            return f"first recovery only: this address recovered a cart on {earlier.recovered_at:%Y-%m-%d}"
    days = policy.get("once_per_days")
    if days:
        previous = (
            CartCoupon.objects.filter(
                recipient=normalize_address(address), issued_at__gte=now - timedelta(days=days)
            )
            .exclude(reminder=row)
            .first()
        )
        if previous is not None:
            return (
                f"once per {days} days: coupon {previous.code} went to this address "
                f"on {previous.issued_at:%Y-%m-%d}"
            )
    return None


def normalize_coupon(result) -> dict | None:
    """What the issuer returned as ``{"code", "description", "expires_at"}``."""
    if not result:
        return None
    if isinstance(result, str):
        return {"code": result, "description": "", "expires_at": ""}
    if isinstance(result, dict) and result.get("code"):
        expires = result.get("expires_at") or ""
        return {
            "code": str(result["code"]),
            "description": str(result.get("description") or ""),
            "expires_at": expires.isoformat() if hasattr(expires, "isoformat") else str(expires),
        }
    raise TypeError(f"the coupon issuer returned {type(result).__name__}; expected a code or a dict")


def attach_coupon(row: OutboxEmail, cart, address: str, now: datetime | None = None) -> dict | None:
    """Issue and store the coupon of reminder ``row`` if the policy allows;
    the coupon (issued now or on an earlier attempt) or None."""
    extra = dict(row.extra or {})
    if extra.get("coupon"):
        return extra["coupon"]  # a retry: the same code again
    if "coupon_withheld" in extra:
        return None
    path = app_settings.ABANDONED_CART_COUPON_ISSUER
    if not path:
        # No hook: the coupon rule the step named when the row was written.
        rule_id = extra.get("coupon_rule")
        if rule_id is None:
            return None
        return attach_rule_coupon(row, cart, address, int(rule_id), now or timezone.now())
    reason = withheld_reason(row, address, now)
    coupon = None
    if reason is None:
        try:
            coupon = normalize_coupon(
                import_string(path)(cart, step=int(extra.get("step") or 1), recipient=address)
            )
        except Exception as exc:
            # The reminder still goes, without a coupon: the issuer's bug must
            # not cost the customer the email.
            logger.exception("The coupon issuer failed for email %s", row.pk)
            reason = f"the coupon issuer failed: {type(exc).__name__}: {exc}"
        else:
            reason = None if coupon else "the issuer gave no coupon"
    step = int(extra.get("step") or 1)
    if coupon:
        extra["coupon"] = coupon
        message = f"coupon {coupon['code']} issued for step {step}"
    else:
        extra["coupon_withheld"] = reason
        message = f"no coupon: {reason}"
    with transaction.atomic():
        # Only while our claim holds: a row another worker took is not ours to change.
        if not OutboxEmail.objects.filter(pk=row.pk, claim_token=row.claim_token).update(extra=extra):
            return None
        if coupon:
            CartCoupon.objects.create(
                code=coupon["code"][:100],
                recipient=normalize_address(address),
                reminder=row,
                step=step,
                issued_at=now or timezone.now(),
            )
        row.extra = extra
        row.log("coupon", message)
    return coupon
