"""Staff emails in a customer's data erasure.

A staff email is addressed to staff, so erasing the customer's address
(:func:`django_order_mail.data.requests.erase_address`) would not find it,
yet its subject and body name the customer (name, address, items). This
erases them too: the staff emails of every order the customer's own emails
belong to lose their subject, bodies and ``extra`` (the recipient, a staff
address, stays). Registered with the personal-data registry by the core's
app config, ordered before the send log's own erasure, which anonymises the
customer's rows it finds them through.
"""

from __future__ import annotations

from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from ..data.registry import ERASED, register_personal_data
from ..events import INTERNAL_EVENTS
from ..outbox.models import OutboxEmail

#: Orders per statement (a customer with hundreds of orders still erases in a few).
CHUNK = 200


def erase_staff_emails(address: str, keyed_hash: str) -> int:
    orders = list(
        OutboxEmail.objects.filter(recipient__iexact=address.strip())
        .exclude(event__in=list(INTERNAL_EVENTS))
        .values_list("content_type_id", "object_id")
        .distinct()
    )
    changed = 0
    for start in range(0, len(orders), CHUNK):
        about = Q()
        for content_type_id, object_id in orders[start : start + CHUNK]:
            about |= Q(content_type_id=content_type_id, object_id=object_id)
        changed += (
            OutboxEmail.objects.filter(about, event__in=list(INTERNAL_EVENTS))
            .exclude(subject=ERASED, body_text="", body_html="")
            .update(subject=ERASED, body_text="", body_html="", extra={})
        )
    return changed


def register() -> None:
    register_personal_data(
        "staff_emails",
        verbose_name=_("staff emails about the customer's orders"),
        erase=erase_staff_emails,
        order=950,  # before the send log (1000): its rows lead to the orders
    )
