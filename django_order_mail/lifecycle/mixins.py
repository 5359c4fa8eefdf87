"""Model mixins a shop's Order model inherits.

* :class:`OrderMailContextMixin` - the methods that supply email content, the
  save hook that writes pending emails in the save's transaction, and the
  non-transition notifications (shipping update, order edited). A shop with
  its own django-fsm state machine inherits only this one and declares
  ``mail_transitions``.
* :class:`OrderMailMixin` - all of the above plus the default lifecycle of
  ``docs/lifecycle.rst`` on a protected ``FSMField``.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models, transaction
from django.utils.translation import gettext_lazy as _
from django_fsm import ConcurrentTransitionMixin, FSMField, transition

from ..app_settings import app_settings
from ..events import MailEvent
from ..outbox.enqueue import PendingMail, cancel_scheduled, enqueue
from .reasons import check_reason
from .shipments import Shipment
from .states import EDITABLE_STATES, OrderState, order_state


class OrderMailContextMixin(models.Model):
    """What the emails need to know about an order; override to fit your model.

    Every ``get_mail_*`` method has a default that reads a same-named field if
    your model has one, so a simple shop overrides only what differs.
    """

    #: transition method name -> mail events it fires. See docs/lifecycle.rst.
    mail_transitions: dict[str, tuple[str, ...]] = {}
    #: Name of the FSM field holding the order's state.
    mail_state_field: str = "state"
    #: Reaching one of these states cancels scheduled emails (feedback request).
    mail_cancel_scheduled_states: frozenset[str] = frozenset(
        {"cancelled", "refunded", "in_dispute", "frozen"}
    )
    #: ``prefetch_related()`` lookups the worker applies when it loads a batch
    #: of orders to email, e.g. ``("lines__product",)``: the hooks then read
    #: ``self.lines.all()`` from the prefetch instead of a query per order.
    mail_prefetch_related: tuple[str, ...] = ()

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        # The pending emails are written right after the row, in one atomic
        # block: they commit or roll back together with the state change.
        # (Not a post_save receiver: that would run on every model's save in
        # the project.)
        try:
            with transaction.atomic():
                super().save(*args, **kwargs)
                self.write_pending_mail()
        except Exception:
            # The transition did not persist: its emails must not ride along
            # with a later, unrelated save.
            self.discard_pending_mail()
            raise

    def refresh_from_db(self, *args, **kwargs):
        self.discard_pending_mail()
        super().refresh_from_db(*args, **kwargs)

    def write_pending_mail(self) -> None:
        """Write the emails the transitions since the last save queued (and
        cancel scheduled ones the new state makes moot) to the outbox."""
        pending = self.__dict__.pop("_order_mail_pending", None)
        cancel_reason = self.__dict__.pop("_order_mail_cancel", None)
        if cancel_reason:
            cancel_scheduled(self, cancel_reason)
        if pending:
            enqueue(self, pending)

    def discard_pending_mail(self) -> None:
        """Forget emails queued by transitions that were not saved."""
        self.__dict__.pop("_order_mail_pending", None)
        self.__dict__.pop("_order_mail_cancel", None)

    # -- content hooks --------------------------------------------------------
    def get_mail_recipient(self) -> str:
        return getattr(self, "email", "") or ""

    def get_mail_customer_name(self) -> str:
        return getattr(self, "customer_name", "") or ""

    def get_mail_language(self) -> str:
        return getattr(self, "language", "") or settings.LANGUAGE_CODE

    def get_mail_channel(self) -> str:
        return getattr(self, "sales_channel", "") or app_settings.DEFAULT_CHANNEL

    def get_mail_order_number(self) -> str:
        return str(getattr(self, "number", "") or self.pk)

    def get_mail_currency(self) -> str:
        return getattr(self, "currency", "") or "USD"

    def get_mail_order_date(self):
        """When the order was placed (a datetime or a date), shown in the order
        confirmation in the email's language. The default reads a field named
        ``placed_at``, ``created_at`` or ``created``; None shows no date."""
        for name in ("placed_at", "created_at", "created"):
            value = getattr(self, name, None)
            if value:
                return value
        return None

    def get_mail_line_items(self) -> list[dict]:
        """Items as dicts: name, quantity, unit_price, total; optional sku,
        variant, image_url, url."""
        return []

    def get_mail_totals(self) -> dict:
        """subtotal, discount, shipping, tax, total (Decimals or numbers)."""
        return {"total": getattr(self, "total", None)}

    def get_mail_addresses(self) -> dict:
        """{"billing": [lines], "shipping": [lines]} - each a list of lines."""
        return {}

    def get_mail_payment(self) -> dict:
        """{"brand": "Visa", "last4": "4242"}. Never return more than 4 digits:
        the context builder truncates whatever it gets to the last four."""
        return {}

    def get_mail_shipping_method(self) -> str:
        return getattr(self, "shipping_method", "") or ""

    def get_mail_expected_dates(self) -> dict:
        """{"ship_by": date, "deliver_from": date, "deliver_to": date}."""
        return {}

    def get_mail_order_url(self) -> str:
        """Absolute URL of the customer's order status page."""
        return ""

    def get_mail_retry_payment_url(self) -> str:
        """Absolute URL where the customer retries a failed payment."""
        return ""

    def get_mail_extra_context(self, event: str) -> dict:
        """Anything else your templates need for ``event``."""
        return {}

    # -- shipments and emails -------------------------------------------------
    @property
    def shipments(self):
        return Shipment.for_order(self)

    def add_shipment(self, carrier: str, tracking_number: str = "", **fields) -> Shipment:
        """Create a shipment of this order (save the order first)."""
        return Shipment.objects.create(order=self, carrier=carrier, tracking_number=tracking_number, **fields)

    @property
    def mail_log(self):
        """This order's emails, newest first."""
        from ..outbox.models import OutboxEmail

        return OutboxEmail.for_order(self)

    def queue_mail(self, mail: PendingMail) -> None:
        """Queue an email to be written when this order is next saved."""
        self.__dict__.setdefault("_order_mail_pending", []).append(mail)

    def notify_shipping_update(self, shipment: Shipment, *, notify: bool = True):
        """Email the customer that a parcel's carrier or tracking number changed.

        Call after saving the shipment; sent once per (shipment, carrier,
        tracking number).
        """
        with transaction.atomic():
            return enqueue(
                self,
                [
                    PendingMail(
                        MailEvent.SHIPPING_UPDATE,
                        shipment=shipment,
                        discriminator=f"{shipment.carrier}:{shipment.tracking_number}",
                        notify=notify,
                    )
                ],
            )

    def notify_order_edited(
        self, changes: list[str], *, reason_code: str = "", note: str = "", notify: bool = True
    ):
        """Email the customer what changed in an order that has not shipped.

        ``changes`` are human-readable lines ("Size M → L"), shown as given:
        write them in the order's language. ``reason_code`` is a preset
        reason of ``order_edited`` (shown in the email's language), ``note``
        free text sent as typed (see ``lifecycle.reasons``).
        """
        state = order_state(self)
        if state is not None and state not in EDITABLE_STATES:
            raise ValueError(f"order {self.pk} has shipped; edits are no longer confirmed")
        check_reason(MailEvent.ORDER_EDITED, reason_code)
        lines = [str(c) for c in changes]
        extra = {"changes": lines, "reason_code": reason_code, "note": str(note or "").strip()}
        with transaction.atomic():
            return enqueue(
                self,
                [
                    PendingMail(
                        MailEvent.ORDER_EDITED,
                        extra={k: v for k, v in extra.items() if v},
                        discriminator="\n".join(lines),
                        notify=notify,
                    )
                ],
            )


class OrderMailMixin(ConcurrentTransitionMixin, OrderMailContextMixin):
    """The default order lifecycle (``docs/lifecycle.rst``) with its emails.

    ``ConcurrentTransitionMixin`` comes first on purpose: its ``_do_update``
    must precede ``Model``'s in the MRO, or a stale second process could save
    the same transition again.

    Every transition takes ``notify=False`` to move the order without emailing
    the customer (the skip is still logged). Call transitions, then ``save()``.

    Transitions whose email gives a reason take ``reason_code`` (a preset of
    :mod:`.reasons`, shown in the email's language; an unknown code raises
    ``ValueError``) and ``note`` (free text, sent as typed). ``reason`` is
    the older free-text argument, kept for existing callers.
    """

    state = FSMField(
        _("state"),
        default=OrderState.PENDING_PAYMENT,
        choices=OrderState.choices,
        protected=True,
        db_index=True,
    )

    mail_transitions = {
        "confirm_payment": (MailEvent.ORDER_CONFIRMATION,),
        "fail_payment": (MailEvent.PAYMENT_FAILED,),
        "ship_partially": (MailEvent.SHIPPING_CONFIRMATION,),
        "ship": (MailEvent.SHIPPING_CONFIRMATION,),
        "mark_out_for_delivery": (MailEvent.OUT_FOR_DELIVERY,),
        "mark_delivered": (MailEvent.DELIVERED,),
        "cancel": (MailEvent.CANCELLATION,),
        "freeze": (MailEvent.ORDER_ON_HOLD,),
        "refund": (MailEvent.REFUND,),
    }

    class Meta:
        abstract = True

    @transition(field=state, source=OrderState.PENDING_PAYMENT, target=OrderState.PAYMENT_REVIEW)
    def hold_for_payment_review(self, *, notify=True):
        """Payment received but under verification / risk check."""

    @transition(
        field=state,
        source=[OrderState.PENDING_PAYMENT, OrderState.PAYMENT_REVIEW],
        target=OrderState.AWAITING_SHIPMENT,
    )
    def confirm_payment(self, *, notify=True):
        """Payment confirmed: sends the order confirmation."""

    @transition(
        field=state,
        source=[OrderState.PENDING_PAYMENT, OrderState.PAYMENT_REVIEW],
        target=OrderState.PENDING_PAYMENT,
    )
    def fail_payment(self, reason: str = "", *, reason_code: str = "", note: str = "", notify=True):
        """The payment was declined: asks the customer to retry."""
        check_reason(MailEvent.PAYMENT_FAILED, reason_code)

    @transition(
        field=state,
        source=[OrderState.AWAITING_SHIPMENT, OrderState.PARTIALLY_SHIPPED],
        target=OrderState.PARTIALLY_SHIPPED,
    )
    def ship_partially(self, shipment: Shipment, *, notify=True):
        """One parcel left; more will follow."""

    @transition(
        field=state,
        source=[OrderState.AWAITING_SHIPMENT, OrderState.PARTIALLY_SHIPPED],
        target=OrderState.SHIPPED,
    )
    def ship(self, shipment: Shipment, *, notify=True):
        """The last (or only) parcel left."""

    @transition(field=state, source=OrderState.SHIPPED, target=OrderState.OUT_FOR_DELIVERY)
    def mark_out_for_delivery(self, shipment: Shipment | None = None, *, notify=True):
        """The carrier says the parcel arrives today or tomorrow."""

    @transition(
        field=state, source=[OrderState.SHIPPED, OrderState.OUT_FOR_DELIVERY], target=OrderState.DELIVERED
    )
    def mark_delivered(self, *, notify=True):
        """Delivered: sends the post-purchase email (the feedback app, when
        installed, also schedules its feedback request here)."""

    @transition(field=state, source=OrderState.DELIVERED, target=OrderState.COMPLETED)
    def complete(self, *, notify=True):
        """Closed normally; funds released."""

    @transition(
        field=state,
        source=[
            OrderState.PENDING_PAYMENT,
            OrderState.PAYMENT_REVIEW,
            OrderState.AWAITING_SHIPMENT,
            OrderState.FROZEN,
        ],
        target=OrderState.CANCELLED,
    )
    def cancel(self, reason: str = "", *, reason_code: str = "", note: str = "", notify=True):
        """Cancelled by the customer, the shop or a timeout."""
        check_reason(MailEvent.CANCELLATION, reason_code)

    @transition(
        field=state,
        source=[OrderState.PENDING_PAYMENT, OrderState.PAYMENT_REVIEW, OrderState.AWAITING_SHIPMENT],
        target=OrderState.FROZEN,
    )
    def freeze(self, reason: str = "", *, reason_code: str = "", note: str = "", notify=True):
        """Held by a fraud/suspicion check.

        ``reason`` (free text, often an internal note) is not shown to the customer.
        """
        check_reason(MailEvent.ORDER_ON_HOLD, reason_code)

    @transition(field=state, source=OrderState.FROZEN, target=OrderState.AWAITING_SHIPMENT)
    def release_hold(self, *, notify=True):
        """The hold was lifted; the order can ship."""

    @transition(
        field=state,
        source=[OrderState.SHIPPED, OrderState.OUT_FOR_DELIVERY, OrderState.DELIVERED, OrderState.COMPLETED],
        target=OrderState.IN_DISPUTE,
    )
    def open_dispute(self, *, notify=True):
        """The customer opened a dispute (cancels a pending feedback request)."""

    @transition(field=state, source=OrderState.IN_DISPUTE, target=OrderState.COMPLETED)
    def close_dispute(self, *, notify=True):
        """The dispute ended without a refund."""

    @transition(
        field=state,
        source=[
            OrderState.AWAITING_SHIPMENT,
            OrderState.PARTIALLY_SHIPPED,
            OrderState.SHIPPED,
            OrderState.OUT_FOR_DELIVERY,
            OrderState.DELIVERED,
            OrderState.COMPLETED,
            OrderState.CANCELLED,
            OrderState.FROZEN,
            OrderState.IN_DISPUTE,
        ],
        target=OrderState.REFUNDED,
    )
    def refund(self, amount=None, reason: str = "", *, reason_code: str = "", note: str = "", notify=True):
        """Money returned to the customer (``amount`` None means in full)."""
        check_reason(MailEvent.REFUND, reason_code)
