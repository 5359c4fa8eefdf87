"""What staff emails show besides the order: its page in the admin, the threshold.

A receiver of the core's ``collect_context`` (``docs/signals.rst``) for
every internal event, connected by the core's app config:

* ``order_admin_url``: the absolute URL of the order's change page in the
  admin. The order's ``get_mail_admin_url()`` if the model has it (a path or
  an absolute URL: for a shop whose order admin is on another admin site),
  else the default admin site's ``admin:<app>_<model>_change``; "" when
  the order is not in the admin (the email then names the order only).
* ``high_value``: for ``high_value_order``, ``{"total", "threshold",
  "currency"}`` as they were when the order crossed the threshold.
"""

from __future__ import annotations

import logging

from django.urls import NoReverseMatch, reverse

from ..events import INTERNAL_EVENTS, StaffEvent
from ..rendering.links import absolute
from ..signals import collect_context

logger = logging.getLogger("django_order_mail.rendering")


def order_admin_url(order) -> str:
    """The absolute URL of ``order``'s page in the admin, or ""."""
    hook = getattr(order, "get_mail_admin_url", None)
    if hook is not None:
        try:
            url = str(hook() or "")
        except Exception:  # a broken hook costs the link, not the email
            logger.exception("get_mail_admin_url() failed on %r", order)
            return ""
        return url if not url.startswith("/") else absolute(url)
    meta = getattr(order, "_meta", None)
    if meta is None or getattr(order, "pk", None) is None:
        return ""  # a sample order of a staff preview, or not a model
    try:
        return absolute(reverse(f"admin:{meta.app_label}_{meta.model_name}_change", args=[order.pk]))
    except NoReverseMatch:  # the admin is not installed, or the order is not registered there
        return ""


def add_staff_context(sender, event, order, context, email_id=None, extra=None, **kwargs) -> None:
    if event not in INTERNAL_EVENTS:
        return
    context.setdefault("order_admin_url", order_admin_url(order))
    if event == StaffEvent.HIGH_VALUE_ORDER:
        extra = extra or {}
        context["high_value"] = {
            "total": extra.get("order_total", ""),
            "threshold": extra.get("threshold", ""),
            "currency": extra.get("threshold_currency", ""),
        }


def connect() -> None:
    collect_context.connect(add_staff_context, dispatch_uid="django_order_mail.notifications.context")
