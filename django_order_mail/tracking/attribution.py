"""Which email gets the credit for an order (revenue per email and variant).

An order is credited to an email when the customer **clicked a link in it**
(the ESP's click webhook, :mod:`.receivers`) within ``ATTRIBUTION_DAYS``
before the order was placed:

* **last click wins**: of several clicked emails, the one clicked last;
* **one credit per order**: an order is recorded once (a unique order
  reference), whatever calls :func:`record_order` again;
* **the customer's own clicks only**: the clicked email went to the address
  of the order (compared as every ESP does, case-insensitively), and the
  click event names that address (or none). A link forwarded to someone
  else, or an email of another customer, never credits an order;
* clicks on the unsubscribe and preference links do not count, and neither
  do staff test emails or staff alerts;
* the credit carries the email's subject A/B variant, if it had one
  (:class:`.models.SubjectAssignment`), and the order's total in its own
  currency (sums are per currency, never converted).

**When is an order placed?** When its ``order_confirmation`` row is written
to the outbox (the core's ``email_queued`` signal, inside the transaction
of the transition that confirms the payment: ``confirm_payment`` of the
default lifecycle, the transition mapped to ``order_confirmation`` in a
shop's own ``mail_transitions``), whether that email is then sent or
skipped (a marketplace channel, ``notify=False``). ``ATTRIBUTION_PLACED_EVENTS``
names other events; a shop whose orders are placed without any of them
(an import, a point of sale) calls :func:`record_order` itself. Modelled on
the carts app's recovered-cart attribution (``docs/abandoned-cart.rst``),
which credits the abandoned-cart reminder; the two reports are separate.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from decimal import Decimal

from django.contrib.contenttypes.models import ContentType
from django.core.checks import Error, Tags, register
from django.db import IntegrityError, transaction
from django.db.models import Count, Q, Sum
from django.db.models.functions import Coalesce
from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from ..events import INTERNAL_EVENTS
from ..lifecycle.hooks import call_hook, order_total
from ..outbox.addresses import normalize_address
from ..outbox.models import OutboxEmail
from .app_settings import app_settings
from .models import EmailAttribution, SubjectAssignment, TrackingEvent

logger = logging.getLogger("django_order_mail.tracking")

CLICKED = "clicked"
#: Clicked emails looked at per order (the newest clicks first).
MAX_CANDIDATES = 50


def _link_paths() -> tuple[str, ...]:
    """The paths of the unsubscribe and preference links: their clicks are no interest in buying."""
    paths = []
    for name in ("django_order_mail:unsubscribe", "django_order_mail:email_preferences"):
        try:
            paths.append(reverse(name, kwargs={"token": "-"}).rsplit("-", 1)[0])
        except NoReverseMatch:
            continue
    return tuple(paths)


def find_click(address: str, *, placed_at: datetime):
    """The customer's last click in an email within the window before
    ``placed_at``: a ``TrackingEvent`` (with ``at``, its time), or None."""
    address = normalize_address(address)
    if not address:
        return None
    since = placed_at - timedelta(days=int(app_settings.ATTRIBUTION_DAYS))
    clicked = OutboxEmail.objects.filter(recipient__iexact=address, clicked_at__isnull=False, is_test=False)
    staff_only = list(INTERNAL_EVENTS)
    if staff_only:
        clicked = clicked.exclude(event__in=staff_only)
    emails = list(clicked.values_list("pk", flat=True)[:500])
    if not emails:
        return None
    candidates = (
        TrackingEvent.objects.filter(email_id__in=emails, event_type=CLICKED)
        .annotate(at=Coalesce("occurred_at", "received_at"))
        .filter(at__gte=since, at__lte=placed_at)
        .select_related("email")
        .order_by("-at", "-pk")[:MAX_CANDIDATES]
    )
    skip = _link_paths()
    for click in candidates:
        if click.recipient and normalize_address(click.recipient) != address:
            continue  # the event names someone else: not this customer's click
        if click.email is None or normalize_address(click.email.recipient) != address:
            continue
        if skip and any(path in (click.click_url or "") for path in skip):
            continue
        return click
    return None


def record_order(order, *, placed_at: datetime | None = None, revenue=None, currency: str = ""):
    """Credit ``order`` to the email whose link its customer clicked last
    within ``ATTRIBUTION_DAYS``; the ``EmailAttribution`` (new or recorded
    before), or None when no click led to it.

    Called for every placed order (:func:`credit_placed_order`); call it
    yourself for orders placed without an order confirmation. ``revenue``
    and ``currency`` replace what the order's hooks say.
    """
    if order is None or getattr(order, "pk", None) is None:
        return None
    existing = _recorded(order)
    if existing is not None:
        return existing
    placed_at = placed_at or timezone.now()
    click = find_click(call_hook(order, "get_mail_recipient") or "", placed_at=placed_at)
    if click is None:
        return None
    return _credit(order, click, placed_at=placed_at, revenue=revenue, currency=currency)


def _recorded(order):
    order_type = ContentType.objects.get_for_model(order)
    return EmailAttribution.objects.filter(order_type=order_type, order_id=str(order.pk)).first()


def _credit(order, click, *, placed_at: datetime, revenue=None, currency: str = ""):
    """Record the credit of ``order`` to ``click``'s email (the first credit
    stays: a unique order reference)."""
    amount, code = order_total(order)
    if revenue is not None:
        amount = Decimal(str(revenue)).quantize(Decimal("0.01"))
    email = click.email
    credit = EmailAttribution(
        order_type=ContentType.objects.get_for_model(order),
        order_id=str(order.pk)[:64],
        order_reference=str(call_hook(order, "get_mail_order_number") or order.pk)[:64],
        email=email,
        event=email.event,
        variant_id=SubjectAssignment.objects.filter(email_id=email.pk)
        .values_list("variant_id", flat=True)
        .first(),
        click=click,
        clicked_at=click.at,
        placed_at=placed_at,
        revenue=amount,
        currency=(currency or code)[:3].upper(),
    )
    try:
        with transaction.atomic():
            credit.save()
    except IntegrityError:  # credited before (a retried checkout): the first stays
        return _recorded(order)
    email.log("attributed", f"order {credit.order_reference} placed after a click in this email")
    return credit


def credit_placed_order(sender, email, order, **kwargs) -> None:
    """``email_queued`` receiver: an order confirmation row marks the order
    placed. Inside the order's transaction (the credit commits or rolls back
    with it): an error here never stops the order, it is logged and the
    order stays uncredited. (The one read runs outside a savepoint, like the
    core's own reads in that transaction: a database that fails a plain
    indexed ``SELECT`` fails the order's ``INSERT`` as well.)

    Most orders follow no click, and this runs in every paid order's
    transaction: one indexed read (the customer's clicked emails) decides
    that, without a savepoint or a look for an earlier credit; only an order
    that follows a click pays for those (``docs/performance.md``,
    *Transition overhead*).
    """
    if email.event not in app_settings.ATTRIBUTION_PLACED_EVENTS or getattr(email, "is_test", False):
        return
    if order is None or getattr(order, "pk", None) is None:
        return
    try:
        click = find_click(call_hook(order, "get_mail_recipient") or "", placed_at=email.created_at)
        if click is None:
            return
        with transaction.atomic():
            if _recorded(order) is None:
                _credit(order, click, placed_at=email.created_at)
    except Exception:
        logger.exception("Could not attribute order %r to an email", getattr(order, "pk", None))


# -- the analytics page -------------------------------------------------------------------


@dataclass
class Revenue:
    """Orders credited to one email type (or subject variant) and their
    revenue per currency (never converted: a shop selling in NOK and USD
    sees two sums)."""

    orders: int = 0
    by_currency: dict[str, Decimal] = field(default_factory=dict)
    unknown: int = 0  # orders whose total the shop's hooks did not give

    def add(self, orders: int, revenue, currency: str, unknown: int) -> None:
        self.orders += orders
        self.unknown += unknown
        if revenue is not None:
            key = currency or ""
            self.by_currency[key] = self.by_currency.get(key, Decimal("0")) + Decimal(revenue)

    def formatted(self) -> list[str]:
        """``["1 234,00 kr", "$99.00"]`` in the active language, largest first."""
        from ..rendering.i18n import format_money

        return [
            format_money(amount, currency) if currency else f"{amount:.2f}"
            for currency, amount in sorted(self.by_currency.items(), key=lambda kv: (-kv[1], kv[0]))
        ]


def period_start(weeks: int, now: datetime | None = None) -> datetime:
    """The Monday that starts the analytics page's period of ``weeks`` ISO weeks."""
    today = timezone.localtime(now or timezone.now()).date()
    first = today - timedelta(days=today.weekday()) - timedelta(weeks=max(1, weeks) - 1)
    return timezone.make_aware(datetime.combine(first, time.min))


def revenue_by_event(*, since: datetime, event: str | None = None) -> dict[str, Revenue]:
    """``{event: Revenue}`` of the orders placed since ``since`` (one query)."""
    rows = EmailAttribution.objects.filter(placed_at__gte=since)
    if event:
        rows = rows.filter(event=event)
    found: dict[str, Revenue] = {}
    for row in (
        rows.values("event", "currency")
        .annotate(
            credited=Count("id"), total=Sum("revenue"), unpriced=Count("id", filter=Q(revenue__isnull=True))
        )
        .order_by()
    ):
        found.setdefault(row["event"], Revenue()).add(
            row["credited"], row["total"], row["currency"], row["unpriced"]
        )
    return found


def revenue_by_variant(*, since: datetime, event: str | None = None) -> list[dict]:
    """One entry per subject variant that orders were credited to:
    ``{"event", "test", "label", "subject", "revenue"}``, by test and label."""
    rows = EmailAttribution.objects.filter(placed_at__gte=since, variant__isnull=False)
    if event:
        rows = rows.filter(event=event)
    found: dict[int, dict] = {}
    for row in (
        rows.values(
            "variant_id", "variant__label", "variant__subject", "variant__test__name", "event", "currency"
        )
        .annotate(
            credited=Count("id"), total=Sum("revenue"), unpriced=Count("id", filter=Q(revenue__isnull=True))
        )
        .order_by()
    ):
        entry = found.setdefault(
            row["variant_id"],
            {
                "event": row["event"],
                "test": row["variant__test__name"],
                "label": row["variant__label"],
                "subject": row["variant__subject"],
                "revenue": Revenue(),
            },
        )
        entry["revenue"].add(row["credited"], row["total"], row["currency"], row["unpriced"])
    return sorted(found.values(), key=lambda e: (e["test"], e["label"]))


@register(Tags.compatibility)
def check_attribution_settings(app_configs=None, **kwargs) -> list:
    """``E602``: ``ATTRIBUTION_DAYS`` is a positive integer and
    ``ATTRIBUTION_PLACED_EVENTS`` a list of registered events."""
    from ..conf import user_settings
    from ..events import ALL_EVENTS

    raw = user_settings()
    if not isinstance(raw, dict):
        return []  # E001 already
    found = []
    days = raw.get("ATTRIBUTION_DAYS", 5)
    if isinstance(days, bool) or not isinstance(days, int) or days < 1:
        found.append(
            Error(
                "ORDER_MAIL['ATTRIBUTION_DAYS'] must be a positive integer (days).",
                hint="See docs/tracking.rst.",
                id="django_order_mail.E602",
            )
        )
    events = raw.get("ATTRIBUTION_PLACED_EVENTS", ["order_confirmation"])
    if not isinstance(events, (list, tuple)) or any(e not in ALL_EVENTS for e in events):
        found.append(
            Error(
                "ORDER_MAIL['ATTRIBUTION_PLACED_EVENTS'] must be a list of registered events.",
                hint="See docs/tracking.rst.",
                id="django_order_mail.E602",
            )
        )
    return found
