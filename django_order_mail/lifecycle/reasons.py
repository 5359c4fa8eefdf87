"""Preset reasons staff pick for a customer email, shown in the email's language.

A reason typed by staff ("out of stock") reaches a Russian or Chinese
customer in the language staff typed it in. So staff pick a *preset*
instead: the outbox row stores its code (``extra.reason_code``) and the email
shows the preset's customer sentence, translated when the email is rendered
(inside ``translation.override(<email language>)``), with the template
filter ``{{ extra.reason_code|reason_text:event }}``. Free text stays
possible as ``extra.note``: it is sent as typed, not translated, and the
emails label it as a note from the shop's team.

The packaged presets are :data:`PRESETS`; ``ORDER_MAIL["REASONS"]`` adds,
replaces or (``None``) removes presets per event (``docs/settings.rst``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.utils.functional import Promise
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from ..app_settings import app_settings
from ..events import ALL_EVENTS, MailEvent

#: Letters, digits and underscores: a code is a form value and a JSON key.
CODE = re.compile(r"^[a-z0-9_]+$")


@dataclass(frozen=True)
class Reason:
    """One preset: ``label`` for staff (the admin's language), ``sentence``
    for the customer (the email's language)."""

    code: str
    label: str | Promise  # the packaged presets are lazy translations
    sentence: str | Promise | dict

    def text(self) -> str:
        """The customer sentence in the active language."""
        if isinstance(self.sentence, dict):
            return _by_language(self.sentence)
        return str(self.sentence or "")


def _presets(*entries: tuple[str, str | Promise, str | Promise]) -> dict[str, Reason]:
    return {code: Reason(code, label, sentence) for code, label, sentence in entries}


#: The packaged presets, per mail event, in the order the admin offers them.
PRESETS: dict[str, dict[str, Reason]] = {
    MailEvent.CANCELLATION: _presets(
        ("customer_request", _("Customer asked to cancel"), _("You asked us to cancel this order.")),
        ("out_of_stock", _("Out of stock"), _("One or more items of your order are no longer in stock.")),
        (
            "payment_not_received",
            _("Payment not received"),
            _("We did not receive the payment for this order."),
        ),
        (
            "suspected_fraud",
            _("Failed the fraud check"),
            _("We could not verify this order, so we cancelled it to protect you."),
        ),
        (
            "address_undeliverable",
            _("Address undeliverable"),
            _("We cannot deliver to the shipping address of this order."),
        ),
    ),
    MailEvent.REFUND: _presets(
        ("returned", _("Items returned"), _("We received the items you sent back.")),
        ("cancelled", _("Order cancelled"), _("Your order was cancelled.")),
        ("damaged", _("Arrived damaged"), _("Your order arrived damaged.")),
        ("price_adjustment", _("Price adjustment"), _("We adjusted the price of your order.")),
    ),
    MailEvent.ORDER_ON_HOLD: _presets(
        ("payment_verification", _("Payment check"), _("We are verifying your payment.")),
        ("address_verification", _("Address check"), _("We are confirming your shipping address.")),
        ("order_details", _("Order details check"), _("We are double-checking the details of your order.")),
    ),
    MailEvent.ORDER_EDITED: _presets(
        ("customer_request", _("Customer asked for the change"), _("You asked us to change your order.")),
        (
            "out_of_stock",
            _("Item out of stock"),
            _("An item was no longer in stock, so we changed your order."),
        ),
        ("address_correction", _("Address corrected"), _("We corrected your shipping address.")),
        ("price_correction", _("Price corrected"), _("We corrected a price in your order.")),
    ),
    MailEvent.PAYMENT_FAILED: _presets(
        ("card_declined", _("Card declined"), _("Your bank declined the payment.")),
        (
            "insufficient_funds",
            _("Insufficient funds"),
            _("The payment was declined for insufficient funds."),
        ),
        ("card_expired", _("Card expired"), _("The card has expired.")),
        (
            "authentication_failed",
            _("Not confirmed with the bank"),
            _("The payment could not be confirmed with your bank."),
        ),
    ),
}


def presets(event: str) -> dict[str, Reason]:
    """``event``'s presets: the packaged ones merged with ``ORDER_MAIL["REASONS"]``."""
    merged = dict(PRESETS.get(event, {}))
    custom = app_settings.REASONS
    for code, entry in ((custom.get(str(event)) or {}) if isinstance(custom, dict) else {}).items():
        if entry is None:
            merged.pop(code, None)
        elif isinstance(entry, dict):
            merged[code] = Reason(code, entry.get("label") or code, entry.get("sentence") or "")
    return merged


def reason_choices(event: str) -> list[tuple[str, str | Promise]]:
    """``(code, label)`` of ``event``'s presets, for a form's select."""
    return [(code, reason.label) for code, reason in presets(event).items()]


def reason_text(event: str, code: str) -> str:
    """The customer sentence of preset ``code`` of ``event`` in the active
    language, or ``""`` for no code or a code no longer configured."""
    reason = presets(event).get(str(code or "")) if code else None
    return reason.text() if reason is not None else ""


def check_reason(event: str, code: str) -> None:
    """Raise ``ValueError`` unless ``code`` is empty or a preset of ``event``
    (called by the transitions, so a typo fails before anything is saved)."""
    if code and code not in presets(event):
        known = ", ".join(presets(event)) or "none"
        raise ValueError(f"unknown reason code {code!r} for the {event} email (presets: {known})")


def _by_language(texts: dict) -> str:
    """The entry of ``{language code: text}`` closest to the active language."""
    from ..rendering.i18n import fallback_chain, normalize

    found = {normalize(code): text for code, text in texts.items()}
    for candidate in fallback_chain(get_language()):
        if candidate.endswith("-*"):
            siblings = [text for code, text in found.items() if code.startswith(candidate[:-1])]
            if siblings:
                return str(siblings[0])
        elif candidate in found:
            return str(found[candidate])
    return str(next(iter(found.values()), ""))


def reason_setting_errors(raw: dict) -> list:
    """System checks ``E011`` and ``W004`` for ``ORDER_MAIL["REASONS"]``
    (registered through ``checks.check_settings``)."""
    from django.core.checks import CheckMessage, Error, Warning

    from ..rendering.i18n import normalize, supported_languages

    hint = "See REASONS in docs/settings.rst."
    reasons = raw.get("REASONS", {})
    if not isinstance(reasons, dict):
        return [Error("ORDER_MAIL['REASONS'] must be a dict: event -> {code: preset}.", hint=hint, id=E011)]
    errors: list[CheckMessage] = []
    languages = {normalize(code) for code in supported_languages()}
    for event, entries in reasons.items():
        where = f"ORDER_MAIL['REASONS'][{event!r}]"
        if event not in ALL_EVENTS or not isinstance(entries, dict):
            errors.append(Error(f"{where}: not a mail event with a dict of presets.", hint=hint, id=E011))
            continue
        for code, entry in entries.items():
            if not isinstance(code, str) or not CODE.match(code):
                errors.append(
                    Error(f"{where}: code {code!r} is not lowercase a-z, 0-9, _.", hint=hint, id=E011)
                )
            elif entry is None:
                continue
            elif (
                not isinstance(entry, dict)
                or not entry.get("label")
                or not isinstance(entry.get("sentence"), (str, dict, Promise))
            ):
                errors.append(
                    Error(f"{where}[{code!r}] needs a 'label' and a 'sentence'.", hint=hint, id=E011)
                )
            elif isinstance(entry["sentence"], dict):
                given = {normalize(c) for c in entry["sentence"]}
                missing = sorted(c for c in languages if c not in given and c.split("-")[0] not in given)
                if missing:
                    message = (
                        f"{where}[{code!r}]['sentence'] has no text in {', '.join(missing)}: "
                        "those customers would get it in another language."
                    )
                    errors.append(Warning(message, hint=hint, id="django_order_mail.W004"))
    return errors


E011 = "django_order_mail.E011"
