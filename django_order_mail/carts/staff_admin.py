"""The abandoned-cart pages staff set up the reminders with
(``docs/abandoned-cart.rst``, ``docs/staff-guide.rst``):

* *Reminder sequence* - one page, the steps as lines (delay, subject,
  coupon rule, on/off), starting from ``ABANDONED_CART_STEPS`` until it is
  first saved. The lines are checked together: numbers unique, delays
  growing with the number.
* *Coupon rules* - what a coupon is worth and how it is rationed.
* *Cart coupons* - the codes given, to whom, until when, used or not
  (read-only).

Every save is logged field by field (``django_order_mail.policies``);
model permissions apply (``change_remindersequence``, ``add_couponrule``...).
"""

from __future__ import annotations

from decimal import Decimal
from itertools import pairwise

from django import forms
from django.contrib import admin, messages
from django.db.models import Count, Q
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from ..admin.links import email_link
from ..admin.policies import ChangeLoggingMixin, SingletonAdminMixin
from ..policies.changes import Snapshot, snapshot
from ..templatetags.order_mail import money
from .app_settings import app_settings
from .models import CartCoupon, CouponRule, ReminderSequence, ReminderStep
from .sequence import parse_steps
from .staff_models import MAX_STEPS

STEP_FIELDS = ("after_hours", "enabled", "subject", "subject_language", "coupon_rule")
RULE_FIELDS = (
    "name",
    "kind",
    "value",
    "currency",
    "minimum_cart_value",
    "per_customer_limit",
    "first_recovery_only",
    "once_per_days",
    "valid_days",
    "code_prefix",
    "active",
    "ends_at",
)


def step_snapshot(steps) -> Snapshot:
    result: Snapshot = {}
    for step in steps:
        result.update(snapshot(step, STEP_FIELDS, prefix=f"step{step.number}.", label=str(step)))
    return result


class StepForm(forms.ModelForm):
    class Meta:
        model = ReminderStep
        fields = ("number", "after_hours", "enabled", "subject", "subject_language", "coupon_rule")
        widgets = {
            "number": forms.NumberInput(attrs={"style": "width:4em"}),
            "after_hours": forms.NumberInput(attrs={"style": "width:7em", "step": "0.1"}),
            "subject": forms.TextInput(attrs={"size": 40}),
            "subject_language": forms.TextInput(attrs={"size": 6}),
        }

    def has_changed(self):
        # A line the add form filled in from the settings is a step even if
        # staff left it as it was: save it (Django skips unchanged extra lines).
        return super().has_changed() or bool(self.data.get(self.add_prefix("after_hours")))


class StepFormSet(forms.BaseInlineFormSet):
    def clean(self):
        super().clean()
        if any(self.errors):
            return
        steps = [
            form.cleaned_data
            for form in self.forms
            if form.cleaned_data and not form.cleaned_data.get("DELETE")
        ]
        if not steps:
            raise forms.ValidationError(
                gettext("Keep at least one step; switch steps off to send no reminders.")
            )
        if len(steps) > MAX_STEPS:
            raise forms.ValidationError(
                gettext("A sequence can have at most %(count)d steps.") % {"count": MAX_STEPS}
            )
        # Two lines with one number: Django's unique check of the formset says so.
        ordered = sorted(steps, key=lambda step: step["number"])
        for before, after in pairwise(ordered):
            if after["after_hours"] <= before["after_hours"]:
                raise forms.ValidationError(
                    gettext(
                        "Step %(later)s must come later than step %(earlier)s: give it a longer delay "
                        "than %(hours)s hours."
                    )
                    % {
                        "later": after["number"],
                        "earlier": before["number"],
                        "hours": format(before["after_hours"].normalize(), "f"),
                    }
                )


class ReminderStepInline(admin.TabularInline):
    model = ReminderStep
    form = StepForm
    formset = StepFormSet
    extra = 0
    ordering = ("number",)
    autocomplete_fields = ()

    def get_extra(self, request, obj=None, **kwargs):
        if obj is None or obj.pk is None:
            return len(settings_steps())  # the add form: one line per step of the settings
        return 1


def settings_steps() -> list[dict]:
    """The settings' steps as the add form's lines."""
    try:
        steps = parse_steps(app_settings.ABANDONED_CART_STEPS)
    except ValueError:  # check E401 reports it; start from an empty sequence
        return []
    return [
        {
            "number": step.number,
            "after_hours": Decimal(str(step.after.total_seconds() / 3600)).normalize(),
            "enabled": True,
        }
        for step in steps
    ]


@admin.register(ReminderSequence)
class ReminderSequenceAdmin(SingletonAdminMixin, ChangeLoggingMixin, admin.ModelAdmin):
    inlines = (ReminderStepInline,)
    fields = ("change_history",)
    readonly_fields = ("change_history",)
    from_settings_message = _(
        "The reminder sequence comes from the settings; nobody has changed it in the admin yet."
    )

    def related_snapshot(self, obj) -> Snapshot:
        return step_snapshot(obj.steps.select_related("coupon_rule").order_by("number"))

    def settings_snapshot(self) -> Snapshot:
        return step_snapshot(ReminderStep(**line) for line in settings_steps())

    def get_formset_kwargs(self, request, obj, inline, prefix):
        kwargs = super().get_formset_kwargs(request, obj, inline, prefix)
        if isinstance(inline, ReminderStepInline) and (obj is None or obj.pk is None):
            kwargs["initial"] = settings_steps()
        return kwargs

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        hook = app_settings.ABANDONED_CART_COUPON_ISSUER
        if request.method == "GET" and hook:
            self.message_user(
                request,
                gettext(
                    "Coupons come from your project's own coupon hook (%(hook)s): the coupon rules chosen "
                    "here are not used while it is set."
                )
                % {"hook": hook},
                messages.WARNING,
            )
        return super().changeform_view(request, object_id, form_url, extra_context)

    def saved_message(self) -> str:
        return gettext(
            "Saved. The next scan uses these steps; reminders already written keep their subject and "
            "coupon rule."
        )


@admin.register(CouponRule)
class CouponRuleAdmin(ChangeLoggingMixin, admin.ModelAdmin):
    list_display = (
        "name",
        "discount",
        "minimum",
        "per_customer_limit",
        "valid_days",
        "active",
        "issued_count",
        "used_count",
    )
    list_filter = ("active", "kind")
    search_fields = ("name",)
    fieldsets = (
        (None, {"fields": ("name", "active", "ends_at")}),
        (_("Discount"), {"fields": (("kind", "value", "currency"), "minimum_cart_value", "valid_days")}),
        (_("Rationing"), {"fields": ("per_customer_limit", "first_recovery_only", "once_per_days")}),
        (_("Codes"), {"fields": ("code_prefix",)}),
        (_("History"), {"fields": ("change_history",)}),
    )
    readonly_fields = ("change_history",)
    logged_fields = RULE_FIELDS

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .annotate(
                _issued=Count("coupons", distinct=True),
                _used=Count("coupons", filter=Q(coupons__redeemed_at__isnull=False), distinct=True),
            )
        )

    @admin.display(description=_("discount"), ordering="value")
    def discount(self, obj):
        if obj.kind == CouponRule.Kind.PERCENT:
            return f"{format(obj.value.normalize(), 'f')} %"
        return money(obj.value, obj.currency)

    @admin.display(description=_("minimum cart value"), ordering="minimum_cart_value")
    def minimum(self, obj):
        if obj.minimum_cart_value is None:
            return "–"
        return money(obj.minimum_cart_value, obj.currency)

    @admin.display(description=_("codes given"), ordering="_issued")
    def issued_count(self, obj):
        return getattr(obj, "_issued", 0)

    @admin.display(description=_("codes used"), ordering="_used")
    def used_count(self, obj):
        return getattr(obj, "_used", 0)


@admin.register(CartCoupon)
class CartCouponAdmin(admin.ModelAdmin):
    """The codes given in reminders (the hook's and the rules'): read-only."""

    list_display = (
        "code",
        "recipient",
        "rule",
        "step",
        "issued_at",
        "expires_at",
        "redeemed_at",
        "redeemed_order",
        "reminder_link",
    )
    list_filter = ("rule", "step", "issued_at")
    search_fields = ("=code", "recipient")
    date_hierarchy = "issued_at"
    list_select_related = ("rule",)
    show_full_result_count = False

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in CartCoupon._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    @admin.display(description=_("reminder"))
    def reminder_link(self, obj):
        return email_link(obj.reminder_id)
