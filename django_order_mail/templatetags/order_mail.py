"""Template filters for order emails: ``{% load order_mail %}``."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from django import template
from django.utils.formats import number_format

register = template.Library()

_SYMBOLS = {
    "USD": "$",
    "EUR": "€",
    "GBP": "£",
    "JPY": "¥",
    "CNY": "¥",
    "RUB": "₽",
    "NOK": "kr",
    "SEK": "kr",
    "DKK": "kr",
    "CHF": "CHF",
    "HKD": "HK$",
    "TWD": "NT$",
    "AUD": "A$",
    "CAD": "C$",
    "INR": "₹",
    "KRW": "₩",
}
_ZERO_DECIMALS = {"JPY", "KRW", "TWD"}
_SUFFIX = {"NOK", "SEK", "DKK", "RUB"}


@register.filter
def money(value, currency="") -> str:
    """``{{ total|money:currency }}`` -> "$12.50", "249,00 kr", "¥1,200".

    Numbers are grouped in the active language's format; empty values stay
    empty so optional totals (discount, tax) can be tested with ``{% if %}``.
    """
    if value in (None, ""):
        return ""
    try:
        amount = Decimal(str(value))
    except (InvalidOperation, ValueError):
        return str(value)
    code = (currency or "").upper()
    places = 0 if code in _ZERO_DECIMALS else 2
    text = number_format(amount, decimal_pos=places, use_l10n=True, force_grouping=True)
    symbol = _SYMBOLS.get(code, code)
    if not symbol:
        return text
    if code in _SUFFIX:
        return f"{text}\u00a0{symbol}"
    if len(symbol) > 1 and symbol.isalpha():
        return f"{symbol}\u00a0{text}"
    return f"{symbol}{text}"


@register.filter
def negate(value):
    """Show a discount as a negative amount."""
    try:
        return -abs(Decimal(str(value)))
    except (InvalidOperation, ValueError):
        return value
