"""Admin of the demo shop: orders with their shipments and emails, and
actions that move orders through the lifecycle (each sends its emails)."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.contrib.contenttypes.admin import GenericTabularInline
from django.db import transaction
from django.db.models import DecimalField, F, Sum
from django.urls import reverse
from django.utils.html import format_html
from django.utils.text import format_lazy
from django_fsm import ConcurrentTransition, TransitionNotAllowed

from django_order_mail.admin import OrderMailAdminMixin
from django_order_mail.admin.orders import TRANSITION_LABELS
from django_order_mail.carts.cart_admin import AbandonedCartAdminMixin
from django_order_mail.lifecycle.carriers import carrier_choices
from django_order_mail.models import EmailLog, OutboxEmail, Shipment

from .models import Cart, CartLine, Order, OrderLine, Product


@admin.register(Product)
class ProductAdmin(admin.ModelAdmin):
    list_display = ("thumbnail", "name", "sku", "price")
    search_fields = ("name", "sku")

    @admin.display(description="")
    def thumbnail(self, obj):
        if not obj.image_url:
            return ""
        return format_html(
            '<img src="{}" alt="" width="40" height="40" style="border-radius:6px">', obj.image_url
        )


class OrderLineInline(admin.TabularInline):
    model = OrderLine
    extra = 0
    autocomplete_fields = ("product",)
    fields = ("product", "name", "sku", "variant", "quantity", "unit_price")


class ShipmentForm(forms.ModelForm):
    carrier = forms.ChoiceField(choices=carrier_choices)

    class Meta:
        model = Shipment
        fields = (
            "carrier",
            "tracking_number",
            "shipping_method",
            "shipped_at",
            "estimated_delivery_from",
            "estimated_delivery_to",
            "delivery_instructions",
        )


class ShipmentInline(GenericTabularInline):
    """Add a parcel here, save, then run "Ship" or "Ship partially"."""

    model = Shipment
    form = ShipmentForm
    extra = 0
    ct_field = "content_type"
    ct_fk_field = "object_id"


def _unshipped_shipment(order) -> Shipment | None:
    """The newest parcel of ``order`` no shipping email was written for yet."""
    return (
        order.shipments.exclude(emails__event="shipping_confirmation").order_by("-shipped_at", "-id").first()
    )


NOT_NOTIFIED = "don't notify customer"


def transition_action(method: str, note: str = "", *, needs_shipment=False, **kwargs):
    """An admin action calling ``order.<method>()`` + save in one transaction per order,
    named like the order page's button (``TRANSITION_LABELS``), with ``note`` after it."""
    label = TRANSITION_LABELS.get(method, method)
    description = format_lazy("{} ({})", label, note) if note else label

    def action(modeladmin, request, queryset):
        moved, problems = [], []
        for pk in queryset.values_list("pk", flat=True):
            try:
                with transaction.atomic():
                    order = Order.objects.select_for_update().get(pk=pk)
                    args = []
                    if needs_shipment:
                        shipment = _unshipped_shipment(order)
                        if shipment is None:
                            problems.append(
                                f"{order.number}: add a shipment (carrier + tracking number) first"
                            )
                            continue
                        args.append(shipment)
                    getattr(order, method)(*args, **kwargs)
                    order.save()
                moved.append(order.number)
            except TransitionNotAllowed:
                problems.append(f"{order.number}: not possible while it is “{order.get_state_display()}”")
            except ConcurrentTransition:
                problems.append(f"{order.number}: changed by someone else meanwhile, try again")
        if moved:
            modeladmin.message_user(request, f"{description}: {', '.join(moved)}.", messages.SUCCESS)
        if problems:
            modeladmin.message_user(request, "Not moved – " + "; ".join(problems), messages.WARNING)

    action.__name__ = f"action_{method}" + ("" if kwargs.get("notify", True) else "_silently")
    return admin.action(description=description)(action)


@admin.register(Order)
class OrderAdmin(OrderMailAdminMixin, admin.ModelAdmin):
    """The mixin adds the status panel (transition buttons with "notify customer"
    boxes, "resend order confirmation") and the order's emails."""

    list_display = (
        "number",
        "customer_name",
        "email",
        "sales_channel",
        "language",
        "state_badge",
        "total_display",
        "created_at",
    )
    list_filter = ("state", "sales_channel", "language", "currency")
    search_fields = ("number", "email", "customer_name")
    date_hierarchy = "created_at"
    readonly_fields = ("state", "totals_summary", "customer_page")
    inlines = (OrderLineInline, ShipmentInline)
    fieldsets = (
        (None, {"fields": ("number", "state", "customer_page", "created_at")}),
        ("Customer", {"fields": ("customer_name", "email", "language", "sales_channel")}),
        (
            "Payment",
            {
                "fields": (
                    "currency",
                    "card_brand",
                    "card_last4",
                    "totals_summary",
                    "shipping_cost",
                    "discount",
                    "tax_rate",
                )
            },
        ),
        (
            "Delivery",
            {
                "fields": (
                    "shipping_method",
                    "handling_days",
                    "transit_days_min",
                    "transit_days_max",
                    "shipping_address",
                    "billing_address",
                )
            },
        ),
    )
    # The names of the order page's buttons (TRANSITION_LABELS): one name
    # per action across the admin.
    actions = [
        transition_action("confirm_payment", "sends the order confirmation"),
        transition_action("fail_payment", "asks to retry"),
        transition_action("ship_partially", "newest unshipped parcel", needs_shipment=True),
        transition_action("ship", "newest unshipped parcel is the last one", needs_shipment=True),
        transition_action("mark_out_for_delivery"),
        transition_action("mark_delivered", "schedules the feedback request"),
        transition_action("complete"),
        transition_action("freeze"),
        transition_action("release_hold"),
        transition_action("cancel"),
        transition_action("refund", "in full"),
        # Shopify's "notify customer" box: the same moves without an email
        # (the send log still records the skip and why).
        transition_action("confirm_payment", NOT_NOTIFIED, notify=False),
        transition_action("ship", NOT_NOTIFIED, needs_shipment=True, notify=False),
        transition_action("cancel", NOT_NOTIFIED, notify=False),
        transition_action("refund", "in full, " + NOT_NOTIFIED, notify=False),
    ]

    @admin.display(description="state", ordering="state")
    def state_badge(self, obj):
        return obj.get_state_display()

    @admin.display(description="total")
    def total_display(self, obj):
        return f"{obj.total} {obj.currency}"

    @admin.display(description="totals")
    def totals_summary(self, obj):
        if not obj.pk:
            return "—"
        return (
            f"subtotal {obj.subtotal} − discount {obj.discount} + shipping {obj.shipping_cost} "
            f"+ tax {obj.tax} = {obj.total} {obj.currency}"
        )

    @admin.display(description="customer page")
    def customer_page(self, obj):
        if not obj.pk:
            return "—"
        url = reverse("shop:order_status", kwargs={"token": obj.link_token()})
        return format_html('<a href="{}" target="_blank">what the customer sees</a>', url)


class EmailLogInline(admin.TabularInline):
    model = EmailLog
    extra = 0
    can_delete = False
    fields = readonly_fields = ("created_at", "status", "message")

    def has_add_permission(self, request, obj=None):
        return False


class OutboxEmailAdmin(admin.ModelAdmin):
    """Read-only send log (used only if django_order_mail does not register its own)."""

    list_display = (
        "created_at",
        "event",
        "reference",
        "recipient",
        "channel",
        "language",
        "status",
        "attempts",
        "sent_at",
    )
    list_filter = ("status", "event", "channel", "language")
    search_fields = ("reference", "recipient", "esp_message_id", "subject")
    date_hierarchy = "created_at"
    inlines = (EmailLogInline,)
    exclude = ("claim_token",)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


if not admin.site.is_registered(OutboxEmail):
    admin.site.register(OutboxEmail, OutboxEmailAdmin)


# -- carts (abandoned-cart reminders) -------------------------------------------------


class CartLineInline(admin.TabularInline):
    model = CartLine
    extra = 0
    autocomplete_fields = ("product",)


@admin.register(Cart)
class CartAdmin(AbandonedCartAdminMixin, admin.ModelAdmin):
    """The carts app's columns: value (summed by the database), status and
    the next reminder with its step (docs/abandoned-cart.rst, "The cart list")."""

    list_display = (
        "__str__",
        "customer_name",
        "cart_value",
        "cart_status",
        "next_reminder",
        "last_activity_at",
    )
    cart_value_expression = Sum(
        F("lines__quantity") * F("lines__product__price"), output_field=DecimalField()
    )
    list_filter = ("reminder_step", "reminders_off")
    search_fields = ("email", "customer_name")
    readonly_fields = (
        "email_captured_at",
        "last_activity_at",
        "emptied_at",
        "ordered_at",
        "reminder_step",
        "last_reminded_at",
    )
    inlines = (CartLineInline,)
