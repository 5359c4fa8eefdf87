"""Preset reasons (lifecycle.reasons): staff pick a reason, the outbox row keeps
its code, and the customer reads the preset's sentence in the email's language;
free text is a labelled note, sent as typed. Old rows with a free-text
``reason`` keep rendering it."""

from __future__ import annotations

import html
import re

import pytest
from django.core.checks import Error, Warning
from django.db import transaction
from django.utils import translation
from django.utils.translation import gettext_lazy

from django_order_mail.checks import check_settings
from django_order_mail.events import MailEvent
from django_order_mail.lifecycle.reasons import PRESETS, presets, reason_text
from django_order_mail.outbox.models import OutboxEmail
from django_order_mail.rendering.render import render_outbox_email
from tests.factories import OrderFactory

pytestmark = pytest.mark.django_db

OUT_OF_STOCK = {
    "en": "One or more items of your order are no longer in stock.",
    "ru": "Одного или нескольких товаров из вашего заказа больше нет в наличии.",
    "zh-hans": "您订单中的一件或多件商品已无库存。",
}
NOTE_LABEL = {"en": "A note from our team", "ru": "Примечание от нашей команды", "zh-hans": "我们团队的留言"}
REASON_LABEL = {"en": "Reason", "ru": "Причина", "zh-hans": "原因"}


def visible(rendered_html: str) -> str:
    without_head = re.sub(r"<head>.*?</head>", " ", rendered_html, flags=re.S)
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", without_head)).split())


def move(order, name, *args, **kwargs) -> OutboxEmail:
    with transaction.atomic():
        getattr(order, name)(*args, **kwargs)
        order.save()
    return OutboxEmail.for_order(order).order_by("-id").first()


def rendered(order, row):
    # Staff work in English: the email's own language must win over the active one.
    with translation.override("en"):
        return render_outbox_email(row, order)


@pytest.mark.parametrize("language", ["ru", "zh-hans"])
def test_cancelled_with_a_preset_the_customer_reads_it_in_the_email_language(language, no_broker):
    order = OrderFactory(language=language)
    row = move(order, "cancel", reason_code="out_of_stock")
    assert row.extra == {"reason_code": "out_of_stock"}
    email = rendered(order, row)
    assert email.language == language
    for part in (email.text, visible(email.html)):
        assert OUT_OF_STOCK[language] in part
        assert REASON_LABEL[language] in part
        assert OUT_OF_STOCK["en"] not in part and "out_of_stock" not in part
        assert NOTE_LABEL[language] not in part  # no note was given


@pytest.mark.parametrize("language", ["ru", "zh-hans"])
def test_free_text_is_a_labelled_note_sent_as_typed(language, no_broker):
    order = OrderFactory(language=language)
    note = "Back in stock in May <b>really</b>"
    row = move(order, "cancel", reason_code="out_of_stock", note=note)
    assert row.extra == {"reason_code": "out_of_stock", "note": note}
    email = rendered(order, row)
    assert f"{NOTE_LABEL[language]}: {note}" in email.text
    assert f"{NOTE_LABEL[language]}: {note}" in visible(email.html)
    assert "<b>really</b>" not in email.html  # escaped like any customer-facing text
    assert OUT_OF_STOCK[language] in email.text


def test_a_row_renders_in_its_own_language_even_for_a_multilingual_shop(no_broker):
    english, russian = OrderFactory(language="en"), OrderFactory(language="ru")
    rows = [move(o, "cancel", reason_code="out_of_stock") for o in (english, russian)]
    assert OUT_OF_STOCK["en"] in rendered(english, rows[0]).text
    assert OUT_OF_STOCK["ru"] in rendered(russian, rows[1]).text


def test_old_rows_with_a_free_text_reason_keep_rendering_it(no_broker):
    order = OrderFactory(language="ru")
    row = move(order, "cancel", "Out of stock")  # the older free-text argument
    assert row.extra == {"reason": "Out of stock"}
    email = rendered(order, row)
    assert "Причина: Out of stock" in email.text
    assert "Причина: Out of stock" in visible(email.html)


@pytest.mark.parametrize(
    ("transition", "code", "russian"),
    [
        ("refund", "damaged", "Ваш заказ пришёл повреждённым."),
        ("fail_payment", "card_declined", "Ваш банк отклонил платёж."),
        ("freeze", "payment_verification", "Мы проверяем вашу оплату."),
    ],
)
def test_every_reason_transition_takes_a_preset(transition, code, russian, no_broker):
    order = OrderFactory(language="ru")
    if transition == "refund":
        move(order, "confirm_payment")
    row = move(order, transition, reason_code=code, note="Ок")
    assert row.extra["reason_code"] == code
    email = rendered(order, row)
    assert russian in email.text and russian in visible(email.html)
    assert "Примечание от нашей команды: Ок" in email.text


def test_on_hold_still_hides_the_free_text_reason(no_broker):
    order = OrderFactory(language="ru")
    row = move(order, "freeze", "Fraud score 97", reason_code="address_verification")
    email = rendered(order, row)
    assert "Мы уточняем ваш адрес доставки." in email.text
    assert "Fraud score" not in email.text and "Fraud score" not in email.html


def test_order_edited_takes_a_preset_and_a_note(no_broker):
    order = OrderFactory(language="zh-hans")
    [row] = order.notify_order_edited(["M → L"], reason_code="customer_request", note="OK")
    assert row.extra == {"changes": ["M → L"], "reason_code": "customer_request", "note": "OK"}
    email = rendered(order, row)
    assert "您要求我们修改订单。" in email.text and "我们团队的留言: OK" in email.text


def test_an_unknown_code_fails_before_anything_changes(no_broker):
    order = OrderFactory()
    with pytest.raises(ValueError, match="out_of_stok"):
        order.cancel(reason_code="out_of_stok")
    assert order.state == "pending_payment"
    order.save()
    assert not OutboxEmail.objects.exists()
    with pytest.raises(ValueError):
        order.notify_order_edited(["x"], reason_code="damaged")  # a refund preset, not an edit one


@pytest.mark.parametrize("language", ["de", "es", "fr", "nb", "ru", "zh-hans", "zh-hant"])
def test_every_packaged_preset_is_translated(language):
    for event, reasons in PRESETS.items():
        for code, reason in reasons.items():
            with translation.override("en"):
                english = (reason_text(event, code), str(reason.label))
            with translation.override(language):
                translated = (reason_text(event, code), str(reason.label))
            assert translated[0] != english[0], (language, event, code)
            assert translated[1] != english[1] or english[1] == "Order cancelled", (language, event, code)


# -- the shop's own presets (ORDER_MAIL["REASONS"]) --------------------------------------------------------


def test_a_shop_adds_a_preset_with_a_sentence_per_language_and_removes_one(mail_settings, no_broker):
    mail_settings(
        REASONS={
            "cancellation": {
                "storm": {
                    "label": "Storm",
                    "sentence": {"en": "A storm closed our warehouse.", "ru": "Склад закрыт из-за шторма."},
                },
                "suspected_fraud": None,
            }
        }
    )
    assert "storm" in presets(MailEvent.CANCELLATION) and "suspected_fraud" not in presets(
        MailEvent.CANCELLATION
    )
    assert "suspected_fraud" in PRESETS[MailEvent.CANCELLATION]  # the packaged list itself is untouched
    order = OrderFactory(language="ru-ru")
    row = move(order, "cancel", reason_code="storm")
    assert "Склад закрыт из-за шторма." in rendered(order, row).text
    with pytest.raises(ValueError):
        OrderFactory().cancel(reason_code="suspected_fraud")


def test_a_preset_removed_later_leaves_no_code_in_the_email(mail_settings, no_broker):
    order = OrderFactory(language="ru")
    row = move(order, "cancel", reason_code="out_of_stock")
    mail_settings(REASONS={"cancellation": {"out_of_stock": None}})
    email = rendered(order, row)
    assert "out_of_stock" not in email.text and "Причина" not in email.text


def test_checks_report_malformed_presets_and_missing_languages(settings):
    settings.ORDER_MAIL = {
        **settings.ORDER_MAIL,
        "REASONS": {
            "cancellation": {
                "Bad Code": {"label": "x", "sentence": "y"},
                "no_sentence": {"label": "x"},
                "half": {"label": "Half", "sentence": {"en": "Only English."}},
                "lazy": {"label": gettext_lazy("Out of stock"), "sentence": gettext_lazy("Out of stock")},
            },
            "no_such_event": {},
        },
    }
    settings.LANGUAGES = [("en", "English"), ("ru", "Russian")]
    found = [m for m in check_settings() if m.id in ("django_order_mail.E011", "django_order_mail.W004")]
    errors = [m.msg for m in found if isinstance(m, Error)]
    warnings = [m.msg for m in found if isinstance(m, Warning)]
    assert any("'Bad Code'" in m for m in errors)
    assert any("'no_sentence'" in m for m in errors)
    assert any("no_such_event" in m for m in errors)
    assert len(warnings) == 1 and "'half'" in warnings[0] and "ru" in warnings[0]
    assert not [m for m in errors + warnings if "'lazy'" in m]  # gettext_lazy is the usual way


def test_the_packaged_presets_pass_the_checks():
    assert not [m for m in check_settings() if m.id in ("django_order_mail.E011", "django_order_mail.W004")]


# -- the template editor -----------------------------------------------------------------------------------


def test_the_editor_lists_the_reason_variables_and_labels_the_free_text(admin_client):
    from django.urls import reverse

    page = admin_client.get(
        reverse("admin:django_order_mail_emailtemplate_add"), {"event": MailEvent.CANCELLATION}
    )
    body = html.unescape(page.content.decode())
    assert 'data-variable="extra.reason_code|reason_text:event"' in body
    panel = body.split('id="order-mail-variables-title"', 1)[1].split("</aside>", 1)[0]
    assert OUT_OF_STOCK["en"] in panel  # the sample's preset, as a sentence
    assert "Free text, sent as typed, not translated." in panel
    preview = page.context["preview"]
    assert OUT_OF_STOCK["en"] in preview["text"] and "A note from our team" in preview["text"]
