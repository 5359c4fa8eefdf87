"""Shared pieces of the customer landing pages (feedback, unsubscribe, cart
restore live in their own packages).

Every link is a signed token (see :mod:`rendering.links`); a tampered or
expired one gets :func:`link_problem`, a friendly page with a 400 status,
and changes nothing.
"""

from __future__ import annotations

from django.shortcuts import render
from django.utils.translation import gettext as _

from .rendering.branding import get_branding


def link_problem(request, *, expired: bool, status: int = 400):
    if expired:
        title = _("This link has expired")
        message = _(
            "Links in our emails stay valid for a limited time. Please contact us if you still need help."
        )
    else:
        title = _("This link is not valid")
        message = _("The link may have been cut off or changed. Please open it again from the email.")
    return render(
        request,
        "django_order_mail/pages/link_problem.html",
        {"title": title, "message": message, "shop": get_branding()},
        status=status,
    )
