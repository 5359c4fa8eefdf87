"""The moderation queue of product reviews.

Every review waits here until staff approve or reject it, whatever its
rating; the queue shows pending reviews first. What the customer wrote is
read-only and always escaped (plain strings are escaped by Django, the few
HTML snippets are built with ``format_html``). Permissions: *view* to see
the queue, *change* to write the public reply, *moderate* (``Can approve
and reject product reviews``) to approve and reject, alone or in bulk.
Approving, rejecting and replying are recorded in the review's history.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.db.models import Case, Count, IntegerField, Value, When
from django.template.response import TemplateResponse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import format_html, format_html_join
from django.utils.text import Truncator, capfirst
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from ..admin.links import email_link, order_link
from .models import ProductReview, ReviewRevision, ReviewStatus
from .recording import moderate, set_reply

STATUS_COLOURS = {
    ReviewStatus.PENDING: "#b45309",
    ReviewStatus.APPROVED: "#15803d",
    ReviewStatus.REJECTED: "#b91c1c",
}

THUMBNAIL_STYLE = "width:120px;height:120px;object-fit:cover;border-radius:4px"


class ReviewModerationForm(forms.ModelForm):
    class Meta:
        model = ProductReview
        fields = ("status", "rejection_reason", "public_reply")

    def clean(self):
        data = super().clean()
        if data.get("status") == ReviewStatus.REJECTED and not (data.get("rejection_reason") or "").strip():
            self.add_error("rejection_reason", _("Give the reason for rejecting: the customer reads it."))
        return data


class RejectForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason for rejecting (shown to the customer)"),
        widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
        max_length=1000,
    )


class HasPhotosFilter(admin.SimpleListFilter):
    title = _("photos")
    parameter_name = "photos"

    def lookups(self, request, model_admin):
        return [("yes", _("With photos")), ("no", _("Without photos"))]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.filter(photos__isnull=False).distinct()
        if self.value() == "no":
            return queryset.filter(photos__isnull=True)
        return queryset


class HasReplyFilter(admin.SimpleListFilter):
    title = _("public reply")
    parameter_name = "reply"

    def lookups(self, request, model_admin):
        return [("yes", _("Replied")), ("no", _("Not replied"))]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.exclude(public_reply="")
        if self.value() == "no":
            return queryset.filter(public_reply="")
        return queryset


@admin.register(ProductReview)
class ProductReviewAdmin(admin.ModelAdmin):
    form = ReviewModerationForm
    list_display = (
        "changed_at",
        "status_badge",
        "stars",
        "product",
        "title_excerpt",
        "order_reference",
        "verified",
        "photo_count",
    )
    list_display_links = ("changed_at",)
    list_filter = (
        "status",
        "rating",
        "verified_buyer",
        HasPhotosFilter,
        HasReplyFilter,
        "channel",
        "language",
    )
    search_fields = ("reference", "product_id", "product_name", "title", "body", "display_name")
    date_hierarchy = "created_at"
    list_select_related = ("content_type",)
    actions = ("approve_reviews", "reject_reviews")
    fieldsets = (
        (
            _("What the customer wrote"),
            {
                "fields": (
                    "product",
                    "order_reference",
                    "stars",
                    "title",
                    "body_text",
                    "display_name",
                    "verified_buyer",
                    "photo_gallery",
                    "channel",
                    "language",
                    "created_at",
                    "changed_at",
                    "email_link",
                )
            },
        ),
        (_("Moderation"), {"fields": ("status", "rejection_reason", "moderated_at", "moderated_by")}),
        (_("Public reply"), {"fields": ("public_reply", "replied_at")}),
        (_("History"), {"fields": ("revision_history",)}),
    )
    customer_fields = (
        "product",
        "order_reference",
        "stars",
        "title",
        "body_text",
        "display_name",
        "verified_buyer",
        "photo_gallery",
        "channel",
        "language",
        "created_at",
        "changed_at",
        "email_link",
        "moderated_at",
        "moderated_by",
        "replied_at",
        "revision_history",
    )

    def has_add_permission(self, request):
        return False  # reviews come from customers only

    def has_moderate_permission(self, request) -> bool:
        return request.user.has_perm(f"{self.opts.app_label}.moderate_productreview")

    def get_readonly_fields(self, request, obj=None):
        if self.has_moderate_permission(request):
            return self.customer_fields
        return (*self.customer_fields, "status", "rejection_reason")

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(_photos=Count("photos"))

    def get_ordering(self, request):
        # The queue: pending first, the latest change first within each status.
        rank = Case(
            When(status=ReviewStatus.PENDING, then=Value(0)),
            When(status=ReviewStatus.REJECTED, then=Value(2)),
            default=Value(1),
            output_field=IntegerField(),
        )
        return [rank.asc(), "-changed_at"]

    def save_model(self, request, obj, form, change):
        """Moderation and reply go through :mod:`.recording`, so each is in
        the history with who did it; the customer's text is never saved here."""
        review = ProductReview.objects.get(pk=obj.pk)
        data = form.cleaned_data
        if self.has_moderate_permission(request) and "status" in data:
            moderate(
                review, data["status"], user=request.user, reason=data.get("rejection_reason", "").strip()
            )
        if "public_reply" in data:
            set_reply(review, data["public_reply"], user=request.user)

    # -- columns ------------------------------------------------------------------------------------------

    @admin.display(description=_("status"), ordering="status")
    def status_badge(self, obj):
        return format_html(
            '<strong style="color:{}">{}</strong>',
            STATUS_COLOURS.get(obj.status, "#374151"),
            obj.get_status_display(),
        )

    @admin.display(description=_("rating"), ordering="rating")
    def stars(self, obj):
        return format_html(
            '<span title="{}/5" style="color:#f59e0b">{}</span><span style="color:#d1d5db">{}</span>',
            obj.rating,
            "★" * obj.rating,
            "★" * (5 - obj.rating),
        )

    @admin.display(description=_("product"), ordering="product_name")
    def product(self, obj):
        if obj.product_name and obj.product_name != obj.product_id:
            return format_html("{} <small>({})</small>", obj.product_name, obj.product_id)
        return obj.product_id

    @admin.display(description=_("title"))
    def title_excerpt(self, obj):
        text = obj.title or obj.body
        return Truncator(text).chars(60) if text else "—"

    @admin.display(description=_("verified buyer"), boolean=True, ordering="verified_buyer")
    def verified(self, obj):
        return obj.verified_buyer

    @admin.display(description=_("photos"), ordering="_photos")
    def photo_count(self, obj):
        return getattr(obj, "_photos", None) or obj.photos.count()

    @admin.display(description=_("review"))
    def body_text(self, obj):
        if not obj.body:
            return "—"
        return format_html('<div style="white-space:pre-wrap;max-width:60em">{}</div>', obj.body)

    @admin.display(description=_("photos"))
    def photo_gallery(self, obj):
        photos = list(obj.photos.all()) if obj.pk else []
        if not photos:
            return "—"
        return format_html_join(
            " ",
            '<a href="{}" target="_blank" rel="noopener"><img src="{}" alt="" style="{}"></a>',
            ((p.image.url, p.image.url, THUMBNAIL_STYLE) for p in photos),
        )

    @admin.display(description=_("order"), ordering="reference")
    def order_reference(self, obj):
        return order_link(obj.content_type, obj.object_id, obj.reference)

    @admin.display(description=_("review email"))
    def email_link(self, obj):
        return email_link(obj.email_id)

    @admin.display(description=_("history"))
    def revision_history(self, obj):
        """Every recorded state, oldest first: the customer's changes and
        the moderators' decisions."""
        entries = list(obj.history.select_related("staff_user")) if obj.pk else []
        if not entries:
            return "—"
        field = ReviewRevision._meta.get_field
        names = (
            "recorded_at",
            "via",
            "status",
            "rating",
            "title",
            "body",
            "photo_count",
            "note",
            "staff_user",
        )
        head = format_html_join("", "<th>{}</th>", ((capfirst(field(n).verbose_name),) for n in names))
        rows = format_html_join(
            "",
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}/5</td><td>{}</td>"
            '<td style="white-space:pre-wrap">{}</td><td>{}</td>'
            '<td style="white-space:pre-wrap">{}</td><td>{}</td></tr>',
            (
                (
                    date_format(timezone.localtime(e.recorded_at), "DATETIME_FORMAT"),
                    e.get_via_display(),
                    e.get_status_display(),
                    e.rating,
                    e.title or "—",
                    e.body or "—",
                    e.photo_count,
                    e.note or "—",
                    e.staff_user or "—",
                )
                for e in entries
            ),
        )
        return format_html('<table class="review-history"><tr>{}</tr>{}</table>', head, rows)

    # -- actions ------------------------------------------------------------------------------------------

    @admin.action(description=_("Approve selected reviews"), permissions=["moderate"])
    def approve_reviews(self, request, queryset):
        count = sum(moderate(review, ReviewStatus.APPROVED, user=request.user) for review in queryset)
        self.message_user(
            request,
            ngettext("%(count)d review approved.", "%(count)d reviews approved.", count) % {"count": count},
            messages.SUCCESS,
        )

    @admin.action(description=_("Reject selected reviews…"), permissions=["moderate"])
    def reject_reviews(self, request, queryset):
        """Asks for the reason first (an intermediate page), then rejects."""
        form = RejectForm(request.POST if "apply" in request.POST else None)
        if form.is_bound and form.is_valid():
            reason = form.cleaned_data["reason"].strip()
            count = sum(
                moderate(r, ReviewStatus.REJECTED, user=request.user, reason=reason) for r in queryset
            )
            self.message_user(
                request,
                ngettext("%(count)d review rejected.", "%(count)d reviews rejected.", count)
                % {"count": count},
                messages.SUCCESS,
            )
            return None
        context = {
            **self.admin_site.each_context(request),
            "title": _("Reject reviews"),
            "opts": self.opts,
            "reviews": list(queryset),
            "form": form,
        }
        return TemplateResponse(request, "django_order_mail/reviews/admin/reject.html", context)
