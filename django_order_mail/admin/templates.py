"""The email template editor: edit, validate, preview live, send oneself a
test, keep every version, compare and revert, reset to the default.

Permissions: ``view_emailtemplate`` opens the editor, the preview, the
versions and the comparison; ``add_emailtemplate`` / ``change_emailtemplate``
save, send a test, revert and reset.
"""

from __future__ import annotations

import difflib
import re

from django.contrib import admin, messages
from django.core.exceptions import BadRequest, PermissionDenied
from django.http import JsonResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import translation
from django.utils.html import format_html_join
from django.utils.safestring import mark_safe
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET, require_POST

from ..events import MailEvent
from ..rendering.branding import from_email
from ..rendering.db_loader import choose, default_fields
from ..rendering.models import TEMPLATE_FIELDS, EmailContent, EmailTemplate, EmailTemplateVersion
from ..rendering.render import render_fields, resolve_language
from ..rendering.sample import sample_context
from ..rendering.validation import describe_context, validate_fields
from .forms import EmailTemplateForm, event_choices, language_choices
from .preview import PreviewError, preview_subject, queue_test_email, rendered_json

MEDIA_JS = "django_order_mail/admin/editor.js"
MEDIA_CSS = "django_order_mail/admin/editor.css"


class VersionInline(admin.TabularInline):
    model = EmailTemplateVersion
    extra = 0
    max_num = 0
    can_delete = False
    fields = ("number", "created_at", "created_by", "is_active", "note")
    readonly_fields = fields
    show_change_link = False
    verbose_name_plural = _("recent versions")

    def get_queryset(self, request):
        return super().get_queryset(request).defer("html_body", "plain_body")

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(EmailTemplate)
class EmailTemplateAdmin(admin.ModelAdmin):
    form = EmailTemplateForm
    change_form_template = "admin/django_order_mail/emailtemplate/change_form.html"
    change_list_template = "admin/django_order_mail/emailtemplate/change_list.html"
    list_display = ("event", "language", "channel_label", "is_active", "version", "updated_at", "updated_by")
    list_filter = ("event", "language", "is_active")
    list_select_related = ()
    search_fields = ("subject",)
    fieldsets = (
        (None, {"fields": (("event", "language", "channel"), "is_active")}),
        (None, {"fields": TEMPLATE_FIELDS}),
        (None, {"fields": ("confirm_warnings", "loaded_version"), "classes": ("order-mail-confirm",)}),
    )

    class Media:
        js = (MEDIA_JS,)
        css = {"all": (MEDIA_CSS,)}

    @admin.display(description=_("sales channel"), ordering="channel")
    def channel_label(self, obj):
        return obj.channel or gettext("every channel")

    # -- saving: every save is a version -------------------------------------
    def get_changeform_initial_data(self, request):
        initial = super().get_changeform_initial_data(request)
        event = initial.get("event") or MailEvent.ORDER_CONFIRMATION
        initial.setdefault("event", event)
        initial.setdefault("language", resolve_language(translation.get_language()))
        for name, value in default_fields(event, initial.get("channel", "")).items():
            initial.setdefault(name, value)
        return initial

    def save_model(self, request, obj, form, change):
        user = request.user.get_username()
        if change and not (set(form.changed_data) & {*TEMPLATE_FIELDS, "is_active"}):
            return  # nothing that changes an email: no new version
        obj.save_with_version(by=user, note="" if change else gettext("created"))

    def get_inlines(self, request, obj):
        return [VersionInline] if obj is not None else []

    # -- extra pages -------------------------------------------------------------
    def get_urls(self):
        view = self.admin_site.admin_view
        name = "django_order_mail_emailtemplate_"
        return [
            path("preview/", view(require_POST(self.preview_view)), name=name + "preview"),
            path("send-test/", view(require_POST(self.send_test_view)), name=name + "send_test"),
            path("defaults/", view(require_GET(self.defaults_view)), name=name + "defaults"),
            path("<int:pk>/versions/", view(self.versions_view), name=name + "versions"),
            path("<int:pk>/compare/", view(self.compare_view), name=name + "compare"),
            path(
                "<int:pk>/versions/<int:number>/revert/",
                view(require_POST(self.revert_view)),
                name=name + "revert",
            ),
            path("<int:pk>/reset/", view(require_POST(self.reset_view)), name=name + "reset"),
            *super().get_urls(),
        ]

    def _can_edit(self, request):
        return self.has_change_permission(request) or self.has_add_permission(request)

    def _draft(self, request) -> tuple[dict, str, str, str]:
        data = request.POST
        # On a saved template these fields are disabled (not posted); the
        # editor posts them as _event, _language and _channel instead.
        event = data.get("event") or data.get("_event", "")
        if event not in dict(event_choices()):
            raise BadRequest("unknown email event")
        languages = dict(language_choices())
        language = data.get("language") or data.get("_language", "")
        language = language if language in languages else ""
        channel = data.get("channel", data.get("_channel", ""))
        fields = {name: data.get(name, "") for name in TEMPLATE_FIELDS}
        return fields, event, language, channel

    def preview_view(self, request):
        """Render the editor's unsaved fields; JSON for the live preview."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        fields, event, language, channel = self._draft(request)
        problems = validate_fields(fields, event, language=language, channel=channel)
        if any(p.level == "error" for p in problems):
            return JsonResponse({"ok": False, "problems": [_problem_json(p) for p in problems]})
        try:
            subject = preview_subject(
                request, event, order_number=request.POST.get("order_number", ""), channel=channel
            )
            rendered = render_fields(fields, subject.context, event=event, language=language, channel=channel)
        except PreviewError as exc:
            return JsonResponse({"ok": False, "problems": [{"level": "error", "text": str(exc)}]})
        except Exception as exc:  # noqa: BLE001 - a real order can break what the sample did not
            text = gettext("This order cannot be rendered: %(error)s") % {
                "error": f"{type(exc).__name__}: {exc}"
            }
            return JsonResponse({"ok": False, "problems": [{"level": "error", "text": text}]})
        answer = rendered_json(
            rendered,
            sender=from_email(),
            recipient=subject.context.get("recipient") or "",
            label=subject.label,
        )
        answer["problems"] = [_problem_json(p) for p in problems]
        return JsonResponse(answer)

    def send_test_view(self, request):
        """Queue what the preview shows as a test email to the staff member."""
        if not self._can_edit(request):
            raise PermissionDenied
        if not request.user.email:
            return JsonResponse({"ok": False, "message": gettext("Your user has no email address.")})
        fields, event, language, channel = self._draft(request)
        problems = validate_fields(fields, event, language=language, channel=channel)
        if any(p.level == "error" for p in problems):
            return JsonResponse({"ok": False, "message": gettext("Fix the errors first.")})
        try:
            subject = preview_subject(
                request, event, order_number=request.POST.get("order_number", ""), channel=channel
            )
            rendered = render_fields(fields, subject.context, event=event, language=language, channel=channel)
        except Exception as exc:  # noqa: BLE001 - shown to the editor
            return JsonResponse({"ok": False, "message": str(exc)})
        row = queue_test_email(request.user, rendered, event=event, channel=channel, label=subject.label)
        text = gettext("Test email queued to %(email)s.") % {"email": request.user.email}
        url = ""
        if request.user.has_perm("django_order_mail.view_outboxemail"):
            url = reverse("admin:django_order_mail_outboxemail_change", args=[row.pk])
        return JsonResponse({"ok": True, "message": text, "url": url, "id": row.pk})

    def defaults_view(self, request):
        """The packaged template's fields for an event, to start from."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        event = request.GET.get("event", "")
        if event not in dict(event_choices()):
            raise BadRequest("unknown email event")
        return JsonResponse(default_fields(event, request.GET.get("channel", "")))

    def _template(self, request, pk, *, edit=False) -> EmailTemplate:
        obj = get_object_or_404(EmailTemplate, pk=pk)
        allowed = self.has_change_permission(request, obj) if edit else self.has_view_permission(request, obj)
        if not allowed:
            raise PermissionDenied
        return obj

    def versions_view(self, request, pk):
        obj = self._template(request, pk)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "original": obj,
            "title": gettext("Versions of %(template)s") % {"template": obj},
            "versions": obj.versions.defer("html_body", "plain_body"),
            "can_edit": self.has_change_permission(request, obj),
        }
        return TemplateResponse(request, "admin/django_order_mail/emailtemplate/versions.html", context)

    def compare_view(self, request, pk):
        obj = self._template(request, pk)
        a = get_object_or_404(EmailTemplateVersion, template=obj, number=_version_number(request, "a"))
        b = get_object_or_404(EmailTemplateVersion, template=obj, number=_version_number(request, "b"))
        if a.number > b.number:
            a, b = b, a
        diffs = []
        for name in TEMPLATE_FIELDS:
            old, new = getattr(a, name).splitlines(), getattr(b, name).splitlines()
            lines = list(difflib.unified_diff(old, new, lineterm="", n=2))[2:]
            diffs.append(
                {
                    "label": EmailTemplate._meta.get_field(name).verbose_name,
                    "lines": [(line[:1], line) for line in lines],
                }
            )
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "original": obj,
            "title": gettext("Version %(a)d compared with version %(b)d") % {"a": a.number, "b": b.number},
            "a": a,
            "b": b,
            "diffs": diffs,
            "can_edit": self.has_change_permission(request, obj),
        }
        return TemplateResponse(request, "admin/django_order_mail/emailtemplate/compare.html", context)

    def revert_view(self, request, pk, number):
        obj = self._template(request, pk, edit=True)
        version = get_object_or_404(EmailTemplateVersion, template=obj, number=number)
        fields = version.field_values()
        errors = [
            p
            for p in validate_fields(fields, obj.event, language=obj.language, channel=obj.channel)
            if p.level == "error"
        ]
        if errors:
            text = gettext("Version %(n)d no longer works and was not restored: %(errors)s") % {
                "n": number,
                "errors": "; ".join(str(p) for p in errors),
            }
            self.message_user(request, text, messages.ERROR)
            return redirect("admin:django_order_mail_emailtemplate_versions", obj.pk)
        for name, value in fields.items():
            setattr(obj, name, value)
        obj.is_active = True
        obj.save_with_version(
            by=request.user.get_username(), note=gettext("reverted to version %(n)d") % {"n": number}
        )
        self.message_user(
            request, gettext("Version %(n)d restored as version %(v)d.") % {"n": number, "v": obj.version}
        )
        return redirect("admin:django_order_mail_emailtemplate_change", obj.pk)

    def reset_view(self, request, pk):
        """Stop using the edited template: the packaged one is used again.

        The editor is refilled with the packaged text (a new, unused
        version), so every earlier version stays available to revert to.
        """
        obj = self._template(request, pk, edit=True)
        for name, value in default_fields(obj.event, obj.channel).items():
            setattr(obj, name, value)
        obj.is_active = False
        obj.save_with_version(by=request.user.get_username(), note=gettext("reset to default"))
        self.message_user(request, gettext("Customers get the default template again."))
        return redirect("admin:django_order_mail_emailtemplate_change", obj.pk)

    # -- the editor page ---------------------------------------------------------
    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        form = context["adminform"].form
        # A saved template's email, language and channel are fixed: read them
        # from the template (a view-only user's form holds no values).
        event = (obj.event if obj is not None else form["event"].value()) or MailEvent.ORDER_CONFIRMATION
        channel = (obj.channel if obj is not None else form["channel"].value()) or ""
        language = (obj.language if obj is not None else form["language"].value()) or ""
        sample = sample_context(event, channel=channel or "web")
        in_use = choose(event, language, channel) if not add else None
        # A view-only user's form has no template fields (the admin shows
        # them read-only): the saved template's text is what they look at.
        fields = {
            name: (form[name].value() if name in form.fields else getattr(obj, name, "")) or ""
            for name in TEMPLATE_FIELDS
        }
        try:
            rendered = render_fields(fields, sample, event=event, language=language, channel=channel)
            preview = rendered_json(
                rendered, sender=from_email(), recipient=sample["recipient"], label=gettext("sample order")
            )
        except Exception:  # noqa: BLE001 - the form shows the error; no preview until it is fixed
            preview = None
        context.update(
            {
                "preview": preview,
                "variables": [(VariableName(name), value) for name, value in describe_context(sample)],
                "problems": [_problem_json(p) for p in getattr(form, "problems", [])],
                "has_warnings": bool(getattr(form, "warnings", [])),
                "can_edit": self._can_edit(request),
                "can_pick_order": request.user.has_perm("django_order_mail.view_outboxemail"),
                "in_use_is_this": bool(
                    in_use and in_use.db_template and obj and in_use.db_template.pk == obj.pk
                ),
                # Precedence, seen from this side: the text fields edited in
                # Email texts that this template, while in use, replaces.
                "text_edits": EmailContent.objects.filter(event=event, language=language).count(),
                "texts_url": reverse(
                    "admin:django_order_mail_emailcontent_edit",
                    args=[event, language or resolve_language("")],
                ),
                "preview_url": reverse("admin:django_order_mail_emailtemplate_preview"),
                "send_test_url": reverse("admin:django_order_mail_emailtemplate_send_test"),
                "defaults_url": reverse("admin:django_order_mail_emailtemplate_defaults"),
            }
        )
        return super().render_change_form(request, context, add, change, form_url, obj)

    def changelist_view(self, request, extra_context=None):
        edited = set(EmailTemplate.objects.filter(is_active=True).values_list("event", flat=True))
        events = [(value, label, value in edited) for value, label in event_choices()]
        extra_context = {**(extra_context or {}), "order_mail_events": events}
        return super().changelist_view(request, extra_context)


def _version_number(request, param: str) -> int:
    """``?a=`` / ``?b=`` of the comparison: a version number (0, which no
    version has, when missing); anything else is a bad request (400)."""
    value = request.GET.get(param) or "0"
    if not value.isascii() or not value.isdigit() or len(value) > 9:
        raise BadRequest(f"?{param}= must be a version number")
    return int(value)


class VariableName(str):
    """A variable's name; ``.breakable`` is its HTML that may wrap only
    after a dot (``expected.<wbr>ship_by``), never in the middle of a word."""

    @property
    def breakable(self) -> str:
        return format_html_join(mark_safe("<wbr>"), "{}", ((part,) for part in re.split(r"(?<=\.)", self)))


def _problem_json(problem) -> dict:
    return {"level": problem.level, "text": str(problem), "field": problem.field, "line": problem.line}
