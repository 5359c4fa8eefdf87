"""Template filters for order emails: ``{% load order_mail %}``.

Money, dates and addresses are formatted for the *active* language (the
email's language while it renders), with CLDR data through Babel: see
:mod:`django_order_mail.rendering.i18n` and ``docs/translating.rst``.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from django import template

from ..lifecycle.reasons import reason_text as preset_reason_text
from ..rendering.i18n import address_lines as format_address
from ..rendering.i18n import format_date, format_money

register = template.Library()


@register.filter
def money(value, currency="") -> str:
    """``{{ total|money:currency }}`` -> "$12.50" (en), "12,50 €" (de),
    "249,00 kr" (nb), "¥1,200" (JPY has no decimals).

    Empty values stay empty so optional totals (discount, tax) can be tested
    with ``{% if %}``; a value that is not a number is shown as it is.
    """
    return format_money(value, currency)


@register.filter
def negate(value):
    """Show a discount as a negative amount."""
    try:
        return -abs(Decimal(str(value)))
    except (InvalidOperation, ValueError):
        return value


@register.filter
def localdate(value, length="long") -> str:
    """``{{ expected.ship_by|localdate }}`` -> "March 3, 2025", "3. März 2025",
    "2025年3月3日"; ``|localdate:"medium"`` -> "Mar 3, 2025", "03.03.2025".

    ``length`` is short, medium, long (default) or full, or a CLDR pattern.
    Empty values stay empty.
    """
    return format_date(value, length or "long")


@register.filter
def address_lines(address) -> list[str]:
    """``{% for line in addresses.shipping|address_lines %}``: the lines of an
    address given as lines, or as a dict of fields laid out the way the
    destination country writes addresses, the country named in the
    reader's language."""
    return format_address(address)


@register.filter
def reason_text(code, event) -> str:
    """``{{ extra.reason_code|reason_text:event }}``: the customer sentence of
    a preset reason (``docs/lifecycle.rst``) in the email's language, e.g.
    "One or more items of your order are no longer in stock." /
    "Некоторых товаров из вашего заказа больше нет в наличии.". Empty for no
    code or a code the shop no longer has."""
    return preset_reason_text(str(event or ""), code)
