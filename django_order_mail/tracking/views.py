"""Unsubscribe (RFC 8058 one-click) and email preference pages.

Both are reached through a signed token that carries only the outbox row id;
the address is looked up on the server, so the link reveals nothing.

* ``POST unsubscribe/<token>/`` is the one-click endpoint a mail client calls
  for the ``List-Unsubscribe-Post`` header: no cookie, no CSRF token, no
  login (the signed token is the secret). It also serves the button of the
  confirmation page.
* ``GET unsubscribe/<token>/`` only shows that confirmation page. It never
  unsubscribes: link scanners and mail-security proxies open links.
* ``preferences/<token>/`` lets the customer choose per commercial email and
  undo an unsubscribe. Transactional email (order confirmations, shipping)
  is not optional and is not listed.

A link from a staff preview or test email (a preview token, or a token of
an ``is_test`` row) unsubscribes nobody: both views answer it with the
"test email, nothing was recorded" page.
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_not_required  # Django >= 5.1
from django.core import signing
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from ..events import COMMERCIAL_EVENTS, get_event
from ..outbox.models import OutboxEmail
from ..rendering.branding import get_branding
from ..rendering.links import read_expired_email_token
from ..views import link_problem, preview_link, render_in
from .links import PURPOSE, preferences_url, read_unsubscribe_link, unsubscribe_url
from .models import Suppression
from .suppression import (
    blocked_for_all,
    effective_scope,
    set_preferences,
    suppress,
    unsubscribed_events,
)


def event_description(name: str):
    """What commercial email ``name`` is, in the customer's words: its
    registration's ``description`` (``docs/events.rst``), else its label."""
    event = get_event(name)
    if event is None:
        return name
    return event.description or event.label


def mask(address: str) -> str:
    """``t***@example.com``: enough for the customer to recognise it."""
    local, _at, domain = address.partition("@")
    return f"{local[:1]}***@{domain}" if domain else "***"


def _expired_language(token) -> str:
    """The language of the email an expired (correctly signed) link is from."""
    link = read_expired_email_token(PURPOSE, token)
    if link is None:
        return ""
    if link.preview_language is not None:  # link.is_preview
        return link.preview_language
    if link.email_id is None:  # not for a customer's link (it names its email)
        return ""
    return OutboxEmail.objects.filter(pk=link.email_id).values_list("language", flat=True).first() or ""


def _resolve(request, token):
    """``(row, address, None)`` or ``(None, None, error response)``. Every
    page is in the language of the email the link is from; a link that names
    no email gets the site's language (``""``), never the browser's."""
    try:
        link = read_unsubscribe_link(token)
    except signing.SignatureExpired:
        return None, None, link_problem(request, expired=True, language=_expired_language(token))
    except (signing.BadSignature, KeyError, TypeError, ValueError):
        return None, None, link_problem(request, expired=False, language="")
    if link.is_preview:
        return None, None, preview_link(request, link.preview_language)
    row = OutboxEmail.objects.select_related("content_type").filter(pk=link.email_id).first()
    if row is None:
        return None, None, link_problem(request, expired=False, status=404, language="")
    if row.is_test:  # e.g. the List-Unsubscribe header of a staff test email
        return None, None, preview_link(request, row.language)
    address = row.recipient
    if not address:
        order = row.order
        address = (order.get_mail_recipient() if order is not None else "") or ""
    if not address:
        return None, None, link_problem(request, expired=False, status=404, language=row.language)
    return row, address, None


def _page(request, template, row, address, token, **extra):
    context = {
        "shop": get_branding(),
        "masked_address": mask(address),
        "order_number": row.reference,
        "unsubscribe_url": unsubscribe_url(row.pk),
        "preferences_url": preferences_url(row.pk),
        "token": token,
        **extra,
    }
    response = render_in(request, row.language or "", template, context)
    response["X-Robots-Tag"] = "noindex"
    return response


@csrf_exempt
@login_not_required
@never_cache
@require_http_methods(["GET", "POST"])
def unsubscribe(request, token):
    row, address, problem = _resolve(request, token)
    if problem is not None:
        return problem
    if request.method == "POST":
        one_click = request.POST.get("List-Unsubscribe") == "One-Click"
        how = "one-click unsubscribe" if one_click else "unsubscribe page"
        _entry, created = suppress(
            address, Suppression.Reason.UNSUBSCRIBE, scope=Suppression.Scope.COMMERCIAL, source=how, email=row
        )
        if created:
            row.log("unsubscribed", f"customer unsubscribed from commercial emails ({how})")
        return _page(request, "django_order_mail/tracking/unsubscribed.html", row, address, token)
    return _page(
        request,
        "django_order_mail/tracking/unsubscribe.html",
        row,
        address,
        token,
        event_descriptions=[event_description(e) for e in COMMERCIAL_EVENTS],
    )


@csrf_exempt
@login_not_required
@never_cache
@require_http_methods(["GET", "POST"])
def preferences(request, token):
    row, address, problem = _resolve(request, token)
    if problem is not None:
        return problem
    saved = False
    if request.method == "POST":
        wanted = set(request.POST.getlist("events"))
        before = unsubscribed_events(address)
        after = set_preferences(address, wanted, source="preferences page", email=row)
        if after != before:
            row.log("preferences", f"customer email preferences: not wanted {sorted(after) or 'none'}")
        saved = True
    unwanted = unsubscribed_events(address)
    blocked = blocked_for_all(address)  # a bounce, complaint or staff entry the customer cannot lift
    choices = [
        {"value": e, "label": event_description(e), "checked": e not in unwanted} for e in COMMERCIAL_EVENTS
    ]
    return _page(
        request,
        "django_order_mail/tracking/preferences.html",
        row,
        address,
        token,
        choices=choices,
        saved=saved,
        blocked=blocked is not None,
        orders_only=blocked is not None and effective_scope(blocked) != Suppression.Scope.ALL,
    )
