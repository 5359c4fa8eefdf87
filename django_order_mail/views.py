"""Shared pieces of the customer landing pages (feedback, unsubscribe, cart
restore live in their own packages).

Every link is a signed token (see :mod:`rendering.links`); a tampered or
expired one gets :func:`link_problem`, a friendly page with a 400 status,
and changes nothing. A link from a staff preview or test email gets
:func:`preview_link` and changes nothing either.

Pass the email's ``language`` when it is known (from the outbox row the
token names, or the preview marker): the customer reads the page in the
language of the email they clicked in, whatever their browser asks for.
"""

from __future__ import annotations

from django.conf import settings
from django.shortcuts import render
from django.utils import translation
from django.utils.translation import gettext_lazy as _

from .rendering.branding import get_branding
from .rendering.i18n import resolve_language


def render_in(request, language: str | None, template: str, context: dict, *, status: int = 200):
    """``template`` rendered in the supported language closest to
    ``language``; None: the request's active language (what the locale
    middleware chose), for a link that does not tell its email's language."""
    if language is None:
        return render(request, template, context, status=status)
    with translation.override(resolve_language(language, default=settings.LANGUAGE_CODE)):
        response = render(request, template, context, status=status)
        response["Content-Language"] = translation.get_language()
    return response


def link_problem(request, *, expired: bool, status: int = 400, language: str | None = None):
    if expired:
        title = _("This link has expired")
        message = _(
            "Links in our emails stay valid for a limited time. Please contact us if you still need help."
        )
    else:
        title = _("This link is not valid")
        message = _("The link may have been cut off or changed. Please open it again from the email.")
    return render_in(
        request,
        language,
        "django_order_mail/pages/link_problem.html",
        {"title": title, "message": message, "shop": get_branding()},
        status=status,
    )


def preview_link(request, language: str | None):
    """The page behind every link of a staff preview or test email: nothing
    was recorded, said in the email's language."""
    context = {
        "title": _("This is a test email"),
        "message": _(
            "Nothing was recorded: the links of a preview or test email never change "
            "a customer's answers, subscriptions or cart."
        ),
        "shop": get_branding(),
    }
    response = render_in(request, language or "", "django_order_mail/pages/link_problem.html", context)
    response["X-Robots-Tag"] = "noindex"
    return response
