"""The mixin a shop's cart (or checkout) model inherits.

It records what the reminder sequence needs — when the customer gave an
email address, when they last did something with the cart, whether it was
emptied, ordered or opted out of reminders, and how far the sequence got —
and asks the shop, through overridable methods, for what only the shop
knows: the items, the checkout URL, how to put the cart back into a
customer's session.

The scan reads carts through one partial index (:func:`reminder_scan_index`)
that holds only carts still waiting for a reminder, so its cost follows the
number of open carts with an email, not the size of the cart table.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from django.apps import apps
from django.conf import settings
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .app_settings import app_settings

#: The rows the scan reads: an email was given, no order, not emptied, not
#: opted out. Shared by the index and the query so they can never disagree.
OPEN_CART = Q(
    email_captured_at__isnull=False,
    ordered_at__isnull=True,
    emptied_at__isnull=True,
    reminders_off=False,
)


def reminder_scan_index(name: str) -> models.Index:
    """The partial index the reminder scan needs, for a cart model that
    declares its own ``Meta.indexes`` (``name``: at most 30 characters)."""
    return models.Index(fields=["reminder_step", "last_activity_at"], condition=OPEN_CART, name=name)


class AbandonedCartMixin(models.Model):
    """Abstract base for the shop's cart model.

    Override at least :meth:`get_cart_items` and :meth:`get_checkout_url`
    (the system check ``E402`` says so if you forget). Call
    :meth:`capture_email` when the customer gives an address, :meth:`touch`
    whenever they change the cart, :meth:`mark_emptied` when they empty it
    and :meth:`mark_ordered` when it becomes an order: that last call stops
    the sequence and attributes the order to a reminder.
    """

    email = models.EmailField(_("email"), blank=True, db_index=True)
    language = models.CharField(_("language"), max_length=15, blank=True)
    email_captured_at = models.DateTimeField(_("email given at"), null=True, blank=True)
    last_activity_at = models.DateTimeField(_("last activity"), default=timezone.now)
    emptied_at = models.DateTimeField(_("emptied at"), null=True, blank=True)
    reminders_off = models.BooleanField(
        _("no reminders"), default=False, help_text=_("The customer or staff turned reminders off.")
    )
    ordered_at = models.DateTimeField(_("ordered at"), null=True, blank=True)
    placed_order_type = models.ForeignKey(
        ContentType, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", editable=False
    )
    placed_order_id = models.CharField(_("order id"), max_length=64, blank=True, editable=False)
    placed_order = GenericForeignKey("placed_order_type", "placed_order_id")
    #: How many steps of the sequence are done (written or skipped).
    reminder_step = models.PositiveSmallIntegerField(_("reminders written"), default=0, editable=False)
    last_reminded_at = models.DateTimeField(_("last reminder at"), null=True, blank=True, editable=False)

    #: Session key the default :meth:`restore_for_request` stores the cart's pk under.
    cart_session_key = "cart_id"

    class Meta:
        abstract = True
        indexes = [reminder_scan_index("%(app_label)s_%(class)s_remind")]

    # -- what the shop calls ----------------------------------------------------
    def capture_email(self, email: str, *, language: str = "", now: datetime | None = None) -> None:
        """The customer gave ``email`` (checkout form, newsletter box...).

        The sequence's clock starts at the last activity, which this is.
        """
        now = now or timezone.now()
        self.email = (email or "").strip()
        if language:
            self.language = language[:15]
        if self.email_captured_at is None:
            self.email_captured_at = now
        self.last_activity_at = now
        self._save_fields("email", "language", "email_captured_at", "last_activity_at")

    def touch(self, now: datetime | None = None) -> None:
        """The customer did something with the cart: the idle clock restarts.

        Adding items to an emptied cart makes it a cart again.
        """
        self.last_activity_at = now or timezone.now()
        self.emptied_at = None
        self._save_fields("last_activity_at", "emptied_at")

    def mark_emptied(self, now: datetime | None = None) -> None:
        """The customer emptied the cart: nothing to remind them of."""
        self.emptied_at = self.last_activity_at = now or timezone.now()
        self._save_fields("emptied_at", "last_activity_at")

    def stop_reminders(self) -> None:
        """No more reminders about this cart (the customer asked, or staff did)."""
        self.reminders_off = True
        self._save_fields("reminders_off")

    def mark_ordered(self, order, *, request=None, now: datetime | None = None, revenue=None, currency=""):
        """The cart became ``order``: stop the sequence and, if a reminder
        led to it, record the recovery. Returns the ``CartRecovery`` or None.

        Pass the checkout ``request`` so a restore-link click in this
        session is credited; call inside the transaction that creates the order.
        """
        from .attribution import record_order

        now = now or timezone.now()
        self.ordered_at = now
        if order is not None and order.pk is not None:
            self.placed_order_type = ContentType.objects.get_for_model(order)
            self.placed_order_id = str(order.pk)
        self._save_fields("ordered_at", "placed_order_type", "placed_order_id")
        return record_order(order, cart=self, request=request, now=now, revenue=revenue, currency=currency)

    def _save_fields(self, *fields: str) -> None:
        # Only our columns: a concurrent save of the shop's own fields (or
        # the scan's step counter) is not overwritten with stale values.
        if self.pk is None:
            self.save()
        else:
            self.save(update_fields=list(fields))

    # -- hooks the shop overrides ---------------------------------------------------
    def get_cart_items(self) -> list[dict]:
        """The items as dicts: ``name``, ``price`` (unit price), ``quantity``;
        optional ``image_url`` (absolute), ``url`` (product page), ``variant``,
        ``stock_left`` (units in stock, for low-stock urgency)."""
        raise NotImplementedError(f"{type(self).__name__} must implement get_cart_items()")

    def get_checkout_url(self, request=None) -> str:
        """Where the restore link lands: the shop's checkout page."""
        raise NotImplementedError(f"{type(self).__name__} must implement get_checkout_url()")

    def get_cart_total(self) -> Decimal:
        total = Decimal("0")
        for item in self.get_cart_items():
            total += Decimal(str(item.get("price") or 0)) * int(item.get("quantity") or 1)
        return total

    def get_cart_currency(self) -> str:
        return getattr(self, "currency", "") or "USD"

    def get_cart_stock_left(self, item: dict) -> int | None:
        """Units left of ``item`` for low-stock urgency, None when unknown.
        Only real stock figures: made-up scarcity costs trust."""
        value = item.get("stock_left")
        return None if value in (None, "") else int(value)

    def restore_for_request(self, request, *, coupon: str = "") -> None:
        """Put this cart back into the customer's session (the restore link).

        Called on every visit of the link. The default stores the pk under
        :attr:`cart_session_key`; override to copy items into the visitor's
        current cart or apply ``coupon``. The link itself restarts the idle
        clock, at most once per ``carts.visits.VISIT_WINDOW``: do not call
        :meth:`touch` here, or every GET of the link postpones the reminders.
        """
        pk = self.pk if isinstance(self.pk, int) else str(self.pk)
        request.session[self.cart_session_key] = pk

    def has_order_since(self, since: datetime) -> bool:
        """Did the customer order since ``since``? Checked right before each
        reminder is sent. The default knows this cart and the address's other
        carts of this model; override to ask your order table as well."""
        if self.ordered_at is not None:
            return True
        if not self.email:
            return False
        addresses = {self.email, self.email.lower()}
        others = type(self)._default_manager.filter(email__in=addresses, ordered_at__gte=since)
        return others.exclude(pk=self.pk).exists()

    # -- what the outbox and the templates read -----------------------------------
    def get_mail_recipient(self) -> str:
        return self.email or ""

    def get_mail_language(self) -> str:
        return self.language or settings.LANGUAGE_CODE

    def get_mail_channel(self) -> str:
        return getattr(self, "sales_channel", "") or app_settings.DEFAULT_CHANNEL

    def get_mail_order_number(self) -> str:
        """The send log's reference column: carts have no order number."""
        return f"cart-{self.pk}"

    def get_mail_customer_name(self) -> str:
        return getattr(self, "customer_name", "") or ""

    def get_mail_extra_context(self, event: str) -> dict:
        """Anything else your reminder template needs."""
        return {}


def cart_models() -> list[type[AbandonedCartMixin]]:
    """Every installed concrete model built on the mixin (the scan reads each)."""
    return [
        model
        for model in apps.get_models()
        if issubclass(model, AbandonedCartMixin) and not model._meta.proxy and not model._meta.swapped
    ]
