"""Staff notifications in the admin: who on the staff gets which internal email.

The list shows every internal event whose recipients the admin sets
(:func:`django_order_mail.notifications.recipients.staff_events`: the core's
new-order and high-value-order emails, the feedback app's low-score alert,
a shop's own internal events), set up here or not, with whom they reach now.
An event is set up by adding its row; deleting the row goes back to the
settings. Permissions are the model's own (``view_``, ``add_``,
``change_``, ``delete_staffnotification``); the list changes nothing on GET.
"""

from __future__ import annotations

import re
from decimal import Decimal
from urllib.parse import urlencode

from django import forms
from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.validators import validate_email
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.text import capfirst
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from ..events import StaffEvent, get_event
from ..notifications.models import HighValueThreshold, StaffNotification, split_addresses
from ..notifications.recipients import staff_events, staff_recipients
from ..templatetags.order_mail import money

_CURRENCY = re.compile(r"^[A-Z]{3}$")


def _clean_currency(value) -> str:
    currency = (value or "").strip().upper()
    if currency and not _CURRENCY.match(currency):
        raise ValidationError(_("Enter a three-letter currency code, such as EUR."), code="currency")
    return currency


class StaffUserChoices(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj):
        email = getattr(obj, obj.get_email_field_name(), "") or gettext("no email address")
        name = obj.get_full_name() if hasattr(obj, "get_full_name") else ""
        return f"{name or obj.get_username()} <{email}>"


def staff_users():
    """Active staff accounts (a custom user model without the fields: all users)."""
    model = get_user_model()
    names = {f.name for f in model._meta.get_fields()}
    users = model._default_manager.all()
    if "is_staff" in names:
        users = users.filter(is_staff=True)
    if "is_active" in names:
        users = users.filter(is_active=True)
    return users.order_by(model.USERNAME_FIELD)


class StaffNotificationForm(forms.ModelForm):
    users = StaffUserChoices(
        queryset=None,
        required=False,
        # "radiolist": the admin's own class for a list of choices (labels at their width).
        widget=forms.CheckboxSelectMultiple(attrs={"class": "radiolist"}),
        label=capfirst(StaffNotification._meta.get_field("users").verbose_name),
        help_text=StaffNotification._meta.get_field("users").help_text,
    )

    class Meta:
        model = StaffNotification
        fields = ("event", "enabled", "emails", "users", "threshold", "currency")
        widgets = {"emails": forms.Textarea(attrs={"rows": 3, "cols": 60})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["users"].queryset = staff_users()
        if "event" in self.fields:
            taken = set(StaffNotification.objects.values_list("event", flat=True))
            self.fields["event"].choices = [
                ("", "---------"),
                *((e.name, e.label) for e in staff_events() if e.name not in taken),
            ]

    def _event(self) -> str:
        return self.instance.event if self.instance.pk else self.cleaned_data.get("event", "")

    def clean_emails(self) -> str:
        addresses = split_addresses(self.cleaned_data.get("emails"))
        bad = []
        for address in addresses:
            try:
                validate_email(address)
            except ValidationError:
                bad.append(address)
        if bad:
            raise ValidationError(
                [
                    ValidationError(
                        _("“%(value)s” is not a valid email address."), code="invalid", params={"value": b}
                    )
                    for b in bad
                ]
            )
        return "\n".join(addresses)

    def clean_users(self):
        users = self.cleaned_data.get("users")
        for user in users or []:
            if not getattr(user, user.get_email_field_name(), ""):
                raise ValidationError(
                    _("%(user)s has no email address in their account: add one there first."),
                    code="no_email",
                    params={"user": user.get_username()},
                )
        return users

    def clean_currency(self) -> str:
        return _clean_currency(self.cleaned_data.get("currency"))

    def clean(self):
        data = super().clean()
        event = self._event()
        threshold, currency = data.get("threshold"), data.get("currency")
        if event == StaffEvent.HIGH_VALUE_ORDER:
            if threshold is None and "threshold" not in self.errors:
                self.add_error("threshold", _("Enter the order total from which staff are told."))
            elif threshold is not None and threshold <= Decimal("0"):
                self.add_error("threshold", _("The threshold must be more than zero."))
            if not currency and "currency" not in self.errors:
                self.add_error("currency", _("Enter the threshold's currency, such as EUR."))
        elif event:
            if threshold is not None:
                self.add_error("threshold", _("Only high-value orders have a threshold."))
            if currency:
                self.add_error("currency", _("Only high-value orders have a threshold."))
        nobody = not data.get("emails") and not data.get("users")
        if data.get("enabled") and nobody and not self.has_error("emails") and not self.has_error("users"):
            raise ValidationError(
                _("Add at least one email address or staff user, or switch this notification off."),
                code="no_recipient",
            )
        return data


def _threshold_text(row: StaffNotification | None) -> str:
    """Each currency's threshold, the row's own first: "€500.00, NOK 5,000.00"."""
    if row is None or row.threshold is None:
        return ""
    return ", ".join(money(amount, currency) for currency, amount in row.thresholds().items())


class OtherThresholdForm(forms.ModelForm):
    class Meta:
        model = HighValueThreshold
        fields = ("currency", "threshold")
        widgets = {"currency": forms.TextInput(attrs={"size": 4})}

    def clean_currency(self) -> str:
        return _clean_currency(self.cleaned_data.get("currency"))

    def clean_threshold(self):
        threshold = self.cleaned_data.get("threshold")
        if threshold is not None and threshold <= Decimal("0"):
            raise ValidationError(_("The threshold must be more than zero."), code="threshold")
        return threshold


class OtherThresholdFormSet(forms.BaseInlineFormSet):
    def clean(self):
        """Not the threshold's own currency above (a currency twice is
        refused by the formset's own unique check)."""
        super().clean()
        own = (self.data.get("currency") or "").strip().upper()
        for form in self.forms:
            if not hasattr(form, "cleaned_data") or form.cleaned_data.get("DELETE"):
                continue
            if own and form.cleaned_data.get("currency") == own:
                form.add_error(
                    "currency", _("This is the currency of the threshold above: enter another one.")
                )


class OtherThresholdInline(admin.TabularInline):
    """High-value orders in more currencies than one: a threshold each
    (amounts are never converted)."""

    model = HighValueThreshold
    form = OtherThresholdForm
    formset = OtherThresholdFormSet
    extra = 1
    verbose_name = _("threshold in another currency")
    verbose_name_plural = _("thresholds in other currencies")

    # Part of the entry, not a model staff are given rights to on its own:
    # whoever may change staff notifications sets its thresholds.
    def has_add_permission(self, request, obj=None):
        return request.user.has_perm("django_order_mail.change_staffnotification") or (
            obj is None and request.user.has_perm("django_order_mail.add_staffnotification")
        )

    def has_change_permission(self, request, obj=None):
        return self.has_add_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return self.has_add_permission(request, obj)

    def has_view_permission(self, request, obj=None):
        return request.user.has_perm("django_order_mail.view_staffnotification") or self.has_add_permission(
            request, obj
        )


@admin.register(StaffNotification)
class StaffNotificationAdmin(admin.ModelAdmin):
    form = StaffNotificationForm
    fieldsets = (
        (None, {"fields": ("event", "enabled")}),
        (_("Recipients"), {"fields": ("emails", "users")}),
        (_("High-value orders"), {"fields": (("threshold", "currency"),)}),
    )

    def get_readonly_fields(self, request, obj=None):
        return ("event",) if obj is not None else ()

    def get_inlines(self, request, obj):
        """Thresholds in other currencies: high-value orders only (and the
        bare add form, where the event is still to be picked)."""
        event = self._event_of(request, obj)
        return [OtherThresholdInline] if event in ("", StaffEvent.HIGH_VALUE_ORDER) else []

    @staticmethod
    def _event_of(request, obj) -> str:
        if obj is not None:
            return obj.event
        return request.POST.get("event") or request.GET.get("event", "")

    def get_fieldsets(self, request, obj=None):
        """The threshold only where it applies (all fields on a bare add form)."""
        event = self._event_of(request, obj)
        if event and event != StaffEvent.HIGH_VALUE_ORDER:
            return self.fieldsets[:2]
        return self.fieldsets

    def save_model(self, request, obj, form, change):
        obj.updated_by = request.user.get_username()[:150]
        super().save_model(request, obj, form, change)

    def response_add(self, request, obj, post_url_continue=None):
        if "_continue" in request.POST or "_addanother" in request.POST:
            return super().response_add(request, obj, post_url_continue)
        self.message_user(request, _saved_message(obj), messages.SUCCESS)
        return _to_list()

    def response_change(self, request, obj):
        if "_continue" in request.POST or "_saveasnew" in request.POST:
            return super().response_change(request, obj)
        self.message_user(request, _saved_message(obj), messages.SUCCESS)
        return _to_list()

    def response_delete(self, request, obj_display, obj_id):
        self.message_user(
            request,
            gettext("“%(name)s” is no longer set in the admin: the settings apply again.")
            % {"name": obj_display},
            messages.SUCCESS,
        )
        return _to_list()

    def changelist_view(self, request, extra_context=None):
        """Every staff event with whom it reaches now; nothing is written."""
        if not self.has_view_or_change_permission(request):
            raise PermissionDenied
        rows = {
            row.event: row for row in StaffNotification.objects.prefetch_related("users", "other_thresholds")
        }
        can_add = self.has_add_permission(request)
        entries = [self._entry(e.name, e.label, rows.pop(e.name, None), can_add) for e in staff_events()]
        # Rows of events no longer registered (an app was removed): still shown, to delete.
        entries += [self._entry(name, name, row, can_add) for name, row in sorted(rows.items())]
        context = {
            **self.admin_site.each_context(request),
            "title": self.model._meta.verbose_name_plural.capitalize(),
            "opts": self.model._meta,
            "entries": entries,
            **(extra_context or {}),
        }
        return TemplateResponse(
            request, "admin/django_order_mail/staffnotification/change_list.html", context
        )

    def _entry(self, name: str, label, row: StaffNotification | None, can_add: bool) -> dict:
        target = staff_recipients(name)
        if row is not None:
            status = gettext("On") if row.enabled else gettext("Off")
            url = reverse("admin:django_order_mail_staffnotification_change", args=[row.pk])
        elif target.active:
            status = gettext("From the settings")
            url = reverse("admin:django_order_mail_staffnotification_add") + "?" + urlencode({"event": name})
        else:
            status = gettext("Off until set up here")
            url = reverse("admin:django_order_mail_staffnotification_add") + "?" + urlencode({"event": name})
        return {
            "name": name,
            "label": label,
            "status": status,
            "on": target.active,
            "recipients": list(target.addresses) if target.active else [],
            "threshold": _threshold_text(row),
            "url": url if row is not None or can_add else "",
            "registered": get_event(name) is not None,
            "changed_by": row.updated_by if row is not None else "",
        }


def _saved_message(obj: StaffNotification) -> str:
    if not obj.enabled:
        return gettext("“%(name)s” is switched off: nobody is told.") % {"name": obj}
    return gettext("“%(name)s” now goes to: %(recipients)s.") % {
        "name": obj,
        "recipients": ", ".join(obj.addresses()) or "–",
    }


def _to_list():
    return redirect("admin:django_order_mail_staffnotification_changelist")
