"""Pages of the demo: the order overview, the send log with every email as
sent, and the customer pages the emails link to."""

from __future__ import annotations

from functools import wraps

from demo_shop.mail_backend import find_message_files
from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.core import signing
from django.core.paginator import Paginator
from django.db.models import Count
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_GET

from django_order_mail.models import OutboxEmail, Status
from django_order_mail.rendering.branding import get_branding

from .models import Order

STATUS_ORDER = [s.value for s in Status]


def staff_or_debug(view):
    """Demo pages show customer data: open while DEBUG, staff-only otherwise."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if settings.DEBUG or (request.user.is_active and request.user.is_staff):
            return view(request, *args, **kwargs)
        return redirect_to_login(request.get_full_path())

    return wrapper


def _email_counts(orders) -> dict[str, dict[str, int]]:
    counts: dict[str, dict[str, int]] = {}
    rows = (
        OutboxEmail.objects.filter(object_id__in=[str(o.pk) for o in orders], content_type__model="order")
        .filter(content_type__app_label="shop")
        .values("object_id", "status")
        .annotate(n=Count("id"))
    )
    for row in rows:
        counts.setdefault(row["object_id"], {})[row["status"]] = row["n"]
    return counts


@require_GET
@staff_or_debug
def index(request):
    orders = list(Order.objects.prefetch_related("lines")[:100])
    counts = _email_counts(orders)
    for order in orders:
        order.email_counts = sorted(
            counts.get(str(order.pk), {}).items(), key=lambda kv: STATUS_ORDER.index(kv[0])
        )
    totals = dict(OutboxEmail.objects.values_list("status").annotate(n=Count("id")))
    return render(
        request,
        "shop/index.html",
        {
            "orders": orders,
            "status_totals": [(s, totals[s]) for s in STATUS_ORDER if s in totals],
            "sent_mail_dir": settings.SENT_MAIL_DIR,
        },
    )


@require_GET
@staff_or_debug
def sent_list(request):
    emails = OutboxEmail.objects.select_related("content_type").order_by("-sent_at", "-created_at", "-id")
    status = request.GET.get("status", "")
    if status in STATUS_ORDER:
        emails = emails.filter(status=status)
    event = request.GET.get("event", "")
    if event:
        emails = emails.filter(event=event)
    page = Paginator(emails, 100).get_page(request.GET.get("page"))
    totals = dict(OutboxEmail.objects.values_list("status").annotate(n=Count("id")))
    return render(
        request,
        "shop/sent_list.html",
        {
            "page": page,
            "status": status,
            "event": event,
            "status_totals": [(s, totals[s]) for s in STATUS_ORDER if s in totals],
        },
    )


@require_GET
@staff_or_debug
def sent_detail(request, pk: int):
    email = get_object_or_404(OutboxEmail.objects.select_related("shipment"), pk=pk)
    files = find_message_files(email.esp_message_id)
    response = render(
        request,
        "shop/sent_detail.html",
        {
            "email": email,
            "order": email.order,
            "logs": email.logs.all(),
            "eml_path": files.get(".eml"),
            "html_path": files.get(".html"),
        },
    )
    # The email HTML runs in a sandboxed srcdoc iframe: no scripts, no same origin.
    response["Content-Security-Policy"] = "script-src 'none'; object-src 'none'; base-uri 'none'"
    return response


@require_GET
@staff_or_debug
def sent_eml(request, pk: int):
    email = get_object_or_404(OutboxEmail, pk=pk)
    path = find_message_files(email.esp_message_id).get(".eml")
    if path is None:
        raise Http404("No .eml file for this email (not sent, or sent by another backend).")
    return FileResponse(
        path.open("rb"), as_attachment=True, filename=path.name, content_type="message/rfc822"
    )


def _order_from_token(token: str) -> Order:
    try:
        return Order.from_link_token(token)
    except (signing.BadSignature, Order.DoesNotExist) as exc:
        raise Http404("Unknown order link") from exc


@require_GET
def order_status(request, token: str):
    """The customer's order status page (linked from every email)."""
    order = _order_from_token(token)
    return render(
        request,
        "shop/order_status.html",
        {
            "order": order,
            "items": order.get_mail_line_items(),
            "totals": order.get_mail_totals(),
            "addresses": order.get_mail_addresses(),
            "expected": order.get_mail_expected_dates(),
            "shipments": order.shipments,
            "shop": get_branding(),
        },
    )


@require_GET
def retry_payment(request, token: str):
    """Where a customer whose card was declined would pay again."""
    order = _order_from_token(token)
    return render(request, "shop/retry_payment.html", {"order": order, "shop": get_branding()})


INFO_PAGES = {
    "help": ("Help & contact", "We answer within one business day."),
    "returns": (
        "Returns",
        "30-day free returns. Damaged or wrong item? Reply to your order email "
        "with a photo and we send a replacement at our cost.",
    ),
    "warranty": ("Warranty", "Two years on everything we sell, five years on knitwear seams."),
    "refer": ("Invite a friend", "Your friend gets 10 % off their first order, and so do you."),
}


@require_GET
def info_page(request, page: str):
    if page not in INFO_PAGES:
        raise Http404
    title, text = INFO_PAGES[page]
    return render(request, "shop/info.html", {"title": title, "text": text, "shop": get_branding()})
