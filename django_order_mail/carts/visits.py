"""What a visit of the cart-restore link may change, how often, and in
which language the link's pages answer.

A restore link is a GET that anyone holding the link (the customer, a mail
scanner, whoever the email was forwarded to) can repeat for
``ABANDONED_CART_LINK_MAX_AGE_DAYS``. So:

* **Rate limits** (``ABANDONED_CART_RATE_LIMIT``, counted like the survey
  pages' by :mod:`django_order_mail.ratelimit`, in counters of
  their own): per link and per client IP. The link is identified by its
  signed payload (the reminder row), not by the token string: every render
  signs a new token for the same row, so counting strings would give each
  copy of the link a fresh allowance.
* **One recorded visit per cart per** :data:`VISIT_WINDOW`: the visit's log
  line on the reminder and the restart of the cart's idle clock (which
  postpones the next reminder) happen at most once per window, however
  often the link is opened. Putting the cart back into the visitor's
  session happens on every visit: a second device needs it too.
* **Language**: every page of the link (the "not available" pages, the
  tampered, expired and "slow down" pages) answers in the language of the
  email the link came from, never the browser's ``Accept-Language``.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.core import signing
from django.db import transaction
from django.utils import timezone

from .. import ratelimit
from ..outbox.models import EmailLog, OutboxEmail
from ..rendering.i18n import resolve_language
from ..rendering.links import read_token
from .app_settings import app_settings
from .events import ABANDONED_CART
from .links import PURPOSE

#: At most one recorded visit (log line + idle-clock restart) per cart within this.
VISIT_WINDOW = timedelta(minutes=30)
#: The status of a visit's line in the reminder's send log.
VISIT_STATUS = "restore"
SCOPE = "cart_restore"
#: Old enough for any token: an expired link still tells which email it came from.
_ANY_AGE_DAYS = 100 * 366


def allowed(request, email_id: int | None) -> bool:
    """Count this request; False when the link or the client IP is over its
    limit. ``email_id`` None (a token that is not ours) counts the IP only."""
    conf = app_settings.ABANDONED_CART_RATE_LIMIT or {}
    ident = None if email_id is None else f"email:{email_id}"
    return ratelimit.allow(request, ident, scope=SCOPE, conf=conf)


def expired_email_id(token: str) -> int | None:
    """The reminder row a correctly signed but expired token names (its
    pages answer in that email's language); None for anything else."""
    try:
        email_id = read_token(PURPOSE, token, max_age_days=_ANY_AGE_DAYS).get("e")
    except (signing.BadSignature, AttributeError):
        return None
    return email_id if isinstance(email_id, int) and not isinstance(email_id, bool) else None


def reminder(email_id: int | None) -> OutboxEmail | None:
    if email_id is None:
        return None
    return (
        OutboxEmail.objects.select_related("content_type").filter(pk=email_id, event=ABANDONED_CART).first()
    )


def page_language(row: OutboxEmail | None) -> str:
    """The language of the email ``row`` (the project's default without one)."""
    language = (row.language if row is not None else "") or ""
    return resolve_language(language, default=settings.LANGUAGE_CODE)


def record_visit(row: OutboxEmail, cart, *, now: datetime | None = None) -> bool:
    """Log the visit on ``row`` and restart ``cart``'s idle clock, unless a
    visit of this cart (through any of its reminders) was recorded within
    :data:`VISIT_WINDOW`. Returns whether this one was recorded."""
    now = now or timezone.now()
    with transaction.atomic():
        # Two clicks at once: the second waits here and then sees the first's line.
        type(cart)._default_manager.select_for_update().filter(pk=cart.pk).values_list("pk").first()
        recent = EmailLog.objects.filter(
            status=VISIT_STATUS,
            created_at__gt=now - VISIT_WINDOW,
            email__content_type_id=row.content_type_id,
            email__object_id=row.object_id,
            email__event=ABANDONED_CART,
        )
        if recent.exists():
            return False
        EmailLog.objects.create(
            email=row,
            status=VISIT_STATUS,
            message="the customer opened the cart-restore link",
            created_at=now,
        )
        cart.touch(now=now)
    return True
