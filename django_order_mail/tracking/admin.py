"""Admin pages of tracking: the suppression list, webhook events, subject
A/B tests and the analytics page.

Registered from ``OrderMailConfig.ready()`` (not from the app's ``admin``
module, which other features own).
"""

from __future__ import annotations

from django.contrib import admin, messages
from django.template.response import TemplateResponse
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from .. import events as events_module
from ..admin.links import email_link
from ..events import ALL_EVENTS, event_choices
from . import ab, analytics, attribution
from .app_settings import app_settings
from .models import EmailAnalytics, SubjectTest, SubjectVariant, Suppression, TrackingEvent, scope_choices
from .suppression import effective_scope


@admin.register(Suppression)
class SuppressionAdmin(admin.ModelAdmin):
    list_display = ("address", "applies_to", "reason", "source", "created_at")
    list_filter = ("reason", "scope", "created_at")
    search_fields = ("address",)
    fields = ("address", "scope", "reason", "note", "source", "email", "created_at")
    readonly_fields = ("source", "email", "created_at")
    show_full_result_count = False

    def get_changeform_initial_data(self, request):
        return {"reason": Suppression.Reason.MANUAL, "scope": Suppression.Scope.ALL}

    @admin.display(description=_("applies to"), ordering="scope")
    def applies_to(self, obj):
        """What the entry really stops: a complaint stored for all emails
        stops commercial ones only (:func:`.suppression.blocks`)."""
        scope = effective_scope(obj)
        return dict(scope_choices()).get(scope, scope)

    def save_model(self, request, obj, form, change):
        if not change and not obj.source:
            obj.source = f"admin ({request.user.get_username()})"[:100]
        super().save_model(request, obj, form, change)


@admin.register(TrackingEvent)
class TrackingEventAdmin(admin.ModelAdmin):
    list_display = ("received_at", "esp", "event_type", "recipient", "email_link", "reject_reason")
    list_filter = ("event_type", "esp", "received_at")
    search_fields = ("=message_id", "recipient", "=event_id")
    list_select_related = ("email",)
    show_full_result_count = False

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in TrackingEvent._meta.fields]

    @admin.display(description=_("email"))
    def email_link(self, obj):
        if obj.email_id is None:
            return email_link(None)
        return email_link(obj.email_id, f"#{obj.email_id} {obj.email.event}")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class SubjectVariantInline(admin.TabularInline):
    model = SubjectVariant
    extra = 2
    fields = ("label", "subject", "weight")


@admin.register(SubjectTest)
class SubjectTestAdmin(admin.ModelAdmin):
    list_display = ("name", "event", "language", "active", "winner", "created_at")
    list_filter = ("active", "event")
    fields = ("name", "event", "language", "active", "winner", "promoted_at", "results")
    readonly_fields = ("winner", "promoted_at", "results")
    inlines = [SubjectVariantInline]
    actions = ["promote_winners"]

    @admin.display(description=_("results"))
    def results(self, obj):
        if obj is None or obj.pk is None:
            return gettext("Save the test to see results.")
        stats = ab.variant_stats(obj)
        rows = format_html_join(
            "",
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            (
                (
                    s.variant.label,
                    s.variant.subject,
                    s.sent,
                    s.opened,
                    analytics.percent(s.open_rate if s.sent else None),
                    s.clicked,
                    analytics.percent(s.click_rate if s.sent else None),
                )
                for s in stats
            ),
        )
        verdicts = format_html_join(
            "", "<p>{}</p>", ((verdict_text(ab.compare(stats, metric)),) for metric in ("click", "open"))
        )
        return format_html(
            '<table class="order-mail-ab"><thead><tr><th>{}</th><th>{}</th><th>{}</th><th>{}</th>'
            "<th>{}</th><th>{}</th><th>{}</th></tr></thead><tbody>{}</tbody></table>{}",
            gettext("variant"),
            gettext("subject"),
            gettext("sent"),
            gettext("opened"),
            gettext("open rate"),
            gettext("clicked"),
            gettext("click rate"),
            rows,
            verdicts,
        )

    @admin.action(description=_("Promote the winner of the selected tests"))
    def promote_winners(self, request, queryset):
        for test in queryset:
            verdict = ab.promote_winner(test)
            if verdict.leader is None:
                self.message_user(
                    request, gettext("%(test)s has no variants yet.") % {"test": test}, messages.WARNING
                )
                continue
            text = gettext("%(test)s: variant %(label)s promoted. %(verdict)s") % {
                "test": test,
                "label": verdict.leader.variant.label,
                "verdict": verdict_text(verdict),
            }
            self.message_user(request, text, messages.SUCCESS if verdict.significant else messages.WARNING)


def verdict_text(verdict: ab.Verdict) -> str:
    metric = gettext("click rate") if verdict.metric == "click" else gettext("open rate")
    if verdict.leader is None or verdict.runner_up is None:
        return gettext("Add at least two variants to compare them.")
    values = {
        "metric": metric,
        "leader": verdict.leader.variant.label,
        "other": verdict.runner_up.variant.label,
        "p": f"{verdict.p_value:.3f}",
        "n": ab.MIN_SAMPLE,
    }
    if not verdict.enough_data:
        return (
            gettext(
                "%(metric)s: %(leader)s leads %(other)s, but each variant needs at least %(n)s sent "
                "emails before the difference means anything (p = %(p)s)."
            )
            % values
        )
    if verdict.significant:
        return (
            gettext("%(metric)s: %(leader)s beats %(other)s, statistically significant (p = %(p)s < 0.05).")
            % values
        )
    return (
        gettext("%(metric)s: %(leader)s leads %(other)s, not significant yet (p = %(p)s); keep testing.")
        % values
    )


@admin.register(EmailAnalytics)
class EmailAnalyticsAdmin(admin.ModelAdmin):
    """The analytics page in place of a change list (read-only)."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def get_urls(self):
        from django.urls import path

        info = self.model._meta.app_label, self.model._meta.model_name
        view = self.admin_site.admin_view(self.changelist_view)
        return [path("", view, name="{}_{}_changelist".format(*info))]

    def changelist_view(self, request, extra_context=None):
        if not self.has_view_permission(request):
            from django.core.exceptions import PermissionDenied

            raise PermissionDenied
        try:
            weeks = min(max(int(request.GET.get("weeks", "")), 1), 104)
        except ValueError:
            weeks = app_settings.ANALYTICS_WEEKS
        event = request.GET.get("event", "")
        if event not in ALL_EVENTS:
            event = ""
        data = analytics.weekly_stats(weeks=weeks, event=event or None)
        sections, warnings = [], []
        for name, stats in data.items():
            label = dict(event_choices()).get(name, name)
            total = analytics.WeekStats(name, stats[0].week)
            for s in stats:
                for key in analytics.COUNTS:
                    setattr(total, key, getattr(total, key) + getattr(s, key))
                warnings.extend({"event": label, "week": s.label, "text": w} for w in s.warnings)
            has_data = analytics.has_data(stats)
            sections.append(
                {
                    "event": name,
                    "label": label,
                    "has_data": has_data,
                    "weeks": [analytics.display(s) for s in stats if s.sent],
                    "total": analytics.display(total),
                    # Without webhook data every rate would be a fake 0 %.
                    "charts": analytics.charts_for(name, stats) if has_data else [],
                }
            )
        since = attribution.period_start(weeks)
        labels = dict(event_choices())
        revenue = attribution.revenue_by_event(since=since, event=event or None)
        order = {name: i for i, name in enumerate(ALL_EVENTS)}
        context = {
            **self.admin_site.each_context(request),
            "title": gettext("Email analytics"),
            "revenue_rows": [
                {
                    "label": labels.get(name, name),
                    "orders": r.orders,
                    "revenue": r.formatted(),
                    "unknown": r.unknown,
                }
                for name, r in sorted(revenue.items(), key=lambda kv: order.get(kv[0], len(order)))
            ],
            "variant_rows": [
                {
                    **v,
                    "label_event": labels.get(v["event"], v["event"]),
                    "orders": v["revenue"].orders,
                    "amounts": v["revenue"].formatted(),
                }
                for v in attribution.revenue_by_variant(since=since, event=event or None)
            ],
            "attribution_days": app_settings.ATTRIBUTION_DAYS,
            "opts": self.model._meta,
            "sections": sections,
            "warnings": warnings,
            "webhooks_seen": analytics.webhooks_seen(),
            "setup_docs_url": analytics.SETUP_DOCS_URL,
            "weeks": weeks,
            "week_choices": [4, 12, 26, 52],
            "event": event,
            "events": [
                (value, label)
                for value, label in event_choices()
                if value not in getattr(events_module, "INTERNAL_EVENTS", ())
            ],
            **(extra_context or {}),
        }
        return TemplateResponse(request, "django_order_mail/tracking/admin/analytics.html", context)
