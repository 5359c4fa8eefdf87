"""Data requests in the admin: export one address's data as JSON, or erase
it, from a page under the send log; and the read-only log of requests.

Both need ``django_order_mail.view_outboxemail`` and
``django_order_mail.handle_datarequest``. The page acts on POST only: a GET
shows the form and changes nothing.
"""

from __future__ import annotations

import json

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from ..data.models import DataRequest
from ..data.requests import DjangoJSONEncoder, erase_address, export_address, export_counts, log_request

PERMISSIONS = ("django_order_mail.view_outboxemail", "django_order_mail.handle_datarequest")


class DataRequestForm(forms.Form):
    address = forms.EmailField(label=_("Customer's email address"))
    action = forms.ChoiceField(
        label=_("Request"),
        choices=[("export", _("Export the data as JSON")), ("erase", _("Erase the data"))],
        widget=forms.RadioSelect,
        initial="export",
    )
    confirm = forms.BooleanField(
        label=_("I understand that erasure cannot be undone."),
        required=False,
    )

    def clean(self):
        data = super().clean()
        if data.get("action") == "erase" and not data.get("confirm"):
            raise forms.ValidationError(gettext("Tick the box to confirm the erasure."))
        return data


def data_request_view(model_admin, request):
    if not request.user.has_perms(PERMISSIONS):
        raise PermissionDenied
    form = DataRequestForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        address = form.cleaned_data["address"]
        if form.cleaned_data["action"] == "export":
            data = export_address(address)
            log_request(DataRequest.Kind.EXPORT, address, export_counts(data), request.user)
            response = HttpResponse(
                json.dumps(data, cls=DjangoJSONEncoder, indent=2, ensure_ascii=False),
                content_type="application/json; charset=utf-8",
            )
            name = f"personal-data-{timezone.now():%Y%m%d-%H%M%S}.json"
            response["Content-Disposition"] = f'attachment; filename="{name}"'
            return response
        counts = erase_address(address)
        entry = log_request(DataRequest.Kind.ERASURE, address, counts, request.user)
        model_admin.message_user(
            request,
            gettext("The address was erased: %(n)d rows changed (data request #%(pk)d).")
            % {"n": entry.total, "pk": entry.pk},
            messages.SUCCESS,
        )
        return redirect("admin:django_order_mail_outboxemail_data_request")
    context = {
        **model_admin.admin_site.each_context(request),
        "title": gettext("Customer data request"),
        "opts": model_admin.model._meta,
        "form": form,
        "recent": DataRequest.objects.all()[:10],
    }
    return TemplateResponse(request, "admin/django_order_mail/data_request.html", context)


def data_request_urls(model_admin) -> list:
    """The page's URL, mounted under the send log's admin."""
    view = model_admin.admin_site.admin_view(lambda request: data_request_view(model_admin, request))
    return [path("data-request/", view, name="django_order_mail_outboxemail_data_request")]


@admin.register(DataRequest)
class DataRequestAdmin(admin.ModelAdmin):
    """The read-only log of export and erasure requests."""

    list_display = ("created_at", "kind", "requested_by_name", "total_rows")
    list_filter = ("kind",)
    readonly_fields = ("kind", "address_hash", "requested_by_name", "created_at", "counts")
    fields = readonly_fields

    @admin.display(description=_("rows"))
    def total_rows(self, obj):
        return obj.total

    def has_view_permission(self, request, obj=None):
        return request.user.has_perms(PERMISSIONS)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
