"""What a shop adds to its own Order admin: the order's emails, transition
buttons with a "notify customer" box each, and "resend order confirmation".

.. code-block:: python

   from django_order_mail.admin import OrderMailAdminMixin

   @admin.register(Order)
   class OrderAdmin(OrderMailAdminMixin, admin.ModelAdmin):
       ...

The mixin adds a "Status and customer emails" section at the top of the
change page and an inline of the order's emails (shown to staff who may read
the send log). Buttons are offered only for transitions django-fsm says are
available from the current state (conditions and transition permissions
included) and only to staff who may change the order; the resend button
needs ``django_order_mail.resend_outboxemail``. A transition whose email gives
a reason gets a choice of the translatable preset reasons and an optional
note, free text sent as typed (:mod:`.reasons`).
"""

from __future__ import annotations

import inspect
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.contrib.contenttypes.admin import GenericTabularInline
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import Http404
from django.shortcuts import redirect
from django.template.loader import render_to_string
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST
from django_fsm import ConcurrentTransition, TransitionNotAllowed

from ..events import MailEvent, skip_reason
from ..lifecycle.shipments import Shipment
from ..outbox import actions
from ..outbox.models import OutboxEmail
from .reasons import reason_form
from .send_log import can_resend
from .send_log_columns import status_badge
from .templates import MEDIA_CSS, MEDIA_JS

if TYPE_CHECKING:
    from django.contrib.admin import AdminSite

PANEL = "order_mail_panel"

#: One name per action, wherever staff meet it: the order page's buttons, the
#: admin history, the messages and the docs (``docs/staff-guide.rst``). The
#: names follow the states and emails they lead to ("Put on hold" -> "On
#: hold", "Order on hold"), so an action never goes by two names ("Freeze"
#: and "Put on hold"). A transition's own ``custom={"label": ...}`` wins; a
#: transition not listed here is named after its method.
TRANSITION_LABELS = {
    "hold_for_payment_review": _("Hold for payment review"),
    "confirm_payment": _("Confirm payment"),
    "fail_payment": _("Payment failed"),
    "ship_partially": _("Ship partially"),
    "ship": _("Ship"),
    "mark_out_for_delivery": _("Mark as out for delivery"),
    "mark_delivered": _("Mark as delivered"),
    "complete": _("Complete"),
    "cancel": _("Cancel order"),
    "freeze": _("Put on hold"),
    "release_hold": _("Release hold"),
    "open_dispute": _("Open dispute"),
    "close_dispute": _("Close dispute"),
    "refund": _("Refund"),
}


def transition_label(name: str, custom: dict | None = None) -> str:
    """The one name staff see for transition ``name`` (:data:`TRANSITION_LABELS`)."""
    if custom and custom.get("label"):
        return str(custom["label"])
    return str(TRANSITION_LABELS.get(name) or name.replace("_", " ").capitalize())


_request: ContextVar = ContextVar("django_order_mail_admin_request", default=None)


class OrderMailEmailInline(GenericTabularInline):
    """The order's customer emails, newest first, each linked to the send log."""

    model = OutboxEmail
    ct_field = "content_type"
    ct_fk_field = "object_id"
    extra = 0
    max_num = 0
    can_delete = False
    fields = ("created_at", "event", "status_label", "why", "recipient", "sent_at", "log_link")
    readonly_fields = fields
    ordering = ("-created_at", "-id")
    verbose_name = _("customer email")
    verbose_name_plural = _("customer emails")

    def get_queryset(self, request):
        return super().get_queryset(request).filter(is_test=False).defer("body_html", "body_text")

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description=_("status"))
    def status_label(self, obj):
        return status_badge(obj)

    @admin.display(description=_("reason"))
    def why(self, obj):
        """Why it was skipped, suppressed, cancelled or failed, or the error
        of the last try of one still being retried (the send log's text)."""
        if not obj.last_error:
            return ""
        if obj.is_final:
            return obj.last_error
        return gettext("last try: %(error)s") % {"error": obj.last_error}

    @admin.display(description="")
    def log_link(self, obj):
        url = reverse("admin:django_order_mail_outboxemail_change", args=[obj.pk])
        return format_html('<a href="{}">{}</a>', url, gettext("details"))


class OrderMailAdminMixin:
    """Mix into the shop's Order ``ModelAdmin`` (before ``admin.ModelAdmin``)."""

    order_mail_inline = OrderMailEmailInline
    #: Transition arguments the mixin can fill in itself (see
    #: :meth:`get_order_mail_transition_kwargs`); a transition with any other
    #: required argument gets no button.
    order_mail_fillable_arguments = frozenset({"shipment"})

    if TYPE_CHECKING:
        # Set by the admin.ModelAdmin this is mixed into (type[Any]: any
        # ModelAdmin[SomeModel] that follows in the bases agrees with it).
        model: type[Any]
        admin_site: AdminSite

    # -- page layout -------------------------------------------------------------
    @property
    def media(self):
        return super().media + forms.Media(js=[MEDIA_JS], css={"all": [MEDIA_CSS]})

    def get_inlines(self, request, obj):
        inlines = list(super().get_inlines(request, obj))
        if obj is not None and self.order_mail_inline not in inlines:
            inlines.append(self.order_mail_inline)
        return inlines

    def get_readonly_fields(self, request, obj=None):
        fields = list(super().get_readonly_fields(request, obj))
        if obj is not None and PANEL not in fields:
            fields.append(PANEL)
        return fields

    def get_fieldsets(self, request, obj=None):
        fieldsets = [
            (name, {**opts, "fields": [f for f in opts.get("fields", ()) if f != PANEL]})
            for name, opts in super().get_fieldsets(request, obj)
        ]
        if obj is not None:
            fieldsets.insert(0, (_("Status and customer emails"), {"fields": [PANEL]}))
        return fieldsets

    def change_view(self, request, object_id, form_url="", extra_context=None):
        # The panel is a read-only field, which gets only the order; the
        # request (for permissions and the CSRF-protected form) rides along
        # in a context variable while the page renders.
        token = _request.set(request)
        try:
            response = super().change_view(request, object_id, form_url, extra_context)
            if hasattr(response, "render") and not response.is_rendered:
                response.render()
            return response
        finally:
            _request.reset(token)

    @admin.display(description=_("status"))
    def order_mail_panel(self, obj):
        request = _request.get()
        field = getattr(obj, "mail_state_field", "state")
        can_move = request is not None and self.has_change_permission(request, obj)
        confirmation = None
        if request is not None and can_resend(request):
            confirmation = (
                OutboxEmail.for_order(obj)
                .filter(event=MailEvent.ORDER_CONFIRMATION, is_test=False)
                .order_by("-created_at", "-id")
                .only("pk", "status")
                .first()
            )
        context = {
            "state": getattr(obj, f"get_{field}_display", lambda: getattr(obj, field, ""))(),
            "transitions": self.order_mail_transitions(request, obj) if can_move else [],
            "transition_url": reverse(self._order_mail_url_name("transition"), args=[obj.pk]),
            "resend_url": reverse(self._order_mail_url_name("resend_confirmation"), args=[obj.pk]),
            "confirmation": confirmation,
        }
        return render_to_string("django_order_mail/admin/order_panel.html", context, request=request)

    # -- transitions --------------------------------------------------------------
    def order_mail_transitions(self, request, obj) -> list[dict]:
        """The buttons: transitions available from the current state."""
        field = getattr(obj, "mail_state_field", "state")
        getter = getattr(obj, f"get_available_user_{field}_transitions", None)
        if getter is None:
            return []
        channel = obj.get_mail_channel() if hasattr(obj, "get_mail_channel") else ""
        # Buttons in the order the model defines its transitions (base first).
        defined = list(dict.fromkeys(n for klass in reversed(type(obj).__mro__) for n in vars(klass)))
        buttons = []
        for transition in getter(request.user):
            method = getattr(obj, transition.name)
            params = _required_params(method)
            if params - self.order_mail_fillable_arguments:
                continue
            emails = []
            for event in getattr(obj, "mail_transitions", {}).get(transition.name, ()):
                reason = skip_reason(event, channel)
                emails.append({"label": MailEvent(event).label, "skipped": reason})
            sent = any(not e["skipped"] for e in emails)
            buttons.append(
                {
                    "name": transition.name,
                    "label": transition_label(transition.name, transition.custom),
                    "help": (inspect.getdoc(method) or "").split("\n")[0],
                    "emails": emails,
                    "notify": _accepts(method, "notify") and sent,
                    "reason_form": self.get_order_mail_reason_form(obj, transition.name) if sent else None,
                }
            )
        buttons.sort(key=lambda b: defined.index(b["name"]) if b["name"] in defined else len(defined))
        return buttons

    def get_order_mail_reason_form(self, order, name: str, data=None):
        """The reason fields of transition ``name`` (:mod:`.reasons`), or None."""
        return reason_form(order, name, data)

    def get_order_mail_transition_kwargs(self, request, order, name: str) -> dict:
        """Arguments for ``order.<name>()``; override for your own transitions.

        Fills ``shipment`` with the newest parcel no shipping email was
        written for, ``reason_code`` and ``note`` from the reason fields.
        Raise ``ValueError("what to do")`` to refuse.
        """
        kwargs = {}
        form = self.get_order_mail_reason_form(order, name, data=request.POST)
        if form is not None:
            if not form.is_valid():
                raise ValueError(" ".join(str(e) for errors in form.errors.values() for e in errors))
            kwargs.update({key: value for key, value in form.cleaned_data.items() if value})
        if "shipment" in _required_params(getattr(order, name)):
            shipment = (
                Shipment.for_order(order)
                .exclude(emails__event=MailEvent.SHIPPING_CONFIRMATION)
                .order_by("-shipped_at", "-id")
                .first()
            )
            if shipment is None:
                raise ValueError(gettext("Add a parcel (carrier and tracking number) and save first."))
            kwargs["shipment"] = shipment
        return kwargs

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path(
                "<path:object_id>/order-mail/transition/",
                view(require_POST(self.order_mail_transition_view)),
                name=self._order_mail_url_name("transition", namespaced=False),
            ),
            path(
                "<path:object_id>/order-mail/resend-confirmation/",
                view(require_POST(self.order_mail_resend_view)),
                name=self._order_mail_url_name("resend_confirmation", namespaced=False),
            ),
            *super().get_urls(),
        ]

    def _order_mail_url_name(self, what: str, *, namespaced: bool = True) -> str:
        opts = self.model._meta
        name = f"{opts.app_label}_{opts.model_name}_order_mail_{what}"
        return f"{self.admin_site.name}:{name}" if namespaced else name

    def _order_or_404(self, request, object_id):
        obj = self.get_object(request, unquote(object_id))
        if obj is None:
            raise Http404
        return obj

    def order_mail_transition_view(self, request, object_id):
        obj = self._order_or_404(request, object_id)
        if not self.has_change_permission(request, obj):
            raise PermissionDenied
        name = request.POST.get("transition", "")
        offered = {b["name"]: b for b in self.order_mail_transitions(request, obj)}
        change_url = reverse(
            f"{self.admin_site.name}:{obj._meta.app_label}_{obj._meta.model_name}_change", args=[obj.pk]
        )
        if name not in offered:
            self.message_user(
                request, gettext("That is not possible in the order's current state."), messages.WARNING
            )
            return redirect(change_url)
        button = offered[name]
        notify = button["notify"] and bool(request.POST.get(f"notify_{name}"))
        try:
            with transaction.atomic():
                order = self.model._default_manager.select_for_update().get(pk=obj.pk)
                method = getattr(order, name)
                kwargs = self.get_order_mail_transition_kwargs(request, order, name)
                if _accepts(method, "notify"):
                    kwargs["notify"] = notify
                method(**kwargs)
                order.save()
        except ValueError as exc:
            self.message_user(request, str(exc), messages.WARNING)
            return redirect(change_url)
        except TransitionNotAllowed:
            self.message_user(
                request, gettext("That is not possible in the order's current state."), messages.WARNING
            )
            return redirect(change_url)
        except ConcurrentTransition:
            self.message_user(
                request, gettext("Someone changed this order meanwhile; try again."), messages.WARNING
            )
            return redirect(change_url)
        if button["emails"] and not notify:
            done = gettext("%(action)s: done, the customer was not notified.")
        elif button["emails"]:
            done = gettext("%(action)s: done, the customer is being emailed.")
        else:
            done = gettext("%(action)s: done.")
        self.log_change(
            request,
            order,
            gettext("%(action)s (notify customer: %(notify)s)")
            % {"action": button["label"], "notify": gettext("yes") if notify else gettext("no")},
        )
        self.message_user(request, done % {"action": button["label"]}, messages.SUCCESS)
        return redirect(change_url)

    def order_mail_resend_view(self, request, object_id):
        obj = self._order_or_404(request, object_id)
        if not (self.has_view_or_change_permission(request, obj) and can_resend(request)):
            raise PermissionDenied
        change_url = reverse(
            f"{self.admin_site.name}:{obj._meta.app_label}_{obj._meta.model_name}_change", args=[obj.pk]
        )
        row = (
            OutboxEmail.for_order(obj)
            .filter(event=MailEvent.ORDER_CONFIRMATION, is_test=False)
            .order_by("-created_at", "-id")
            .first()
        )
        if row is None:
            self.message_user(
                request, gettext("This order has no order confirmation to resend."), messages.WARNING
            )
            return redirect(change_url)
        copy = actions.resend(row, by=request.user.get_username())
        why = actions.send_outlook(copy)  # the sender's own checks: never "being sent" when it will not be
        if why:
            text = gettext(
                "The order confirmation was queued again (email #%(pk)d) but will not be sent: %(reason)s."
            )
            self.message_user(request, text % {"pk": copy.pk, "reason": why}, messages.WARNING)
            return redirect(change_url)
        self.message_user(
            request,
            gettext("The order confirmation is being sent again (email #%(pk)d).") % {"pk": copy.pk},
            messages.SUCCESS,
        )
        return redirect(change_url)


def _signature(method):
    try:
        return inspect.signature(method)
    except (TypeError, ValueError):
        return None


def _required_params(method) -> set[str]:
    sig = _signature(method)
    if sig is None:
        return set()
    return {
        p.name
        for p in sig.parameters.values()
        if p.default is inspect.Parameter.empty
        and p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)
    }


def _accepts(method, name: str) -> bool:
    sig = _signature(method)
    if sig is None:
        return False
    return name in sig.parameters or any(p.kind is p.VAR_KEYWORD for p in sig.parameters.values())
