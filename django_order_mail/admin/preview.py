"""What the admin previews render with, and "send me a test".

A preview renders against the sample order
(:class:`~django_order_mail.rendering.sample.SampleOrder`) or a real order
that staff pick by its number. A real order is found through the send log
(the newest email row with that order number gives its content type and id),
because the app does not know the shop's Order model; showing a real
customer's data therefore needs the send-log view permission as well.

The links of a preview (and so of the "send me a test" email, which holds
what the preview showed) are preview links
(:func:`~django_order_mail.rendering.links.preview_links`): they name no
outbox row, so opening one records nothing for the real customer (no
rating, no unsubscribe, no restored cart) and shows a "this is a test email"
page in the email's language.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext

from ..events import SHIPMENT_EVENTS
from ..exceptions import OrderMailError
from ..lifecycle.shipments import Shipment
from ..outbox.enqueue import publish_on_commit
from ..outbox.models import EmailLog, OutboxEmail, Status
from ..rendering.context import build_context
from ..rendering.i18n import resolve_language
from ..rendering.links import preview_links
from ..rendering.promotional import format_share, promotional_share, share_warning
from ..rendering.render import RenderedEmail
from ..rendering.sample import sample_context, sample_extra

LOG_VIEW_PERMISSION = "django_order_mail.view_outboxemail"


class PreviewError(OrderMailError):
    """Shown to staff instead of a preview."""


@dataclass
class PreviewSubject:
    context: dict
    label: str


def find_order(number: str):
    """The order whose emails carry ``number``, or None."""
    row = (
        OutboxEmail.objects.filter(reference=number, is_test=False)
        .order_by("-id")
        .values("content_type_id", "object_id")
        .first()
    )
    if row is None:
        return None
    model = ContentType.objects.get_for_id(row["content_type_id"]).model_class()
    if model is None:
        return None
    return model._default_manager.filter(pk=row["object_id"]).first()


def preview_subject(
    request, event: str, *, order_number: str = "", channel: str = "", language: str | None = None
) -> PreviewSubject:
    """The context to preview ``event`` with: the sample, or a real order.

    ``language`` is the email's (default: the editor's ``language`` field of
    the request); the preview links carry it for their "test email" page.
    """
    if language is None:
        language = request.POST.get("language") or request.POST.get("_language") or ""
    with preview_links(resolve_language(language, default=settings.LANGUAGE_CODE)):
        return _preview_subject(request, event, order_number=order_number, channel=channel)


def _preview_subject(request, event: str, *, order_number: str, channel: str) -> PreviewSubject:
    number = (order_number or "").strip()
    if not number:
        return PreviewSubject(sample_context(event, channel=channel or "web"), gettext("sample order"))
    if not request.user.has_perm(LOG_VIEW_PERMISSION):
        raise PreviewError(gettext("Previewing a real order needs the permission to view the send log."))
    order = find_order(number)
    if order is None:
        raise PreviewError(
            gettext("No email was ever written for order %(number)s, so it cannot be found.")
            % {"number": number}
        )
    rows = OutboxEmail.for_order(order).filter(event=event, is_test=False).order_by("-id")
    last = rows.values("pk", "extra").first()
    shipment = None
    if event in SHIPMENT_EVENTS:
        shipment = Shipment.for_order(order).order_by("-shipped_at", "-id").first()
    context = build_context(
        order,
        event,
        shipment=shipment,
        extra=last["extra"] if last else sample_extra(event),
        # Preview links name no row whatever the id: 0 when the order has
        # no such email yet, so the preview still shows its links.
        email_id=last["pk"] if last else 0,
    )
    return PreviewSubject(context, gettext("order %(number)s") % {"number": number})


def rendered_json(rendered: RenderedEmail, *, sender: str, recipient: str, label: str) -> dict:
    share = promotional_share(rendered.html)  # the CAN-SPAM 80/20 practice: rendering.promotional
    return {
        "ok": True,
        "subject": rendered.subject,
        "html": rendered.html,
        "text": rendered.text,
        "language": rendered.language,
        "from": sender,
        "to": recipient,
        "label": label,
        "size_kb": round(len(rendered.html.encode()) / 1024, 1),
        "promotional_share": format_share(share),
        "promotional_warning": share_warning(share),
    }


def queue_test_email(user, rendered: RenderedEmail, *, event: str, channel: str, label: str) -> OutboxEmail:
    """An ``is_test`` outbox row to ``user``'s address, holding what the
    preview showed; it goes through the configured ESP like any email and
    appears in the send log. It points at the staff user, not at an order,
    so it is never listed among a customer's emails."""
    now = timezone.now()
    with transaction.atomic():
        row = OutboxEmail.objects.create(
            idempotency_key=f"test:{uuid.uuid4().hex}",
            event=event,
            status=Status.QUEUED,
            content_type=ContentType.objects.get_for_model(user),
            object_id=str(user.pk),
            reference=f"test: {label}"[:64],
            channel=channel,
            language=rendered.language,
            recipient=user.email,
            enqueued_at=now,
            subject=rendered.subject[:998],
            body_text=rendered.text,
            body_html=rendered.html,
            is_test=True,
        )
        EmailLog.objects.create(
            email=row, status=Status.QUEUED, message=f"test email requested by {user.get_username()}"
        )
        publish_on_commit([row.pk])
    return row
