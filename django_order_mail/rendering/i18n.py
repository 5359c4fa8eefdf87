"""Languages and locale formatting of customer emails (``docs/translating.rst``).

**Which language an email is written in.** The order says which language its
customer reads (``get_mail_language()``, stored on the outbox row). Shops
record whatever the checkout or the marketplace reported - ``zh-HK``,
``zh_Hant_TW``, ``no``, ``pt-BR`` - while the project supports a handful of
codes. :func:`resolve_language` walks a fallback chain and takes the first
code the project supports:

1. the order's code itself (normalised: lower case, ``-`` separators);
2. its closest supported variant: the project's
   ``ORDER_MAIL["LANGUAGE_FALLBACKS"]``, then :data:`VARIANTS` (``zh-hk`` ->
   ``zh-hant``, ``zh-cn`` -> ``zh-hans``, ``nn``/``no`` -> ``nb``, ...);
3. the code without its last subtag, repeatedly (``zh-hant-hk`` ->
   ``zh-hant``, ``pt-br`` -> ``pt``), each with its variants again;
4. any supported regional variant of the base language (``pt`` -> ``pt-br``);
5. ``settings.LANGUAGE_CODE``, then ``en``.

Why not only Django's ``get_supported_language_variant``: it checks
``settings.LANGUAGES`` rather than ``ORDER_MAIL["LANGUAGES"]``, needs a
catalogue on disk for the code, and knows nothing of ``nn``/``no`` or of a
shop's own mapping.

**How money, dates and addresses look.** Numbers follow the reader's locale
(CLDR data through Babel): ``$12.50`` in English, ``12,50 €`` in German,
``249,00 kr`` in Norwegian, ``2025年3月3日`` in Chinese. Postal addresses follow
the *destination country's* line order (a Chinese address starts with the
province, a Russian one ends with the postcode) with the country's name in
the reader's language.
"""

from __future__ import annotations

import datetime
import re
from decimal import Decimal, InvalidOperation
from functools import lru_cache

from babel import Locale, UnknownLocaleError
from babel.dates import format_date as babel_format_date
from babel.numbers import format_currency, format_decimal
from django.conf import settings
from django.utils import timezone, translation
from django.utils.translation import to_locale

from ..app_settings import app_settings
from ..memo import memoized

#: Codes tried after a language the project does not support, before its
#: base language. Chinese is chosen by script, not by country: Hong Kong,
#: Macau and Taiwan read Traditional characters, the mainland, Singapore and
#: Malaysia Simplified. Nynorsk readers and the macro-language "no" get
#: Bokmål, the written standard of nearly all Norwegian shops.
VARIANTS: dict[str, tuple[str, ...]] = {
    "zh-hk": ("zh-hant",),
    "zh-mo": ("zh-hant",),
    "zh-tw": ("zh-hant",),
    "zh-cn": ("zh-hans",),
    "zh-sg": ("zh-hans",),
    "zh-my": ("zh-hans",),
    "zh": ("zh-hans",),
    "nn": ("nb", "no"),
    "no": ("nb",),
    "nb": ("no",),
}

_SEPARATORS = re.compile(r"[_\s]+")


def normalize(code: str | None) -> str:
    """``"zh_Hant_HK"`` -> ``"zh-hant-hk"``; empty for nothing."""
    return _SEPARATORS.sub("-", str(code or "").strip()).strip("-").lower()


def supported_languages() -> list[str]:
    """Codes emails may be written in: ``ORDER_MAIL["LANGUAGES"]`` (codes or
    Django-style ``(code, name)`` pairs), else the codes of ``settings.LANGUAGES``."""
    configured = app_settings.LANGUAGES or settings.LANGUAGES
    return [entry[0] if isinstance(entry, (list, tuple)) else str(entry) for entry in configured]


def language_setting_errors(raw: dict) -> list:
    """System check ``E010`` (registered through ``checks.check_settings``):
    ``LANGUAGES`` and ``LANGUAGE_FALLBACKS`` as written in ``ORDER_MAIL``. A
    malformed entry would otherwise be skipped silently at render time."""
    from django.core.checks import Error

    def error(msg):
        return Error(msg, hint="See docs/translating.rst.", id="django_order_mail.E010")

    errors = []
    languages = raw.get("LANGUAGES")
    if languages is not None and (
        isinstance(languages, str)
        or not isinstance(languages, (list, tuple))
        or not all(isinstance(e, str) or (isinstance(e, (list, tuple)) and e) for e in languages)
    ):
        errors.append(error("ORDER_MAIL['LANGUAGES'] must be a list of language codes (or None)."))
    fallbacks = raw.get("LANGUAGE_FALLBACKS", {})
    if not isinstance(fallbacks, dict):
        return [*errors, error("ORDER_MAIL['LANGUAGE_FALLBACKS'] must be a dict: code -> list of codes.")]
    for code, targets in fallbacks.items():
        targets = [targets] if isinstance(targets, str) else targets
        if not isinstance(code, str) or not isinstance(targets, (list, tuple)):
            errors.append(error(f"ORDER_MAIL['LANGUAGE_FALLBACKS'][{code!r}] must be a list of codes."))
        elif not all(isinstance(t, str) and t.strip() for t in targets):
            errors.append(
                error(f"ORDER_MAIL['LANGUAGE_FALLBACKS'][{code!r}] has an entry that is not a code.")
            )
    return errors


def _project_fallbacks() -> dict[str, list[str]]:
    raw = app_settings.LANGUAGE_FALLBACKS or {}
    if not isinstance(raw, dict):
        return {}
    fallbacks = {}
    for code, targets in raw.items():
        targets = [targets] if isinstance(targets, str) else targets
        if isinstance(targets, (list, tuple)):
            fallbacks[normalize(code)] = [normalize(t) for t in targets if isinstance(t, str)]
    return fallbacks


def fallback_chain(language: str | None, *, default: str | None = None) -> list[str]:
    """Every code :func:`resolve_language` tries, in order (see the module
    docstring). ``default`` replaces ``settings.LANGUAGE_CODE``."""
    chain: list[str] = []
    project = _project_fallbacks()

    def add(code: str) -> None:
        if code and code not in chain:
            chain.append(code)
            for variant in (*project.get(code, ()), *VARIANTS.get(code, ())):
                add(variant)

    code = normalize(language)
    parts = code.split("-") if code else []
    while parts:
        add("-".join(parts))
        parts.pop()
    if code:
        chain.append(f"{code.split('-')[0]}-*")  # any regional variant of the base language
    add(normalize(default or settings.LANGUAGE_CODE))
    add("en")
    return chain


def resolve_language(language: str | None, *, default: str | None = None) -> str:
    """The closest language the project supports, spelled as the project
    spells it; ``default`` (``settings.LANGUAGE_CODE``) if nothing matches.
    Worked out once per language in a batch of sends (:mod:`django_order_mail.memo`)."""
    return memoized(
        ("resolve_language", language, default), lambda: _resolve_language(language, default=default)
    )


def _resolve_language(language: str | None, *, default: str | None = None) -> str:
    supported = {normalize(code): code for code in supported_languages()}
    for candidate in fallback_chain(language, default=default):
        if candidate.endswith("-*"):
            prefix = candidate[:-1]
            siblings = [code for key, code in supported.items() if key.startswith(prefix)]
            if siblings:
                return siblings[0]
        elif candidate in supported:
            return supported[candidate]
    return default or settings.LANGUAGE_CODE


# -- locale formatting ----------------------------------------------------------------------------------


@lru_cache(maxsize=128)
def _locale(code: str) -> Locale:
    for candidate in (to_locale(code), code.split("-")[0]):
        try:
            return Locale.parse(candidate)
        except (UnknownLocaleError, ValueError):
            continue
    return Locale.parse("en")


def babel_locale(language: str | None = None) -> Locale:
    """The Babel locale of ``language`` (default: the active language):
    ``"zh-hans"`` -> ``zh_Hans``, ``"nb"`` -> ``nb``; English if Babel does
    not know the language at all."""
    code = normalize(language or translation.get_language() or settings.LANGUAGE_CODE)
    return _locale(code or "en")


def to_decimal(value) -> Decimal | None:
    """``value`` as a Decimal, or None when it is not a number."""
    if isinstance(value, Decimal):
        return value if value.is_finite() else None
    try:
        number = Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        return None
    return number if number.is_finite() else None


# CLDR's currency spacing: an alphabetic currency code touching a digit gets
# a no-break space ("NOK 249.00", not "NOK249.00"), which Babel leaves out.
_LETTER_THEN_DIGIT = re.compile(r"(?<=[^\W\d_])(?=\d)")
_DIGIT_THEN_LETTER = re.compile(r"(?<=\d)(?=[^\W\d_])")


def format_money(value, currency: str = "", language: str | None = None) -> str:
    """``12.5, "USD"`` -> ``"$12.50"`` (en), ``"12,50 $"`` (de), ``"US$12.50"``
    (zh-hans); the currency's own decimals (``¥1,200``). Without a currency
    just the number with two decimals; empty values stay empty and values
    that are not numbers are shown as they are."""
    if value is None or value == "":
        return ""
    amount = to_decimal(value)
    if amount is None:
        return str(value)
    return _format_amount(amount, str(currency or "").strip().upper(), babel_locale(language))


@lru_cache(maxsize=4096)
def _format_amount(amount: Decimal, code: str, locale) -> str:
    """Babel's formatting is the slowest part of rendering an order's lines
    and totals; an email shows the same few amounts many times and a shop
    sells at the same prices all day, so the answers are kept."""
    if not code:
        return format_decimal(amount, format="#,##0.00", locale=locale)
    text = format_currency(amount, code, locale=locale)
    return _DIGIT_THEN_LETTER.sub("\u00a0", _LETTER_THEN_DIGIT.sub("\u00a0", text))


DATE_FORMATS = ("short", "medium", "long", "full")


def format_date(value, format: str = "long", language: str | None = None) -> str:
    """A date in the reader's words: ``"March 3, 2025"``, ``"3. März 2025"``,
    ``"2025年3月3日"``. ``format`` is short, medium, long, full or a CLDR
    pattern. Aware datetimes are shown in the current time zone; ISO strings
    (``"2025-03-03"``, from JSON event data) are parsed; anything else is
    shown as it is, and empty values stay empty."""
    if value is None or value == "":
        return ""
    if isinstance(value, str):
        try:
            value = datetime.date.fromisoformat(value.strip()[:10])
        except ValueError:
            return value
    if isinstance(value, datetime.datetime):
        value = (timezone.localtime(value) if timezone.is_aware(value) else value).date()
    if not isinstance(value, datetime.date):
        return str(value)
    return babel_format_date(value, format=format or "long", locale=babel_locale(language))


# -- postal addresses -----------------------------------------------------------------------------------

#: Line layouts by destination country (after Google's libaddressinput
#: data). Fields: N name, O company, A street lines, C city, S region,
#: Z postcode, K country. Big-endian layouts (China, Taiwan, Japan) start
#: with the country and end with the name.
ADDRESS_FORMATS: dict[str, tuple[str, ...]] = {
    "US": ("N", "O", "A", "C, S Z", "K"),
    "CA": ("N", "O", "A", "C S Z", "K"),
    "AU": ("N", "O", "A", "C S Z", "K"),
    "GB": ("N", "O", "A", "C", "Z", "K"),
    "IE": ("N", "O", "A", "C", "S", "Z", "K"),
    "RU": ("N", "O", "A", "C", "S", "Z", "K"),
    "UA": ("N", "O", "A", "C", "S", "Z", "K"),
    "BR": ("N", "O", "A", "C-S", "Z", "K"),
    "ES": ("N", "O", "A", "Z C", "S", "K"),
    "IT": ("N", "O", "A", "Z C S", "K"),
    "CN": ("K", "Z", "SC", "A", "O", "N"),
    "TW": ("K", "Z", "SC", "A", "O", "N"),
    "HK": ("K", "S", "C", "A", "O", "N"),
    "MO": ("K", "A", "O", "N"),
    "JP": ("K", "〒Z", "SC", "A", "O", "N"),
}
#: Most of Europe and the rest of the world: postcode before the city.
DEFAULT_ADDRESS_FORMAT = ("N", "O", "A", "Z C", "S", "K")
_ADDRESS_KEYS = {
    "N": ("name",),
    "O": ("company", "organization"),
    "C": ("city", "locality"),
    "S": ("region", "state", "province"),
    "Z": ("postal_code", "postcode", "zip"),
}


def _field(address: dict, letter: str) -> str:
    for key in _ADDRESS_KEYS.get(letter, ()):
        value = address.get(key)
        if value not in (None, ""):
            return str(value).strip()
    return ""


def country_name(code: str, language: str | None = None) -> str:
    """``"NO"`` -> ``"Norway"`` / ``"Norwegen"`` / ``"挪威"``; unknown codes as given."""
    return babel_locale(language).territories.get(str(code).upper(), str(code))


def address_lines(address, language: str | None = None) -> list[str]:
    """Lines of a postal address for an email.

    ``address`` is what ``get_mail_addresses()`` returns for one address: a
    list of lines or a string (shown as they are), or a dict of fields -
    ``name``, ``company``, ``street`` (a string, or a list of lines; also
    ``line1``/``line2``), ``postal_code``, ``city``, ``region`` and
    ``country`` (ISO 3166 code such as ``"NO"``) - laid out the way the
    destination country's post expects, with the country named in the
    reader's language.
    """
    if not address:
        return []
    if isinstance(address, str):
        return [line.strip() for line in address.splitlines() if line.strip()]
    if not isinstance(address, dict):
        return [str(line).strip() for line in address if str(line).strip()]
    street = address.get("street") or [address.get("line1"), address.get("line2")]
    street = street.splitlines() if isinstance(street, str) else street
    country = str(address.get("country") or "").strip()
    lines = []
    for template in ADDRESS_FORMATS.get(country.upper(), DEFAULT_ADDRESS_FORMAT):
        if template == "A":
            lines += [str(line).strip() for line in street if line and str(line).strip()]
        elif template == "K":
            lines.append(country_name(country, language) if country else "")
        else:
            if any(_field(address, letter) for letter in re.findall(r"[NOCSZ]", template)):
                line = re.sub(r"[NOCSZ]", lambda m: _field(address, m.group(0)), template)
                lines.append(re.sub(r"\s{2,}", " ", line).strip(" ,-"))
    return [line for line in lines if line and line != "〒"]
