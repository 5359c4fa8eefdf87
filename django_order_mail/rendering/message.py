"""Turn a rendered email into the message Anymail (or any Django backend) sends."""

from __future__ import annotations

from django.core.mail import EmailMultiAlternatives

from ..conf import get_setting
from ..events import COMMERCIAL_EVENTS, INTERNAL_EVENTS
from ..tracking.links import unsubscribe_url
from .branding import from_email, get_branding
from .render import RenderedEmail


def build_message(row, rendered: RenderedEmail, *, connection=None) -> EmailMultiAlternatives:
    """One message to the order's *current* address (a fixed typo is honoured
    by a retry or a resend), tagged with the event and the outbox row."""
    order = row.order
    if row.is_test or row.event in INTERNAL_EVENTS:  # staff mail: never to the customer
        recipient = row.recipient
    else:
        recipient = (order.get_mail_recipient() if order is not None else "") or row.recipient
    support = get_branding().get("support_email")
    message = EmailMultiAlternatives(
        subject=rendered.subject,
        body=rendered.text,
        from_email=from_email(),
        to=[recipient],
        reply_to=[support] if support else None,
        connection=connection,
        headers={"X-Order-Mail-Id": str(row.pk)},
    )
    if rendered.html:
        message.attach_alternative(rendered.html, "text/html")
    if row.event in COMMERCIAL_EVENTS and row.pk is not None:
        # RFC 8058 one-click unsubscribe (Gmail/Yahoo require it for
        # commercial mail); the POST needs no cookie or login.
        message.extra_headers["List-Unsubscribe"] = f"<{unsubscribe_url(row.pk)}>"
        message.extra_headers["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    # Anymail reads these attributes; other backends ignore them.
    message.tags = [row.event, *get_setting("TAGS")]
    message.metadata = {
        "order": row.reference or row.object_id,
        "event": row.event,
        "outbox_id": str(row.pk),
        "channel": row.channel,
    }
    return message
