"""The tracking feature's part in every send, as receivers of the core's
signals (``docs/signals.rst``), connected by the app config in this order:

1. :func:`stop_suppressed` (``pre_send``): an address on the suppression list
   is not sent what its entry stops (:func:`.suppression.blocks`); the row
   becomes ``suppressed`` with the entry's description.
2. :func:`choose_subject` (``pre_render``, after every check and the core's
   frequency cap, so only an email that is sent gets a variant): the subject
   A/B test's variant, kept with the row (:class:`.models.SubjectAssignment`,
   :mod:`.ab`).
3. :func:`unsubscribe_headers` (``pre_render``): RFC 8058 one-click
   unsubscribe headers on commercial mail.
4. :func:`drop_promotion` (``pre_render``): no recommendations or referral
   offer for a customer who left all commercial email.

:func:`prime_recipients` (``emails_claimed``) fetches a batch's suppression
entries in one query; :func:`add_unsubscribe_url` (``collect_context``) gives
commercial emails their ``unsubscribe_url``.
"""

from __future__ import annotations

from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext

from ..events import COMMERCIAL_EVENTS
from ..exceptions import SendVetoed
from ..outbox.models import Status
from .ab import choose_variant
from .links import unsubscribe_url
from .suppression import prime_suppressions, suppression_for, wants_no_promotion


def prime_recipients(sender, emails, **kwargs) -> None:
    # The address stored at enqueue time; if the order's address changed
    # since, suppression_for() looks the new one up on its own.
    prime_suppressions([row.recipient for row in emails])


def stop_suppressed(sender, email, order, draft, **kwargs) -> None:
    """Checked against the address actually used, right before sending."""
    entry = suppression_for(draft.recipient, email.event)
    if entry is None:
        return
    raise SendVetoed(
        entry.describe(),
        status=Status.SUPPRESSED,
        staff_message=gettext("%(address)s is on the suppression list (%(reason)s, since %(date)s)")
        % {
            "address": entry.address,
            "reason": entry.get_reason_display(),
            "date": date_format(timezone.localtime(entry.created_at), "SHORT_DATE_FORMAT"),
        },
        fields={"recipient": draft.recipient[:254]},
    )


def choose_subject(sender, email, order, draft, **kwargs) -> None:
    if draft.dry_run:
        return
    variant = choose_variant(email)  # kept with the row: a retry keeps it
    if variant is not None:
        draft.subject_template = variant.subject


def unsubscribe_headers(sender, email, order, draft, **kwargs) -> None:
    if email.event in COMMERCIAL_EVENTS and email.pk is not None:
        # RFC 8058 one-click unsubscribe (Gmail/Yahoo require it for
        # commercial mail); the POST needs no cookie or login.
        draft.headers["List-Unsubscribe"] = f"<{unsubscribe_url(email.pk)}>"
        draft.headers["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"


def drop_promotion(sender, email, order, draft, **kwargs) -> None:
    """No recommendations or referral offer in the order emails of a customer
    who left all commercial email (:func:`.suppression.wants_no_promotion`)."""
    if not email.is_test and wants_no_promotion(draft.recipient):
        draft.context["recommended_products"] = []
        draft.context["referral"] = None


def add_unsubscribe_url(sender, event, context, email_id=None, **kwargs) -> None:
    if email_id is not None and event in COMMERCIAL_EVENTS:
        # Opens the confirmation page; the one-click POST is in the header.
        context["unsubscribe_url"] = unsubscribe_url(email_id)
