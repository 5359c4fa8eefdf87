"""The shipped translations are complete, current and actually used.

* Every msgid of every shipped catalogue has a translation (all plural
  forms), none is fuzzy or obsolete, and placeholders survive translation.
* Every ``.mo`` says what its ``.po`` says (someone edited a ``.po`` and
  forgot ``compilemessages`` otherwise).
* The catalogues hold every string the package marks for translation today
  (someone added a string and forgot ``makemessages`` otherwise) - checked by
  running ``makemessages`` on a copy of the package when gettext is installed.
* Every customer email renders in every shipped language: subject, greeting
  and body translated, no English sentence of the catalogue left over.

``docs/translating.rst`` says how to fix each failure.
"""

from __future__ import annotations

import html
import os
import re
import shutil
import subprocess
import sys
from datetime import date
from functools import cache
from pathlib import Path

import polib
import pytest
from django.utils import translation

from django_order_mail.events import MailEvent
from django_order_mail.rendering.context import build_context
from django_order_mail.rendering.i18n import format_money
from django_order_mail.rendering.render import render_event
from tests.cart_helpers import make_cart
from tests.factories import OrderFactory

PACKAGE = Path(__file__).resolve().parent.parent / "django_order_mail"
LOCALE = PACKAGE / "locale"
#: Locale directory -> Django language code. Adding a language: docs/translating.rst.
SHIPPED = {
    "en": "en",
    "de": "de",
    "es": "es",
    "fr": "fr",
    "nb": "nb",
    "ru": "ru",
    "zh_Hans": "zh-hans",
    "zh_Hant": "zh-hant",
}
NPLURALS = {"ru": 3, "zh_Hans": 1, "zh_Hant": 1}
PLACEHOLDER = re.compile(r"%\([A-Za-z_][A-Za-z0-9_]*\)[sdif]|%%|%[sdif]")


def catalogue(locale: str) -> polib.POFile:
    return polib.pofile(str(LOCALE / locale / "LC_MESSAGES" / "django.po"))


def forms(entry) -> list[str]:
    if entry.msgid_plural:
        return [entry.msgstr_plural[i] for i in sorted(entry.msgstr_plural)]
    return [entry.msgstr]


def placeholders(text: str) -> set[str]:
    return set(PLACEHOLDER.findall(text or ""))


# -- the catalogues ---------------------------------------------------------------------------------------


def test_the_shipped_languages_are_the_locale_directories():
    found = {p.name for p in LOCALE.iterdir() if (p / "LC_MESSAGES" / "django.po").exists()}
    assert found == set(SHIPPED)


@pytest.mark.parametrize("locale", SHIPPED)
def test_every_msgid_is_translated_and_none_is_fuzzy(locale):
    po = catalogue(locale)
    assert len(po) > 500
    assert po.metadata["Language"] == locale
    nplurals = int(re.search(r"nplurals=(\d+)", po.metadata["Plural-Forms"]).group(1))
    assert nplurals == NPLURALS.get(locale, 2)
    problems = []
    for entry in po:
        if entry.obsolete:
            problems.append(f"obsolete: {entry.msgid!r}")
        if "fuzzy" in entry.flags:
            problems.append(f"fuzzy: {entry.msgid!r}")
        if entry.msgid_plural and len(entry.msgstr_plural) != nplurals:
            problems.append(f"{len(entry.msgstr_plural)} plural forms, want {nplurals}: {entry.msgid!r}")
        if not all(form.strip() for form in forms(entry)):
            problems.append(f"untranslated: {entry.msgid!r}")
    assert not problems, f"{locale}: {len(problems)} problems:\n" + "\n".join(problems[:40])


@pytest.mark.parametrize("locale", SHIPPED)
def test_placeholders_survive_translation(locale):
    problems = []
    for entry in catalogue(locale):
        wanted = placeholders(entry.msgid) | placeholders(entry.msgid_plural)
        for i, form in enumerate(forms(entry)):
            got = placeholders(form)
            # A singular form may leave out the count ("this item"), nothing else.
            allowed = placeholders(entry.msgid) <= got <= wanted if (i == 0 and entry.msgid_plural) else False
            if got != wanted and not (allowed and NPLURALS.get(locale, 2) == 2):
                problems.append(f"{entry.msgid!r}[{i}]: {sorted(got)} != {sorted(wanted)}")
    assert not problems, f"{locale}:\n" + "\n".join(problems)


def _messages(entries) -> dict:
    found = {}
    for entry in entries:
        if not entry.msgid or entry.obsolete or "fuzzy" in entry.flags:
            continue
        value = tuple(forms(entry))
        if any(value):
            found[(entry.msgctxt, entry.msgid)] = value
    return found


@pytest.mark.parametrize("locale", SHIPPED)
def test_every_mo_is_compiled_from_its_po(locale):
    folder = LOCALE / locale / "LC_MESSAGES"
    assert (folder / "django.mo").exists(), f"run compilemessages: {folder}/django.mo is missing"
    po, mo = polib.pofile(str(folder / "django.po")), polib.mofile(str(folder / "django.mo"))
    stale = set(_messages(po).items()) ^ set(_messages(mo).items())
    assert not stale, f"{folder}/django.mo is older than its .po: run compilemessages ({len(stale)} differ)"
    assert mo.metadata.get("Plural-Forms") == po.metadata.get("Plural-Forms")


@pytest.mark.skipif(not shutil.which("xgettext"), reason="needs gettext (apt-get install gettext)")
def test_the_catalogues_hold_every_string_of_the_package(tmp_path):
    """Runs the procedure of docs/translating.rst on a copy of the package."""
    copy = tmp_path / "django_order_mail"
    shutil.copytree(PACKAGE, copy, ignore=shutil.ignore_patterns("locale", "__pycache__", "*.pyc"))
    (copy / "locale").mkdir()
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    command = [sys.executable, "-m", "django", "makemessages", "-l", "de", "-e", "html,txt,py,email"]
    subprocess.run(command, cwd=copy, env=env, check=True, capture_output=True, timeout=120)

    def keys(po):
        return {(e.msgctxt, e.msgid, e.msgid_plural) for e in po if e.msgid and not e.obsolete}

    current = keys(polib.pofile(str(copy / "locale/de/LC_MESSAGES/django.po")))
    shipped = keys(catalogue("de"))
    assert not current - shipped, (
        "strings without a translation (re-run makemessages and translate them, docs/translating.rst): "
        f"{sorted(m for _c, m, _p in current - shipped)[:30]}"
    )
    assert not shipped - current, "strings no longer in the package: re-run makemessages --no-obsolete"


# -- every customer email in every shipped language ---------------------------------------------------------

ORDER_EVENTS = [*MailEvent.values, "feedback_request"]
SHIPMENT_EVENTS = {MailEvent.SHIPPING_CONFIRMATION, MailEvent.SHIPPING_UPDATE, MailEvent.OUT_FOR_DELIVERY}
#: The subject msgid each email has with the test data (a shipped web order of "Tina").
SUBJECTS = {
    MailEvent.ORDER_CONFIRMATION: "Order %(order_number)s confirmed – thank you, %(customer_name)s!",
    MailEvent.PAYMENT_FAILED: "Payment for order %(order_number)s did not go through",
    MailEvent.ORDER_EDITED: "Your order %(order_number)s has been updated",
    MailEvent.ORDER_ON_HOLD: "Your order %(order_number)s: a quick check before we ship",
    MailEvent.SHIPPING_CONFIRMATION: "Your order %(order_number)s is on its way",
    MailEvent.SHIPPING_UPDATE: "New tracking details for your order %(order_number)s",
    MailEvent.OUT_FOR_DELIVERY: "Your order %(order_number)s is out for delivery",
    MailEvent.DELIVERED: "Your order %(order_number)s has been delivered",
    "feedback_request": "How was your order %(order_number)s?",
    MailEvent.CANCELLATION: "Your order %(order_number)s has been cancelled",
    MailEvent.REFUND: "Your refund of %(amount)s for order %(order_number)s",
    "abandoned_cart": "You left something in your cart at %(shop)s",
    # The carrier-tracking app's email, for a failed delivery attempt.
    "delivery_exception": "The carrier could not deliver your order %(order_number)s",
    # The reviews app's one reminder (its product stars are also in the feedback request above).
    "review_reminder": "A quick question about order %(order_number)s",
}
#: Short English phrases the generic check below does not cover (each translated
#: differently in every shipped language).
KEY_PHRASES = ["Hi Tina", "Shipping address", "Track your parcel", "Unsubscribe", "View your order status"]
TRANSLATED = [code for locale, code in SHIPPED.items() if locale != "en"]


@cache
def english_sentences(language: str) -> tuple[str, ...]:
    """Literal runs of three or more words of every msgid, except those the
    language's own translation keeps (a brand name, "Net Promoter Score")."""
    locale = next(loc for loc, code in SHIPPED.items() if code == language)
    found = set()
    for entry in catalogue(locale):
        translated = " ".join(forms(entry))
        for source in (entry.msgid, entry.msgid_plural):
            for chunk in PLACEHOLDER.split(source or ""):
                chunk = chunk.strip(" .,:;!?–-()")
                if len(chunk.split()) >= 3 and chunk not in translated:
                    found.add(chunk)
    return tuple(sorted(found))


def visible_text(rendered_html: str) -> str:
    without_head = re.sub(r"<head>.*?</head>", " ", rendered_html, flags=re.S)
    return html.unescape(re.sub(r"<[^>]+>", " ", without_head))


def customer_emails():
    """(event, context) of every customer email, with every optional part shown."""
    order = OrderFactory(state="shipped")
    shipment = order.add_shipment(
        "ups", "1Z999", estimated_delivery_from=date(2025, 3, 3), estimated_delivery_to=date(2025, 3, 5)
    )
    extra = {"reason": "R-17", "amount": "10.00", "changes": ["Size M → L"]}
    for event in ORDER_EVENTS:
        parcel = shipment if event in SHIPMENT_EVENTS else None
        yield event, build_context(order, event, shipment=parcel, extra=extra, email_id=1)
    yield (
        "abandoned_cart",
        build_context(make_cart(), "abandoned_cart", extra={"step": 1}, email_id=2),
    )
    yield "review_reminder", build_context(order, "review_reminder", extra={}, email_id=4)
    yield (
        "delivery_exception",
        build_context(
            order, "delivery_exception", shipment=shipment, extra={"exception": "attempt_failed"}, email_id=3
        ),
    )


def translation_problems(event, context, language) -> list[str]:
    english = render_event(event, context, language="en")
    email = render_event(event, context, language=language)
    params = {
        "order_number": context["order_number"],
        "customer_name": context["customer_name"],
        "shop": context["shop"]["name"],
    }
    with translation.override(language):
        params["amount"] = format_money("10.00", context["currency"])
        expected_subject = translation.gettext(SUBJECTS[event]) % params
        greeting = translation.gettext("Hi %(customer_name)s,") % params
    page = visible_text(email.html)
    problems = []
    if email.language != language or f'<html lang="{language}"' not in email.html:
        problems.append(f"rendered in {email.language!r}")
    if email.subject != expected_subject or email.subject == english.subject:
        problems.append(f"subject {email.subject!r}, want {expected_subject!r}")
    if greeting not in email.text or greeting not in page:
        problems.append(f"no greeting {greeting!r}")
    sentences = english_sentences(language)
    leftovers = [p for p in (*KEY_PHRASES, *sentences) if p in email.text or p in page or p in email.subject]
    if leftovers:
        problems.append(f"English left: {leftovers}")
    # The English email does contain such sentences, so the check above can fail.
    assert any(sentence in english.text for sentence in sentences), event
    return [f"{event}: {problem}" for problem in problems]


@pytest.mark.django_db
@pytest.mark.parametrize("language", TRANSLATED)
def test_every_customer_email_is_translated(language):
    emails = list(customer_emails())
    assert {event for event, _context in emails} == set(SUBJECTS)
    problems = [p for event, context in emails for p in translation_problems(event, context, language)]
    assert not problems, f"{language}:\n" + "\n".join(problems)
