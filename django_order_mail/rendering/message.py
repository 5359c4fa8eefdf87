"""Turn a rendered email into the message Anymail (or any Django backend) sends."""

from __future__ import annotations

from django.core.mail import EmailMultiAlternatives

from ..app_settings import app_settings
from ..streams import esp_extra_for
from .branding import from_email, get_branding
from .render import RenderedEmail


def build_message(
    row,
    rendered: RenderedEmail,
    *,
    recipient: str | None = None,
    headers: dict | None = None,
    connection=None,
) -> EmailMultiAlternatives:
    """One message to ``recipient`` (default: the row's current recipient,
    :meth:`~django_order_mail.outbox.models.OutboxEmail.current_recipient`),
    tagged with the event and the outbox row; ``headers`` are added (the
    :data:`~django_order_mail.signals.pre_render` receivers' ones, such as the
    unsubscribe feature's ``List-Unsubscribe``)."""
    if recipient is None:
        recipient = row.current_recipient()
    support = get_branding().get("support_email")
    message = EmailMultiAlternatives(
        subject=rendered.subject,
        body=rendered.text,
        from_email=from_email(),
        to=[recipient],
        reply_to=[support] if support else None,
        connection=connection,
        headers={"X-Order-Mail-Id": str(row.pk), **(headers or {})},
    )
    if rendered.html:
        message.attach_alternative(rendered.html, "text/html")
    # Anymail reads these attributes; other backends ignore them.
    message.tags = [row.event, *app_settings.TAGS]  # type: ignore[attr-defined]  # Anymail's extra attribute
    extra = esp_extra_for(row.event)
    if extra:  # the event's mail stream (docs/settings.rst: MAIL_STREAMS)
        message.esp_extra = extra  # type: ignore[attr-defined]  # Anymail's extra attribute
    message.metadata = {  # type: ignore[attr-defined]  # Anymail's extra attribute
        "order": row.reference or row.object_id,
        "event": row.event,
        "outbox_id": str(row.pk),
        "channel": row.channel,
    }
    return message
