"""Which reminder gets the credit for an order (recovered revenue).

An order counts as recovered when a *sent* reminder led to it, checked in
this order (the first match wins):

1. **restore link** — the checkout session carries the signed marker the
   restore link left, younger than ``ABANDONED_CART_ATTRIBUTION_HOURS``;
2. **cart** — the cart that became the order was itself reminded within the
   window;
3. **window** — the customer's address got a reminder within the window
   before the order (the shop did not say which cart it was).

The credited reminder is the latest one (last touch). One recovery per cart
and per order: recording an order again returns what was recorded.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

from django.contrib.contenttypes.models import ContentType
from django.db import IntegrityError, transaction
from django.utils import timezone

from ..lifecycle.hooks import call_hook, order_total, to_amount
from ..outbox.addresses import normalize_address
from ..outbox.models import OutboxEmail, Status
from .app_settings import app_settings
from .events import ABANDONED_CART
from .links import clear_session, session_reminder_id
from .models import CartRecovery


def sent_reminders():
    return OutboxEmail.objects.filter(event=ABANDONED_CART, status=Status.SENT, is_test=False)


def order_revenue(order, cart=None) -> tuple[Decimal | None, str]:
    """The order's total and currency (:func:`~django_order_mail.lifecycle.hooks.order_total`),
    each taken from the cart (``get_cart_total()``, ``get_cart_currency()``)
    when the order cannot tell."""
    amount, currency = order_total(order)
    if cart is not None:
        if amount is None:
            amount = to_amount(call_hook(cart, "get_cart_total"))
        if not currency:
            currency = str(call_hook(cart, "get_cart_currency", "")).strip()[:3].upper()
    return amount, currency


def _belongs_to(row: OutboxEmail, cart) -> bool:
    ct = ContentType.objects.get_for_model(cart)
    return row.content_type_id == ct.pk and row.object_id == str(cart.pk)


def find_reminder(order, *, cart=None, request=None, now: datetime | None = None):
    """``(reminder row, source)`` that gets the credit for ``order``, or
    ``(None, "")``."""
    now = now or timezone.now()
    since = now - timedelta(hours=app_settings.ABANDONED_CART_ATTRIBUTION_HOURS)
    reminder_id = session_reminder_id(request)
    if reminder_id is not None:
        row = sent_reminders().filter(pk=reminder_id).first()
        if row is not None and (cart is None or _belongs_to(row, cart)):
            return row, CartRecovery.Source.RESTORE_LINK
    in_window = sent_reminders().filter(sent_at__gte=since, sent_at__lte=now).order_by("-sent_at", "-pk")
    if cart is not None and cart.pk is not None:
        ct = ContentType.objects.get_for_model(cart)
        row = in_window.filter(content_type=ct, object_id=str(cart.pk)).first()
        if row is not None:
            return row, CartRecovery.Source.CART
    address = call_hook(order, "get_mail_recipient", "")
    if not address and cart is not None:
        address = cart.get_mail_recipient()
    if address:
        row = in_window.filter(recipient__iexact=normalize_address(address)).first()
        if row is not None:
            return row, CartRecovery.Source.WINDOW
    return None, ""


def record_order(
    order, *, cart=None, request=None, now: datetime | None = None, revenue=None, currency: str = ""
) -> CartRecovery | None:
    """Record ``order`` as recovered if a reminder led to it; the recovery
    (new or recorded before) or None.

    Call it for every order the shop places (``AbandonedCartMixin.mark_ordered``
    does): pass the cart if you know it and the checkout ``request`` so a
    restore-link visit is credited. A reminded cart found by address alone
    stops its sequence here too.
    """
    now = now or timezone.now()
    reminder, source = find_reminder(order, cart=cart, request=request, now=now)
    if reminder is None:
        return None
    amount, code = order_revenue(order, cart if cart is not None and _belongs_to(reminder, cart) else None)
    if revenue is not None:
        amount = Decimal(str(revenue)).quantize(Decimal("0.01"))
    coupon = reminder.extra.get("coupon") if isinstance(reminder.extra, dict) else None
    recovery = CartRecovery(
        cart_type_id=reminder.content_type_id,
        cart_id=reminder.object_id,
        reminder=reminder,
        step=int(reminder.extra.get("step") or 1) if isinstance(reminder.extra, dict) else 1,
        reminded_at=reminder.sent_at,
        recipient=normalize_address(reminder.recipient),
        source=source,
        revenue=amount,
        currency=(currency or code)[:3].upper(),
        coupon_code=str((coupon or {}).get("code", ""))[:100] if isinstance(coupon, dict) else "",
        recovered_at=now,
    )
    if order is not None and order.pk is not None:
        recovery.order_type = ContentType.objects.get_for_model(order)
        recovery.order_id = str(order.pk)
        recovery.order_reference = str(call_hook(order, "get_mail_order_number") or order.pk)[:64]
    existing = _existing(recovery)
    if existing is not None:
        return existing
    try:
        with transaction.atomic():
            recovery.save()
    except IntegrityError:  # recorded concurrently (a retried checkout): keep the first
        return _existing(recovery)
    if source == CartRecovery.Source.WINDOW:
        _close_reminded_cart(reminder, order, now)
    clear_session(request)
    reminder.log(
        "recovered", f"order {recovery.order_reference or '-'} attributed to this reminder ({source})"
    )
    return recovery


def _existing(recovery: CartRecovery) -> CartRecovery | None:
    by_cart = CartRecovery.objects.filter(cart_type_id=recovery.cart_type_id, cart_id=recovery.cart_id)
    if recovery.order_type_id is not None:
        by_order = CartRecovery.objects.filter(
            order_type_id=recovery.order_type_id, order_id=recovery.order_id
        )
        found = by_order.first()
        if found is not None:
            return found
    return by_cart.first()


def _close_reminded_cart(reminder: OutboxEmail, order, now: datetime) -> None:
    """The shop did not name the cart; the reminded one was evidently bought:
    no further reminders about it."""
    from .mixins import AbandonedCartMixin

    model = reminder.content_type.model_class()
    if model is None or not issubclass(model, AbandonedCartMixin):
        return
    fields: dict[str, object] = {"ordered_at": now}
    if order is not None and order.pk is not None:
        fields.update(
            placed_order_type=ContentType.objects.get_for_model(order), placed_order_id=str(order.pk)
        )
    model._default_manager.filter(pk=reminder.object_id, ordered_at__isnull=True).update(**fields)
