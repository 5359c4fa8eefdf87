"""The low-score follow-up queue: the complaints, who contacts the
customer, and what came of it (:class:`FollowUpAdmin`)."""

from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import Case, IntegerField, Q, Value, When
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from .models import FollowUpStatus, SurveyResponse
from .response_admin import SurveyResponseAdmin


class FollowUpAdmin(SurveyResponseAdmin):
    """The complaints (every response that was ever low, whatever its score
    is now): who contacts the customer, and what came of it. A case leaves
    the open part of the queue only when staff resolve it.

    The customer's name and address are on the list, so staff can call or
    write without opening the order: the address the feedback email went
    to (joined), the name from the orders (one query per order model, not
    per row).
    """

    list_display = (
        "created_at",
        "score_badge",
        "comment_excerpt",
        "customer_name",
        "customer_email",
        "order_reference",
        "channel",
        "follow_up_status",
        "assignee",
    )
    list_editable = ("follow_up_status", "assignee")
    list_filter = ("follow_up_status", "assignee", "is_low", "channel", "scale")
    list_select_related = ("assignee", "content_type", "email")
    search_fields = ("reference", "comment", "email__recipient")
    actions = ("assign_to_me", "mark_contacted", "mark_resolved")
    change_list_template = None

    def get_queryset(self, request):
        # Open cases first (new, then contacted), newest first within each.
        rank = Case(
            When(follow_up_status=FollowUpStatus.NEW, then=Value(0)),
            When(follow_up_status=FollowUpStatus.CONTACTED, then=Value(1)),
            default=Value(2),
            output_field=IntegerField(),
        )
        return (
            super()
            .get_queryset(request)
            .filter(Q(complaint=True) | Q(is_low=True))
            .annotate(_rank=rank)
            .order_by("_rank", "-created_at")
            .prefetch_related("order")
        )

    def get_changelist_formset(self, request, **kwargs):
        formset = super().get_changelist_formset(request, **kwargs)
        # Every row's assignee list is the same: one query for the page, not one per row.
        field = formset.form.base_fields.get("assignee")
        if field is not None:
            field.choices = list(field.choices)
        return formset

    @admin.display(description=_("customer"))
    def customer_name(self, obj):
        order = obj.order
        getter = getattr(order, "get_mail_customer_name", None)
        name = getter() if getter is not None else getattr(order, "customer_name", "")
        return name or "—"

    @admin.display(description=_("email address"), ordering="email__recipient")
    def customer_email(self, obj):
        address = obj.email.recipient if obj.email_id is not None else ""
        if not address and obj.order is not None:
            getter = getattr(obj.order, "get_mail_recipient", None)
            address = getter() if getter is not None else ""
        if not address:
            return "—"
        return format_html('<a href="mailto:{}">{}</a>', address, address)

    def get_urls(self):
        return admin.ModelAdmin.get_urls(self)  # the report lives on the responses admin

    def _set(self, request, queryset, message, **fields):
        pks = list(queryset.values_list("pk", flat=True))
        updated = SurveyResponse.objects.filter(pk__in=pks).update(updated_at=timezone.now(), **fields)
        self.message_user(request, message % {"count": updated}, messages.SUCCESS)

    @admin.action(description=_("Assign to me"), permissions=["change"])
    def assign_to_me(self, request, queryset):
        self._set(request, queryset, _("Assigned %(count)d follow-ups to you."), assignee=request.user)

    @admin.action(description=_("Mark as contacted"), permissions=["change"])
    def mark_contacted(self, request, queryset):
        count = queryset.count()
        self._set(
            request,
            queryset,
            ngettext(
                "%(count)d follow-up marked contacted.", "%(count)d follow-ups marked contacted.", count
            ),
            follow_up_status=FollowUpStatus.CONTACTED,
        )

    @admin.action(description=_("Mark as resolved"), permissions=["change"])
    def mark_resolved(self, request, queryset):
        count = queryset.count()
        self._set(
            request,
            queryset,
            ngettext("%(count)d follow-up marked resolved.", "%(count)d follow-ups marked resolved.", count),
            follow_up_status=FollowUpStatus.RESOLVED,
        )
