"""Staff-edited sending policies in the admin: the commercial frequency cap,
the log of every policy change, and the two mixins the feature apps' policy
pages use (``docs/staff-guide.rst``).

* :class:`ChangeLoggingMixin` writes a :class:`~django_order_mail.policies.models.SettingChange`
  row per field a save changed (who, when, old -> new), in the transaction
  of the save, and shows the record's latest changes on its page.
* :class:`SingletonAdminMixin` makes a one-record model (pk 1) behave like
  the branding page: the list opens the record, the first save creates it
  from a form that starts with the settings' values (nothing is written
  on GET), and it cannot be deleted.

Permissions are Django's model permissions of each record
(``change_frequencycap``...); the log is read-only for everyone.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.formats import date_format
from django.utils.html import format_html, format_html_join
from django.utils.text import capfirst
from django.utils.timezone import localtime
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from ..app_settings import app_settings
from ..events import COMMERCIAL_EVENTS, get_event
from ..policies.changes import Snapshot, recent_changes, record_changes, snapshot
from ..policies.models import FrequencyCap, SettingChange

__all__ = ["ChangeLoggingMixin", "FrequencyCapAdmin", "SettingChangeAdmin", "SingletonAdminMixin"]

#: Request attribute that carries a record's state from save_model() to save_related().
_BEFORE = "_order_mail_policy_before"


class ChangeLoggingMixin:
    """Log each saved field's old and new value (:mod:`django_order_mail.policies.changes`).

    ``logged_fields``: the model's fields to compare. Override
    :meth:`related_snapshot` to log the lines of an inline too.
    """

    logged_fields: tuple[str, ...] = ()

    def policy_snapshot(self, obj) -> Snapshot:
        if obj is None or obj.pk is None:
            return {}
        return {**snapshot(obj, self.logged_fields), **self.related_snapshot(obj)}

    def related_snapshot(self, obj) -> Snapshot:
        return {}

    def settings_snapshot(self) -> Snapshot:
        """What a record saved for the first time replaces (the settings in force)."""
        return {}

    def save_model(self, request, obj, form, change):
        stored = type(obj)._default_manager.filter(pk=obj.pk).first() if obj.pk is not None else None
        before = self.policy_snapshot(stored) if stored is not None else self.settings_snapshot()
        setattr(request, _BEFORE, before)
        super().save_model(request, obj, form, change)

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        obj = form.instance
        before = getattr(request, _BEFORE, {})
        record_changes(
            request.user, obj, before, self.policy_snapshot(type(obj)._default_manager.get(pk=obj.pk))
        )

    @admin.display(description=_("latest changes"))
    def change_history(self, obj):
        changes = recent_changes(obj)
        if not changes:
            return "–"
        rows = format_html_join(
            "",
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{} → {}</td></tr>",
            (
                (
                    date_format(localtime(c.changed_at), "DATETIME_FORMAT"),
                    c.changed_by_name or "–",
                    c.field_label,
                    c.old_value,
                    c.new_value,
                )
                for c in changes
            ),
        )
        return format_html('<table class="order-mail-changes">{}</table>', rows)


class SingletonAdminMixin:
    """One record (pk ``model.SINGLETON_PK``), created by its first save."""

    #: Shown when someone may only view and nobody saved the record yet.
    from_settings_message = _(
        "These values come from the settings; nobody has changed them in the admin yet."
    )

    model: Any

    def _singleton_exists(self, request) -> bool:
        """Whether the record was saved, read once per request: the admin
        asks every model's add permission for each page's navigation, and
        the record's own pages ask again, so without this each singleton
        cost several queries on every admin page. A save in this request
        ends it with a redirect, so the answer is not asked again after."""
        known = request.__dict__.setdefault("_order_mail_singletons", {})
        label = self.model._meta.label
        if label not in known:
            known[label] = self.model._default_manager.filter(pk=self.model.SINGLETON_PK).exists()
        return known[label]

    def _url(self, action: str, *args):
        meta = self.model._meta
        return reverse(f"admin:{meta.app_label}_{meta.model_name}_{action}", args=args)

    def has_add_permission(self, request):
        return self.has_change_permission(request) and not self._singleton_exists(request)

    def has_delete_permission(self, request, obj=None):
        return False

    def changelist_view(self, request, extra_context=None):
        if self._singleton_exists(request):
            if not self.has_view_or_change_permission(request):
                raise PermissionDenied
            return redirect(self._url("change", self.model.SINGLETON_PK))
        if self.has_add_permission(request):
            return redirect(self._url("add"))
        if not self.has_view_or_change_permission(request):
            raise PermissionDenied
        self.message_user(request, self.from_settings_message)
        return redirect("admin:index")

    def get_changeform_initial_data(self, request):
        return {**self.initial_from_settings(), **super().get_changeform_initial_data(request)}

    def initial_from_settings(self) -> dict:
        """What the add form starts with: the settings in force."""
        return {}

    def settings_snapshot(self) -> Snapshot:
        fields = getattr(self, "logged_fields", ())
        initial = self.initial_from_settings()
        return snapshot(self.model(**{name: initial[name] for name in fields if name in initial}), fields)

    def save_model(self, request, obj, form, change):
        obj.pk = self.model.SINGLETON_PK
        if hasattr(obj, "updated_by"):
            obj.updated_by = request.user.get_username()[:150]
        super().save_model(request, obj, form, change)

    def response_add(self, request, obj, post_url_continue=None):
        self.message_user(request, self.saved_message(), messages.SUCCESS)
        return redirect(self._url("change", obj.pk))

    def response_change(self, request, obj):
        if "_continue" not in request.POST:
            self.message_user(request, self.saved_message(), messages.SUCCESS)
            return redirect(self._url("change", obj.pk))
        return super().response_change(request, obj)

    def saved_message(self) -> str:
        return gettext("Saved. The next emails use these values; emails already written keep theirs.")


def commercial_event_choices() -> list[tuple[str, str]]:
    events = (get_event(name) for name in sorted(COMMERCIAL_EVENTS))
    return [(event.name, str(event.label)) for event in events if event is not None]


class FrequencyCapForm(forms.ModelForm):
    defer = forms.MultipleChoiceField(
        label=_("postpone instead of skipping"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=FrequencyCap._meta.get_field("defer").help_text,
    )

    class Meta:
        model = FrequencyCap
        fields = ("enabled", "max_emails", "hours", "defer")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["defer"].choices = commercial_event_choices()


@admin.register(FrequencyCap)
class FrequencyCapAdmin(SingletonAdminMixin, ChangeLoggingMixin, admin.ModelAdmin):
    form = FrequencyCapForm
    fields = ("enabled", ("max_emails", "hours"), "defer", "change_history")
    readonly_fields = ("change_history",)
    logged_fields = ("enabled", "max_emails", "hours", "defer")

    def initial_from_settings(self) -> dict:
        cap = app_settings.COMMERCIAL_FREQUENCY_CAP
        if not cap or not cap.get("max"):
            return {"enabled": False, "max_emails": 1, "hours": 24, "defer": []}
        hours = cap.get("hours") or 24
        return {
            "enabled": True,
            "max_emails": cap["max"],
            "hours": int(hours) if float(hours).is_integer() else hours,
            "defer": [name for name in cap.get("defer") or () if name in COMMERCIAL_EVENTS],
        }


@admin.register(SettingChange)
class SettingChangeAdmin(admin.ModelAdmin):
    """Who changed which sending policy, when, from what to what (read-only)."""

    list_display = ("changed_at", "changed_by_name", "record", "field_label", "old_value", "new_value")
    list_filter = ("content_type", "changed_at")
    search_fields = ("object_repr", "field_label", "changed_by_name", "old_value", "new_value")
    date_hierarchy = "changed_at"
    list_select_related = ("content_type",)
    show_full_result_count = False

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description=_("record"), ordering="object_repr")
    def record(self, obj):
        model = obj.content_type.model_class()
        kind = capfirst(model._meta.verbose_name) if model is not None else obj.content_type.model
        return f"{kind} · {obj.object_repr}"
