"""The cart-restore link of abandoned-cart reminders.

``GET cart/restore/<token>/`` checks the signed token, puts the cart back
into the visitor's session through the shop's hook
(``AbandonedCartMixin.restore_for_request``), leaves a signed marker in the
session so the order placed next is credited to the reminder, and redirects
to the shop's checkout page.

A tampered or expired link, or a cart that is gone or already ordered, gets
a friendly page with a 4xx status and changes nothing.
"""

from __future__ import annotations

from django.core import signing
from django.http import HttpResponseRedirect
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from ..events import MailEvent
from ..outbox.models import OutboxEmail
from ..rendering.branding import get_branding
from ..views import link_problem
from .links import mark_session, read_restore_token
from .mixins import AbandonedCartMixin

try:
    from django.contrib.auth.decorators import login_not_required
except ImportError:  # Django < 5.1 has no LoginRequiredMiddleware

    def login_not_required(view):
        return view


def _unavailable(request, title: str, message: str, status: int):
    response = render(
        request,
        "django_order_mail/carts/unavailable.html",
        {"title": title, "message": message, "shop": get_branding()},
        status=status,
    )
    response["X-Robots-Tag"] = "noindex"
    return response


@login_not_required
@never_cache
@require_GET
def restore(request, token):
    try:
        email_id = read_restore_token(token)
    except signing.SignatureExpired:
        return link_problem(request, expired=True)
    except (signing.BadSignature, KeyError, TypeError, ValueError):
        return link_problem(request, expired=False)
    row = (
        OutboxEmail.objects.select_related("content_type")
        .filter(pk=email_id, event=MailEvent.ABANDONED_CART)
        .first()
    )
    if row is None:
        return link_problem(request, expired=False, status=404)
    cart = row.order
    if not isinstance(cart, AbandonedCartMixin):
        return _unavailable(
            request,
            _("This cart is no longer available"),
            _("We could not find the items of this cart any more. You are welcome to start a new one."),
            410,
        )
    if cart.ordered_at is not None:
        return _unavailable(
            request,
            _("You already placed this order"),
            _("Thank you! The items of this cart were ordered, so there is nothing left to restore."),
            410,
        )
    if cart.emptied_at is not None or not cart.get_cart_items():
        return _unavailable(
            request,
            _("This cart is empty now"),
            _("The items were removed from this cart. You are welcome to start a new one."),
            410,
        )
    coupon = (row.extra or {}).get("coupon") or {}
    cart.restore_for_request(request, coupon=str(coupon.get("code", "")) if isinstance(coupon, dict) else "")
    mark_session(request, row.pk)
    row.log("restore", "the customer opened the cart-restore link")
    return HttpResponseRedirect(cart.get_checkout_url(request))
