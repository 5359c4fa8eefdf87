"""The cart-restore link of abandoned-cart reminders.

``GET cart/restore/<token>/`` checks the signed token, puts the cart back
into the visitor's session through the shop's hook
(``AbandonedCartMixin.restore_for_request``), leaves a signed marker in the
session so the order placed next is credited to the reminder, and redirects
to the shop's checkout page.

A tampered or expired link, or a cart that is gone or already ordered, gets
a friendly page with a 4xx status and changes nothing; so does a link opened
too often (429, :mod:`.visits`). Every page answers in the language of the
email the link came from, not the browser's. A link from a staff
preview or test email restores nothing and gets the "test email" page.
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_not_required  # Django >= 5.1
from django.core import signing
from django.http import HttpResponseRedirect
from django.shortcuts import render
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from ..rendering.branding import get_branding
from ..views import link_problem, preview_link
from . import visits
from .links import mark_session, read_restore_link
from .mixins import AbandonedCartMixin


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
    expired = False
    try:
        link = read_restore_link(token)
    except signing.SignatureExpired:
        link, expired = None, True
    except (signing.BadSignature, KeyError, TypeError, ValueError):
        link = None
    if link is not None and link.is_preview:
        return preview_link(request, link.preview_language)
    # The link is counted and answered by what its signed payload names (an
    # expired one still names its email), never by the token string.
    email_id = link.email_id if link is not None else (visits.expired_email_id(token) if expired else None)
    row = visits.reminder(email_id)
    with translation.override(visits.page_language(row)):
        response = _answer(request, email_id, row, expired=expired)
        response["Content-Language"] = translation.get_language()
    return response


def _answer(request, email_id, row, *, expired: bool):
    if not visits.allowed(request, email_id):
        return _unavailable(
            request,
            _("Too many requests"),
            _("This link was opened very often in a short time. Please try again in a while."),
            429,
        )
    if expired or email_id is None:
        return link_problem(request, expired=expired)
    if row is None:
        return link_problem(request, expired=False, status=404)
    if row.is_test:
        return preview_link(request, row.language)
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
    # Every visit puts the cart into this visitor's session; the log line and
    # the idle-clock restart happen at most once per cart per VISIT_WINDOW.
    cart.restore_for_request(request, coupon=str(coupon.get("code", "")) if isinstance(coupon, dict) else "")
    mark_session(request, row.pk)
    visits.record_visit(row, cart)
    return HttpResponseRedirect(cart.get_checkout_url(request))
