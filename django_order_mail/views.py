"""Customer landing pages reached from links in emails.

Every link is a signed token (see :mod:`rendering.links`); a tampered or
expired one gets a friendly page with a 400 status and changes nothing.
"""

from __future__ import annotations

from django.core import signing
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from .outbox.models import OutboxEmail
from .rendering.branding import get_branding
from .rendering.links import read_token


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


@never_cache
@require_GET
def feedback(request, token):
    """Landing page of the feedback request (the full survey arrives with the
    feedback feature; this page already validates the link)."""
    try:
        payload = read_token("feedback", token)
    except signing.SignatureExpired:
        return link_problem(request, expired=True)
    except signing.BadSignature:
        return link_problem(request, expired=False)
    email = OutboxEmail.objects.filter(pk=payload.get("e")).only("pk", "reference").first()
    if email is None:
        return link_problem(request, expired=False, status=404)
    try:
        score = int(request.GET.get("score", ""))
    except ValueError:
        score = None
    if score is not None and not 1 <= score <= 5:
        score = None
    return render(
        request,
        "django_order_mail/pages/feedback_thanks.html",
        {"score": score, "order_number": email.reference, "shop": get_branding()},
    )
