"""The abandoned-cart app's personal data (``docs/data-protection.rst``):
recovered carts and the coupon ledger, both keyed by the customer's address.

A coupon code from a staff rule (:mod:`.coupons`) is bound to the address
it was sent to, so it is the customer's data: the export lists every code
with its terms, expiry and use; the erasure replaces the address and ends
a code not used yet (nobody can redeem a code of a forgotten customer),
while the rule keeps its counts. A recovery stays for the *Recovered
carts* statistics with its address replaced; retention deletes coupon rows.
Retention never touches what attribution still needs: reminders sent
within the attribution window (or whose restore link still works) stay in
the send log, and a coupon stays as long as the rationing policy reads it
(``once_per_days``).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from ..data import ERASED_ADDRESS, register_personal_data, register_retention_need
from .app_settings import app_settings
from .events import ABANDONED_CART
from .models import CartCoupon, CartRecovery


def export_carts(address: str) -> dict[str, list[dict]]:
    recoveries = CartRecovery.objects.filter(recipient__iexact=address).order_by("recovered_at", "id")
    coupons = (
        CartCoupon.objects.filter(recipient__iexact=address)
        .select_related("rule")
        .order_by("issued_at", "id")
    )
    return {
        "recoveries": [
            {
                "order_number": r.order_reference,
                "reminded_at": r.reminded_at,
                "recovered_at": r.recovered_at,
                "step": r.step,
                "coupon": r.coupon_code,
                "revenue": r.revenue,
                "currency": r.currency,
            }
            for r in recoveries
        ],
        "coupons": [_coupon(c) for c in coupons],
    }


def _coupon(coupon: CartCoupon) -> dict:
    """One code as the customer may see it: a hook's code has only the
    first three keys' values (its terms live in the shop's own system)."""
    return {
        "code": coupon.code,
        "step": coupon.step,
        "issued_at": coupon.issued_at,
        "rule": coupon.rule.name if coupon.rule is not None else "",
        "discount": coupon.kind,
        "value": coupon.value,
        "currency": coupon.currency,
        "minimum_cart_value": coupon.minimum_cart_value,
        "expires_at": coupon.expires_at,
        "used_at": coupon.redeemed_at,
        "used_for_order": coupon.redeemed_order,
    }


def erase_carts(address: str, keyed_hash: str, *, now: datetime | None = None) -> int:
    now = now or timezone.now()
    n = CartRecovery.objects.filter(recipient__iexact=address).update(recipient=ERASED_ADDRESS)
    coupons = CartCoupon.objects.filter(recipient__iexact=address)
    # A rule's code not used yet ends now, its expiry moved forward only.
    unused = coupons.exclude(kind="").filter(redeemed_at__isnull=True)
    unused.filter(Q(expires_at__isnull=True) | Q(expires_at__gt=now)).update(expires_at=now)
    return n + coupons.update(recipient=ERASED_ADDRESS)


def attribution_hours() -> float:
    """How long a reminder may still be credited with an order."""
    return max(
        app_settings.ABANDONED_CART_ATTRIBUTION_HOURS, 24 * app_settings.ABANDONED_CART_LINK_MAX_AGE_DAYS
    )


def attribution_window(now: datetime) -> datetime:
    """Reminders sent after this may still be credited with an order."""
    return now - timedelta(hours=attribution_hours())


def coupon_days() -> float:
    """How long the rationing policy reads a coupon (``once_per_days``)."""
    return (app_settings.ABANDONED_CART_COUPON_POLICY or {}).get("once_per_days") or 0


def protect_reminders(now: datetime) -> Q:
    return Q(event=ABANDONED_CART, sent_at__gte=attribution_window(now))


def expire_carts(cutoff: datetime, run) -> int:
    recoveries = CartRecovery.objects.filter(recovered_at__lt=min(cutoff, attribution_window(run.now)))
    n = run.update(recoveries.exclude(recipient=ERASED_ADDRESS), recipient=ERASED_ADDRESS)
    coupon_cutoff = min(cutoff, run.now - timedelta(days=coupon_days()))
    return n + run.delete(CartCoupon.objects.filter(issued_at__lt=coupon_cutoff))


def register() -> None:
    register_personal_data(
        "carts",
        verbose_name=_("recovered carts and coupons"),
        export=export_carts,
        erase=erase_carts,
        retention=expire_carts,
        retention_days=730,
        protect_outbox=protect_reminders,
    )
    # Kept anyway (protect_reminders, expire_carts): checks W007 say so.
    window = (
        "the abandoned-cart attribution window (ABANDONED_CART_ATTRIBUTION_HOURS or, if longer, "
        "ABANDONED_CART_LINK_MAX_AGE_DAYS)"
    )
    for kind, effect in (
        ("send_log", "the reminders sent within it are kept until it closes"),
        ("carts", "the recoveries within it keep their address until it closes"),
    ):
        register_retention_need(
            kind, days=lambda: attribution_hours() / 24, needed_by=window, effect=effect, kept=True
        )
    register_retention_need(
        "carts",
        days=coupon_days,
        needed_by="the coupon policy's once_per_days (ABANDONED_CART_COUPON_POLICY)",
        effect="the coupons it still reads are kept until then",
        kept=True,
    )
