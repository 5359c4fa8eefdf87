"""The marketplace sync in the admin (``docs/marketplaces.rst``).

* **Sync runs** and the **update log**, read-only: staff ask "did this
  marketplace update reach the order, and if not, why?". Each run shows its
  counts (applied, stale, ignored, malformed, failed) and the lines that did
  not apply, with their reasons; each log entry links to its order. The sync
  writes them and reads the log to recognise repeats, so nobody adds, edits
  or deletes entries.
* **Order matching rules**: the order resolver without code for the common
  case, per marketplace: which order field holds the marketplace's order
  number (:mod:`.matching`). ``ORDER_MAIL["MARKETPLACE_ORDER_RESOLVER"]``
  wins when set, and the list says so.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.contrib.contenttypes.models import ContentType
from django.db.models import Q
from django.urls import reverse
from django.utils.html import format_html
from django.utils.http import urlencode
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from ..admin.links import order_link
from .app_settings import app_settings
from .base import PACKAGED_ADAPTERS
from .matching import field_choices
from .models import (
    MarketplaceOrderUpdate,
    MarketplaceSyncCursor,
    MarketplaceSyncRun,
    OrderMatchRule,
    Outcome,
    Problem,
)


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


def marketplace_names() -> list[str]:
    """The feeds the sync knows: packaged adapters and the shop's own."""
    return sorted({*PACKAGED_ADAPTERS, *(app_settings.MARKETPLACE_ADAPTERS or {})})


class MarketplaceFilter(admin.SimpleListFilter):
    """The known marketplaces, without ``SELECT DISTINCT`` over the log."""

    title = _("marketplace")
    parameter_name = "marketplace"

    def lookups(self, request, model_admin):
        return [(name, name) for name in marketplace_names()]

    def queryset(self, request, queryset):
        return queryset.filter(marketplace=self.value()) if self.value() else queryset


class RunResultFilter(admin.SimpleListFilter):
    title = _("result")
    parameter_name = "result"

    def lookups(self, request, model_admin):
        return [("problems", _("With problems")), ("clean", _("Without problems"))]

    def queryset(self, request, queryset):
        problems = Q(failed__gt=0) | ~Q(source_error="")
        if self.value() == "problems":
            return queryset.filter(problems)
        if self.value() == "clean":
            return queryset.exclude(problems)
        return queryset


def _count_link(run: MarketplaceSyncRun, count: int, **params) -> str:
    """``count``, linked to the run's entries of the update log it counts."""
    if not count:
        return "0"
    url = reverse("admin:order_mail_marketplaces_marketplaceorderupdate_changelist")
    return format_html('<a href="{}?{}">{}</a>', url, urlencode({"run": run.pk, **params}), count)


class RunProblemsInline(admin.TabularInline):
    """The run's lines that did not apply, with their reasons."""

    model = MarketplaceOrderUpdate
    fk_name = "run"
    extra = 0
    max_num = 0
    can_delete = False
    fields = ("external_order_id", "status", "outcome", "problem", "reason")
    readonly_fields = fields
    verbose_name = _("problem")
    verbose_name_plural = _("problems in this run")

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        return queryset.filter(Q(outcome=Outcome.FAILED) | Q(problem=Problem.STALE)).order_by("id")

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(MarketplaceSyncRun)
class MarketplaceSyncRunAdmin(ReadOnlyAdmin):
    list_display = (
        "started_at",
        "marketplace",
        "source",
        "pages",
        "applied_link",
        "stale_link",
        "ignored",
        "malformed_link",
        "failed_link",
        "result",
    )
    list_filter = (MarketplaceFilter, RunResultFilter, "started_at")
    date_hierarchy = "started_at"
    fields = (
        "marketplace",
        "source",
        "started_at",
        "finished_at",
        "pages",
        "applied",
        "stale",
        "ignored",
        "repeats",
        "malformed",
        "failed",
        "source_error",
    )
    readonly_fields = fields
    inlines = [RunProblemsInline]

    @admin.display(description=_("applied"), ordering="applied")
    def applied_link(self, obj):
        return _count_link(obj, obj.applied, outcome__exact=Outcome.APPLIED)

    @admin.display(description=_("stale"), ordering="stale")
    def stale_link(self, obj):
        return _count_link(obj, obj.stale, problem__exact=Problem.STALE)

    @admin.display(description=_("malformed"), ordering="malformed")
    def malformed_link(self, obj):
        return _count_link(obj, obj.malformed, problem__exact=Problem.MALFORMED)

    @admin.display(description=_("failed"), ordering="failed")
    def failed_link(self, obj):
        return _count_link(obj, obj.failed, outcome__exact=Outcome.FAILED)

    @admin.display(description=_("result"))
    def result(self, obj):
        if obj.finished_at is None:
            return gettext("running or stopped")
        if obj.source_error:
            return format_html('<span title="{}">{}</span>', obj.source_error, gettext("feed stopped"))
        return gettext("with problems") if obj.failed else gettext("OK")


class RunFilter(admin.SimpleListFilter):
    """Entries last seen by one run (the runs' count links use it)."""

    title = _("sync run")
    parameter_name = "run"

    def lookups(self, request, model_admin):
        runs = list(MarketplaceSyncRun.objects.order_by("-started_at", "-id")[:10])
        chosen = self.value()
        if chosen and chosen.isdigit() and all(str(r.pk) != chosen for r in runs):
            runs += list(MarketplaceSyncRun.objects.filter(pk=int(chosen)))
        return [(str(run.pk), str(run)) for run in runs]

    def queryset(self, request, queryset):
        value = self.value()
        if not value:
            return queryset
        return queryset.filter(run_id=int(value)) if value.isdigit() else queryset.none()


@admin.register(MarketplaceOrderUpdate)
class MarketplaceOrderUpdateAdmin(ReadOnlyAdmin):
    list_display = (
        "created_at",
        "marketplace",
        "external_order_id",
        "status",
        "outcome",
        "problem",
        "short_reason",
        "order_link",
    )
    list_filter = ("outcome", "problem", MarketplaceFilter, RunFilter, "created_at")
    search_fields = ("=external_order_id", "reason")
    date_hierarchy = "created_at"
    list_select_related = ("content_type",)
    fields = (
        "marketplace",
        "external_order_id",
        "status",
        "target_state",
        "sequence",
        "outcome",
        "problem",
        "reason",
        "transitions",
        "details",
        "attempts",
        "order_link",
        "run",
        "payload_hash",
        "created_at",
        "updated_at",
    )
    readonly_fields = fields

    @admin.display(description=_("reason"))
    def short_reason(self, obj: MarketplaceOrderUpdate) -> str:
        return obj.reason if len(obj.reason) <= 120 else f"{obj.reason[:119]}…"

    @admin.display(description=_("order"))
    def order_link(self, obj: MarketplaceOrderUpdate):
        return order_link(obj.content_type, obj.object_id)


@admin.register(MarketplaceSyncCursor)
class MarketplaceSyncCursorAdmin(ReadOnlyAdmin):
    list_display = ("marketplace", "last_sequence", "last_run_at", "last_summary")
    fields = ("marketplace", "last_sequence", "last_run_at", "last_summary")
    readonly_fields = fields


class OrderMatchRuleForm(forms.ModelForm):
    """The marketplace from the known feeds, the field from the order models'
    fields that can hold a number: nothing to type, nothing to get wrong."""

    marketplace = forms.ChoiceField(label=_("marketplace"))
    order_field = forms.ChoiceField(
        label=_("order number field"),
        help_text=_(
            "The field of your orders that holds the marketplace's order number. An update "
            "goes to the order whose field equals it; none found: the update is ignored."
        ),
    )

    class Meta:
        model = OrderMatchRule
        fields = ("marketplace", "enabled")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        names = marketplace_names()
        current = self.instance.marketplace if self.instance.pk else ""
        if current and current not in names:
            names.append(current)  # a feed removed from the settings: still shown
        marketplace, order_field = self.fields["marketplace"], self.fields["order_field"]
        assert isinstance(marketplace, forms.ChoiceField) and isinstance(order_field, forms.ChoiceField)
        marketplace.choices = [(name, name) for name in names]
        order_field.choices = [("", "---------"), *field_choices()]
        if self.instance.pk:
            self.initial["order_field"] = f"{self.instance.content_type_id}:{self.instance.field_name}"

    def clean_order_field(self):
        value = self.cleaned_data["order_field"]
        ct_id, _sep, name = value.partition(":")
        self.cleaned_data["content_type"] = ContentType.objects.get_for_id(int(ct_id))
        self.cleaned_data["field_name"] = name
        return value

    def save(self, commit=True):
        self.instance.content_type = self.cleaned_data["content_type"]
        self.instance.field_name = self.cleaned_data["field_name"]
        return super().save(commit)


@admin.register(OrderMatchRule)
class OrderMatchRuleAdmin(admin.ModelAdmin):
    form = OrderMatchRuleForm
    list_display = ("marketplace", "content_type", "field_name", "enabled", "updated_at")
    list_filter = ("enabled",)
    fields = ("marketplace", "order_field", "enabled")

    def changelist_view(self, request, extra_context=None):
        self._say_when_the_setting_wins(request)
        return super().changelist_view(request, extra_context)

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        if request.method == "GET":
            self._say_when_the_setting_wins(request)
        return super().changeform_view(request, object_id, form_url, extra_context)

    def _say_when_the_setting_wins(self, request) -> None:
        if app_settings.MARKETPLACE_ORDER_RESOLVER:
            self.message_user(
                request,
                gettext(
                    "ORDER_MAIL['MARKETPLACE_ORDER_RESOLVER'] is set (%(path)s): the sync uses it, "
                    "not these rules."
                )
                % {"path": app_settings.MARKETPLACE_ORDER_RESOLVER},
                messages.WARNING,
            )
