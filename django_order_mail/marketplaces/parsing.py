"""Reading untrusted feed values: money, timestamps, ids, the payload hash.

Marketplace payloads are typed loosely (AliExpress sends amounts as strings,
sometimes with a stray space - ``"0. 00"`` appears in its own documentation),
so every value is checked here and a bad one raises :class:`MalformedUpdateError`
with a message staff can act on. Money never passes through ``float``.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable
from datetime import datetime
from datetime import timezone as dt_timezone
from decimal import Decimal, InvalidOperation
from zoneinfo import ZoneInfo

from django.utils import timezone
from django.utils.dateparse import parse_datetime

from ..exceptions import OrderMailError


class MalformedUpdateError(OrderMailError, ValueError):
    """An item that cannot be applied; recorded as ``failed`` with this message.

    ``external_id`` and ``status`` are kept when they could be read, so the
    log row still names the order.
    """

    def __init__(self, message: str, *, external_id: str = "", status: str = ""):
        super().__init__(message)
        self.external_id = external_id
        self.status = status


class UnknownStatusError(MalformedUpdateError):
    """The marketplace reported a status the adapter has no mapping for."""


_SPACES = re.compile(r"[\s\u00a0\u202f\u2009']+")
_NUMBER = re.compile(r"^-?\d{1,15}(\.\d{1,6})?$")
_CURRENCY = re.compile(r"^[A-Z]{3}$")
_EXTERNAL_ID = re.compile(r"^[A-Za-z0-9._:/-]{1,64}$")


def parse_amount(value, field: str = "amount") -> Decimal:
    """A money amount as ``Decimal``: ``"200.00"``, ``"0. 00"``, ``"1,234.50"``,
    ``"12,50"`` or an int. Floats are refused (they already lost precision),
    and so is ``"1,234"``, which could mean either 1234 or 1.234."""
    if isinstance(value, (bool, float)):
        raise MalformedUpdateError(f"{field}: amount {value!r} must be a string or an integer, not a float")
    if isinstance(value, int):
        return Decimal(value)
    if not isinstance(value, str):
        raise MalformedUpdateError(f"{field}: amount {value!r} is not a number")
    text = _SPACES.sub("", value)
    if "," in text and "." in text:
        text = text.replace(",", "")  # thousands separators: 1,234.50
    elif text.count(",") == 1:
        if re.search(r",\d{3}$", text):
            # "1,234": a thousands separator or a decimal comma? Refuse to guess.
            raise MalformedUpdateError(f"{field}: amount {value!r} is ambiguous (thousands or decimals?)")
        text = text.replace(",", ".")  # decimal comma: 12,50
    if not _NUMBER.match(text):
        raise MalformedUpdateError(f"{field}: amount {value!r} is not a number")
    try:
        return Decimal(text)
    except InvalidOperation as exc:  # pragma: no cover - the regex already checked
        raise MalformedUpdateError(f"{field}: amount {value!r} is not a number") from exc


def parse_money(obj, field: str) -> tuple[Decimal, str]:
    """An AliExpress money object ``{"amount": "200.00", "currency_code": "RUB"}``
    (``currencyCode`` and ``cent`` are read too) as ``(Decimal, "RUB")``."""
    if not isinstance(obj, dict):
        raise MalformedUpdateError(f"{field}: expected a money object, got {type(obj).__name__}")
    currency = obj.get("currency_code", obj.get("currencyCode", ""))
    currency = currency.strip().upper() if isinstance(currency, str) else ""
    if not _CURRENCY.match(currency):
        raise MalformedUpdateError(f"{field}: currency {obj.get('currency_code')!r} is not an ISO 4217 code")
    if obj.get("amount") not in (None, ""):
        amount = parse_amount(obj["amount"], field)
    elif obj.get("cent") not in (None, ""):
        amount = parse_amount(obj["cent"], field) / 100
    else:
        raise MalformedUpdateError(f"{field}: the money object has no amount")
    return amount, currency


def parse_timestamp(value, field: str, tz: str) -> datetime | None:
    """A marketplace timestamp as an aware datetime.

    Naive values (AliExpress: ``"2021-05-08 23:57:00"``) are in ``tz`` - the
    marketplace's own zone (AliExpress uses Pacific time). Empty means None.
    """
    if value in (None, ""):
        return None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        # epoch milliseconds or seconds
        seconds = value / 1000 if value > 10**11 else value
        try:
            return datetime.fromtimestamp(seconds, tz=dt_timezone.utc)
        except (OverflowError, OSError, ValueError) as exc:
            raise MalformedUpdateError(f"{field}: {value!r} is not a valid timestamp") from exc
    if not isinstance(value, str):
        raise MalformedUpdateError(f"{field}: {value!r} is not a timestamp")
    try:
        parsed = parse_datetime(value.strip())
    except ValueError:
        parsed = None
    if parsed is None:
        raise MalformedUpdateError(f"{field}: {value!r} is not a timestamp (expected YYYY-MM-DD HH:MM:SS)")
    if timezone.is_naive(parsed):
        parsed = timezone.make_aware(parsed, ZoneInfo(tz))
    return parsed.astimezone(dt_timezone.utc)


def parse_external_id(value, field: str = "order_id") -> str:
    """An order id as a string: AliExpress sends 16-digit integers."""
    if isinstance(value, bool) or value is None:
        raise MalformedUpdateError(f"{field} is missing")
    if isinstance(value, int):
        value = str(value)
    if not isinstance(value, str) or not _EXTERNAL_ID.match(value.strip()):
        raise MalformedUpdateError(f"{field} {value!r} is not a valid order id")
    return value.strip()


#: Arrays and objects nested deeper than this are refused before anything
#: reads them recursively (real AliExpress answers nest about 8 levels). Far
#: below Python's recursion limit, so hashing, parsing and saving an
#: accepted feed never raises ``RecursionError``.
MAX_NESTING = 100


def nested_too_deeply(value, limit: int = MAX_NESTING) -> bool:
    """Whether lists/dicts in ``value`` nest more than ``limit`` levels
    (iterative: a hostile feed cannot make this check itself overflow)."""
    stack = [(value, 1)]
    while stack:
        current, depth = stack.pop()
        children: Iterable
        if isinstance(current, dict):
            children = current.values()
        elif isinstance(current, (list, tuple)):
            children = current
        else:
            continue
        if depth > limit:
            return True
        stack.extend((child, depth + 1) for child in children if isinstance(child, (dict, list, tuple)))
    return False


def payload_hash(item) -> str:
    """SHA-256 of the item's canonical JSON: equal items hash equally."""
    canonical = json.dumps(item, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def guess_field(item, *names: str) -> str:
    """Best-effort read of a field of a malformed item, for the log row."""
    if not isinstance(item, dict):
        return ""
    for name in names:
        value = item.get(name)
        if isinstance(value, (str, int)) and not isinstance(value, bool):
            return str(value)[:64]
    return ""
