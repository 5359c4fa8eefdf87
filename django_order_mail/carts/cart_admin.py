"""Columns for the shop's own cart admin: value, status, next reminder.

The cart model is the shop's, so is its admin; it adds
:class:`AbandonedCartAdminMixin` in front of ``admin.ModelAdmin``
(``docs/abandoned-cart.rst``):

.. code-block:: python

   @admin.register(Cart)
   class CartAdmin(AbandonedCartAdminMixin, admin.ModelAdmin):
       list_display = ("__str__", "email", "cart_value", "cart_status", "next_reminder")
       cart_value_expression = Sum(F("lines__quantity") * F("lines__product__price"))

The list stays fast: the sequence is read once per page, status and next
reminder come from the cart's own columns, and the value is computed by the
database from ``cart_value_expression`` (an annotation). Without one the
value comes from ``get_cart_total()`` per row, which costs a query per cart
unless ``get_queryset()`` prefetches what it reads.
"""

from __future__ import annotations

from contextvars import ContextVar
from datetime import datetime, timedelta

from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from ..templatetags.order_mail import money
from .app_settings import app_settings
from .sequence import Step, configured_steps

#: The annotation the value column reads.
VALUE = "_order_mail_cart_value"

_page_steps: ContextVar[list[Step] | None] = ContextVar("order_mail_cart_admin_steps", default=None)


def next_reminder(cart, steps: list[Step], now: datetime) -> tuple[Step, datetime] | None:
    """The next step ``cart`` will get and when the scan will write it, or
    None (sequence done, cart closed, or idle too long when first found)."""
    if (
        cart.ordered_at is not None
        or cart.emptied_at is not None
        or cart.reminders_off
        or cart.email_captured_at is None
    ):
        return None
    step = next((s for s in steps if s.number > cart.reminder_step), None)
    if step is None:
        return None
    due = cart.last_activity_at + step.after
    if cart.reminder_step == 0:
        if now - cart.last_activity_at >= timedelta(hours=app_settings.ABANDONED_CART_MAX_IDLE_HOURS):
            return None  # the scan never reminds a cart found this late
    elif cart.last_reminded_at is not None:
        due = max(due, cart.last_reminded_at + step.gap)
    return step, due


class AbandonedCartAdminMixin:
    """``cart_value``, ``cart_status`` and ``next_reminder`` columns for a
    cart model built on :class:`~.mixins.AbandonedCartMixin`."""

    #: A database expression of the cart's value (summed over its lines),
    #: annotated onto the list's query; None: ``get_cart_total()`` per row.
    cart_value_expression = None

    def get_queryset(self, request):
        qs = super().get_queryset(request)
        if self.cart_value_expression is not None:
            qs = qs.annotate(**{VALUE: self.cart_value_expression})
        return qs

    def changelist_view(self, request, extra_context=None):
        token = _page_steps.set(configured_steps())
        try:
            response = super().changelist_view(request, extra_context)
            # The columns are computed while the page renders: render it while
            # the sequence read for this page is at hand.
            if hasattr(response, "render") and not getattr(response, "is_rendered", True):
                response.render()
            return response
        finally:
            _page_steps.reset(token)

    @staticmethod
    def _steps() -> list[Step]:
        steps = _page_steps.get()
        return steps if steps is not None else configured_steps()

    def cart_value(self, obj):
        value = getattr(obj, VALUE) if hasattr(obj, VALUE) else obj.get_cart_total()
        return money(value or 0, obj.get_cart_currency())

    cart_value.short_description = _("value")  # type: ignore[attr-defined]

    def cart_status(self, obj):
        if obj.ordered_at is not None:
            return gettext("Ordered")
        if obj.emptied_at is not None:
            return gettext("Emptied")
        if obj.reminders_off:
            return gettext("Reminders off")
        if obj.email_captured_at is None:
            return gettext("No email address")
        if obj.reminder_step:
            return gettext("Open, reminded (step %(step)s)") % {"step": obj.reminder_step}
        return gettext("Open")

    cart_status.short_description = _("status")  # type: ignore[attr-defined]

    def next_reminder(self, obj):
        now = timezone.now()
        found = next_reminder(obj, self._steps(), now)
        if found is None:
            return "–"
        step, due = found
        if due <= now:
            return gettext("Step %(step)s: due now (next scan)") % {"step": step.number}
        return gettext("Step %(step)s at %(when)s") % {
            "step": step.number,
            "when": date_format(timezone.localtime(due), "SHORT_DATETIME_FORMAT"),
        }

    next_reminder.short_description = _("next reminder")  # type: ignore[attr-defined]
