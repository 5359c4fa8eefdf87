"""*Email texts*: staff change what customers read without template code.

The list is an overview of every customer email in every language: which
fields are edited, which use the packaged text, which miss a translation,
and where a template edited as code wins. Each cell opens the editor of one
email in one language: a plain-text field per text field (subject, preview
text, headline, introduction, button label, closing paragraph, footer
note), the variables as chips that insert a placeholder, the default
language's text beside each field, and the live preview.

Permissions: ``view_emailcontent`` opens the overview, the editor (read
only) and the preview; ``change_emailcontent`` saves (a cleared field goes
back to the packaged text) and sends oneself a test. Every change is in
the admin's log (``LogEntry``: who, when, which field of which email).
"""

from __future__ import annotations

from django.contrib import admin, messages
from django.contrib.admin.models import LogEntry
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import BadRequest, PermissionDenied
from django.db import transaction
from django.http import JsonResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import translation
from django.utils.translation import gettext
from django.views.decorators.http import require_POST

from ..rendering.branding import from_email
from ..rendering.content_registry import text_fields
from ..rendering.content_validation import offered_variables
from ..rendering.models import CONTENT_SLOTS, EmailContent
from ..rendering.render import render_event
from .content_forms import EmailContentForm
from .content_overview import EDITED, MISSING, Overview, overview_languages
from .forms import event_choices, language_choices
from .preview import PreviewError, preview_subject, queue_test_email, rendered_json
from .templates import MEDIA_CSS, MEDIA_JS

CONTENT_JS = "django_order_mail/admin/content.js"
CONTENT_CSS = "django_order_mail/admin/content.css"


def _group_label(group: str) -> str:
    labels = {
        "": gettext("Order"),
        "shop": gettext("Shop"),
        "shipment": gettext("Parcel"),
        "totals": gettext("Amounts"),
        "expected": gettext("Expected dates"),
        "payment": gettext("Payment"),
        "extra": gettext("This email"),
    }
    return labels.get(group, group)


def _history(event: str, language: str):
    """The log entries of the fields of ``event`` in ``language``, newest
    first (found by the row's text, which stays after a field is cleared)."""
    return LogEntry.objects.filter(
        content_type=ContentType.objects.get_for_model(EmailContent),
        object_repr__startswith=f"{event} · {language} · ",
    ).select_related("user")[:10]


def _log_row(entry: LogEntry) -> dict:
    slot = entry.object_repr.rsplit(" · ", 1)[-1]
    if entry.is_deletion():
        what = gettext("cleared, the packaged text again")
    elif entry.is_addition():
        what = gettext("written")
    else:
        what = gettext("changed")
    return {
        "when": entry.action_time,
        "who": entry.user.get_username() if entry.user else "",
        "field": CONTENT_SLOTS.get(slot, slot),
        "what": what,
    }


@admin.register(EmailContent)
class EmailContentAdmin(admin.ModelAdmin):
    list_display = ("event", "language", "slot", "updated_at", "updated_by")

    class Media:
        js = (MEDIA_JS, CONTENT_JS)
        css = {"all": (MEDIA_CSS, CONTENT_CSS)}

    def has_add_permission(self, request):
        return False  # fields are written in the editor, with the change permission

    # -- pages -------------------------------------------------------------------
    def get_urls(self):
        view = self.admin_site.admin_view
        name = "django_order_mail_emailcontent_"
        return [
            path("edit/<str:event>/<str:language>/", view(self.edit_view), name=name + "edit"),
            path(
                "edit/<str:event>/<str:language>/preview/",
                view(require_POST(self.preview_view)),
                name=name + "preview",
            ),
            path(
                "edit/<str:event>/<str:language>/send-test/",
                view(require_POST(self.send_test_view)),
                name=name + "send_test",
            ),
            *super().get_urls(),
        ]

    def changelist_view(self, request, extra_context=None):
        """The overview: every email x language, with what is edited and missing."""
        if not self.has_view_or_change_permission(request):
            raise PermissionDenied
        overview = Overview()
        languages = overview_languages(overview.edited_languages)
        rows = []
        for event, label in event_choices():
            if not overview.slots(event):
                rows.append({"event": event, "label": label, "cells": None})
                continue
            cells = []
            for code, name in languages:
                cell = overview.cell(event, code)
                cells.append(
                    {
                        "cell": cell,
                        "name": name,
                        "url": reverse("admin:django_order_mail_emailcontent_edit", args=[event, code]),
                        "missing_labels": ", ".join(f.slot.label for f in cell.missing),
                        "edited_labels": ", ".join(f.slot.label for f in cell.edited),
                    }
                )
            rows.append({"event": event, "label": label, "cells": cells})
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": gettext("Email texts"),
            "languages": languages,
            "default_language": overview.default,
            "rows": rows,
            "all_languages": language_choices(),
            "template_list_url": reverse("admin:django_order_mail_emailtemplate_changelist"),
            **(extra_context or {}),
        }
        request.current_app = self.admin_site.name
        return TemplateResponse(request, "admin/django_order_mail/emailcontent/overview.html", context)

    def add_view(self, request, form_url="", extra_context=None):
        return redirect("admin:django_order_mail_emailcontent_changelist")

    def change_view(self, request, object_id, form_url="", extra_context=None):
        row = get_object_or_404(EmailContent, pk=object_id)
        return redirect("admin:django_order_mail_emailcontent_edit", row.event, row.language)

    def _email(self, request, event: str, language: str, *, edit: bool = False):
        allowed = self.has_change_permission(request) if edit else self.has_view_or_change_permission(request)
        if not allowed:
            raise PermissionDenied
        if event not in dict(event_choices()):
            raise BadRequest("unknown email event")
        if language not in dict(language_choices()):
            raise BadRequest("unknown language")
        overview = Overview([event])
        if not overview.slots(event):
            raise BadRequest("this email has no text fields")
        return overview

    def edit_view(self, request, event, language):
        """One email in one language: the fields beside the default language's."""
        overview = self._email(request, event, language, edit=request.method == "POST")
        slots = overview.slots(event)
        form = EmailContentForm(
            request.POST if request.method == "POST" else None, event=event, language=language, slots=slots
        )
        if request.method == "POST" and form.is_valid():
            with transaction.atomic():
                # Django logs a deletion before it happens, with the rows.
                self.log_deletions(request, EmailContent.objects.filter(pk__in=form.cleared_pks()))
                changes = form.save(by=request.user.get_username())
                self._log(request, changes)
            self._saved_message(request, overview, event, language, [slot for slot, *_rows in changes])
            return redirect("admin:django_order_mail_emailcontent_edit", event, language)
        return TemplateResponse(
            request,
            "admin/django_order_mail/emailcontent/edit.html",
            self._edit_context(request, overview, form, event, language),
        )

    def _log(self, request, changes) -> None:
        """One log entry per field: who, when, which field of which email. The
        field is named in English, as Django's own messages store it; the
        log translates it when it is shown."""
        for slot, before, after in changes:
            with translation.override("en"):
                label = str(CONTENT_SLOTS[slot])
            if before is None and after is not None:
                self.log_addition(request, after, [{"added": {"name": "field", "object": label}}])
            elif after is not None:
                self.log_change(request, after, [{"changed": {"fields": [label]}}])

    def _saved_message(self, request, overview, event, language, slots) -> None:
        if not slots:
            self.message_user(request, gettext("Nothing changed."), messages.INFO)
            return
        labels = {slot.name: slot.label for slot in overview.slots(event)}
        self.message_user(
            request,
            gettext("Saved: %(fields)s. Customers get it from the next email on.")
            % {"fields": ", ".join(labels[s] for s in slots)},
        )
        if overview.code_template(event, language) is not None:
            self.message_user(
                request,
                gettext(
                    "A template edited as code is in use for this email and language: it wins, so "
                    "customers do not get these texts until it is reset to default."
                ),
                messages.WARNING,
            )

    def _edit_context(self, request, overview, form, event, language) -> dict:
        names = dict(language_choices())
        cell = overview.cell(event, language)
        default = overview.default
        reference = overview.cell(event, default) if language != default else None
        rows = []
        for i, state in enumerate(cell.fields):
            ref = reference.fields[i] if reference is not None else None
            if state.packaged:  # an empty field shows, greyed, what customers get
                form.fields[state.slot.name].widget.attrs["placeholder"] = state.packaged
            saved = form.saved.get(state.slot.name)
            rows.append(
                {
                    "state": state,
                    "field": form[state.slot.name],
                    "reference": ref,
                    "saved": saved,
                    "has_variants": state.slot.has_variants,
                }
            )
        chips: dict[str, list] = {}
        for chip in offered_variables(event, language):
            chips.setdefault(chip.group, []).append(chip)
        languages = []
        for code, name in overview_languages(overview.edited_languages | {language}):
            other = overview.cell(event, code)
            languages.append(
                {
                    "code": code,
                    "name": name,
                    "missing": len(other.missing),
                    "edited": len(other.edited),
                    "current": code == language,
                    "url": reverse("admin:django_order_mail_emailcontent_edit", args=[event, code]),
                }
            )
        log = [_log_row(entry) for entry in _history(event, language)]
        can_edit = self.has_change_permission(request)
        if not can_edit:
            for name in form.fields:
                form.fields[name].disabled = True
        return {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": f"{dict(event_choices())[event]} · {names.get(language, language)}",
            "event": event,
            "event_label": dict(event_choices())[event],
            "language": language,
            "language_name": names.get(language, language),
            "default_language": default,
            "default_language_name": names.get(default, default),
            "is_default": language == default,
            "form": form,
            "rows": rows,
            "cell": cell,
            "chip_groups": [(_group_label(group), items) for group, items in chips.items()],
            "languages": languages,
            "log": log,
            "can_edit": can_edit,
            "can_pick_order": request.user.has_perm("django_order_mail.view_outboxemail"),
            "code_template": cell.code_template,
            # What the fields change, where the email says (register_text_fields(note=...)).
            "event_note": text_fields(event).note,
            "preview_url": reverse("admin:django_order_mail_emailcontent_preview", args=[event, language]),
            "send_test_url": reverse(
                "admin:django_order_mail_emailcontent_send_test", args=[event, language]
            ),
            "media": self.media,
            "EDITED": EDITED,
            "MISSING": MISSING,
        }

    # -- preview and test email ----------------------------------------------------
    def _draft(self, request, overview, event, language):
        """The posted fields: the valid ones as the draft, the others' reasons."""
        form = EmailContentForm(request.POST, event=event, language=language, slots=overview.slots(event))
        form.is_valid()
        errors = {name: reasons for name, reasons in form.errors.items() if name in form.fields}
        draft = {
            slot.name: (form.cleaned_data.get(slot.name) or "")
            for slot in overview.slots(event)
            if slot.name not in errors
        }
        problems = [
            {"level": "error", "text": f"{form.fields[name].label}: {reason}", "field": name}
            for name, reasons in errors.items()
            for reason in reasons
        ]
        return {k: v for k, v in draft.items() if v}, problems

    def _render(self, request, event, language, draft):
        subject = preview_subject(
            request, event, order_number=request.POST.get("order_number", ""), language=language
        )
        rendered = render_event(event, subject.context, language=language, use_db=False, content=draft)
        return subject, rendered

    def preview_view(self, request, event, language):
        """Render the unsaved fields into the packaged layout; JSON for the live preview."""
        overview = self._email(request, event, language)
        draft, problems = self._draft(request, overview, event, language)
        try:
            subject, rendered = self._render(request, event, language, draft)
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
        answer["problems"] = problems
        return JsonResponse(answer)

    def send_test_view(self, request, event, language):
        """Queue what the preview shows as a test email to the staff member."""
        overview = self._email(request, event, language, edit=True)
        if not request.user.email:
            return JsonResponse({"ok": False, "message": gettext("Your user has no email address.")})
        draft, problems = self._draft(request, overview, event, language)
        if problems:
            return JsonResponse({"ok": False, "message": gettext("Fix the errors first.")})
        try:
            subject, rendered = self._render(request, event, language, draft)
        except Exception as exc:  # noqa: BLE001 - shown to the editor
            return JsonResponse({"ok": False, "message": str(exc)})
        row = queue_test_email(request.user, rendered, event=event, channel="", label=subject.label)
        text = gettext("Test email queued to %(email)s.") % {"email": request.user.email}
        url = ""
        if request.user.has_perm("django_order_mail.view_outboxemail"):
            url = reverse("admin:django_order_mail_outboxemail_change", args=[row.pk])
        return JsonResponse({"ok": True, "message": text, "url": url, "id": row.pk})
