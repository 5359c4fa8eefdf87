"""Money, dates and addresses in the reader's locale: the ``order_mail``
template filters (Babel/CLDR) and what the packaged emails show with them."""

from __future__ import annotations

import html
from datetime import date, datetime
from datetime import timezone as dt_timezone
from decimal import Decimal

import pytest
from django.template import Context, Template
from django.utils import translation

from django_order_mail.events import MailEvent
from django_order_mail.rendering.context import build_context
from django_order_mail.rendering.i18n import address_lines, babel_locale, format_date, format_money
from django_order_mail.rendering.render import render_event
from tests.factories import OrderFactory

NBSP = "\u00a0"
NNBSP = "\u202f"  # CLDR puts a narrow no-break space before "г."


def render_filter(source: str, language: str, **context) -> str:
    with translation.override(language):
        return Template("{% load order_mail %}" + source).render(Context(context))


@pytest.mark.parametrize(
    ("language", "amount", "currency", "expected"),
    [
        ("en", "12.5", "USD", "$12.50"),
        ("en", Decimal("1234.5"), "usd", "$1,234.50"),
        ("en", "1200", "JPY", "¥1,200"),  # the currency's own decimals
        ("en", "249", "NOK", f"NOK{NBSP}249.00"),  # an ISO code never touches the digits
        ("nb", "249", "NOK", f"249,00{NBSP}kr"),
        ("de", "12.5", "EUR", f"12,50{NBSP}€"),
        ("de", "1234.5", "EUR", f"1.234,50{NBSP}€"),
        ("fr", "1234.5", "EUR", f"1\u202f234,50{NBSP}€"),
        ("es", "12.5", "EUR", f"12,50{NBSP}€"),
        ("ru", "1234.5", "RUB", f"1{NBSP}234,50{NBSP}₽"),
        ("zh-hans", "99.9", "CNY", "¥99.90"),
        ("zh-hant", "99.9", "TWD", "$99.90"),
        ("de", "12.5", "", "12,50"),  # no currency: the number alone
    ],
)
def test_money_follows_the_readers_locale(language, amount, currency, expected):
    assert format_money(amount, currency, language) == expected
    assert render_filter("{{ v|money:c }}", language, v=amount, c=currency) == expected


@pytest.mark.parametrize("value", [None, ""])
def test_empty_amounts_stay_empty(value):
    assert render_filter("[{{ v|money:'EUR' }}]", "de", v=value) == "[]"


def test_what_is_not_a_number_is_shown_as_it_is():
    assert render_filter("{{ v|money:'EUR' }}", "de", v="on request") == "on request"
    assert format_money("NaN", "EUR", "de") == "NaN"


def test_a_discount_is_negative_in_every_locale():
    assert render_filter("{{ v|negate|money:'EUR' }}", "de", v="5") == f"-5,00{NBSP}€"
    assert render_filter("{{ v|negate|money:'USD' }}", "en", v=Decimal("-5")) == "-$5.00"
    assert render_filter("{{ v|negate }}", "en", v="n/a") == "n/a"


@pytest.mark.parametrize(
    ("language", "length", "expected"),
    [
        ("en", "long", "March 3, 2025"),
        ("en", "medium", "Mar 3, 2025"),
        ("de", "long", "3. März 2025"),
        ("de", "medium", "03.03.2025"),
        ("fr", "long", "3 mars 2025"),
        ("es", "long", "3 de marzo de 2025"),
        ("nb", "long", "3. mars 2025"),
        ("ru", "long", f"3 марта 2025{NNBSP}г."),
        ("zh-hans", "long", "2025年3月3日"),
        ("zh-hant", "long", "2025年3月3日"),
    ],
)
def test_localdate(language, length, expected):
    assert format_date(date(2025, 3, 3), length, language) == expected
    assert render_filter("{{ d|localdate:l }}", language, d=date(2025, 3, 3), l=length) == expected


def test_localdate_defaults_to_long_and_reads_datetimes_and_iso_strings(settings):
    settings.TIME_ZONE = "Asia/Shanghai"
    late_evening_utc = datetime(2025, 3, 2, 20, 0, tzinfo=dt_timezone.utc)  # 3 March in Shanghai
    assert render_filter("{{ d|localdate }}", "zh-hans", d=late_evening_utc) == "2025年3月3日"
    assert render_filter("{{ d|localdate }}", "de", d="2025-03-03") == "3. März 2025"
    assert render_filter("[{{ d|localdate }}]", "de", d=None) == "[]"
    assert render_filter("{{ d|localdate }}", "de", d="soon") == "soon"


def test_unknown_languages_format_like_english():
    assert babel_locale("xx").language == "en"
    assert format_money("12.5", "USD", "xx") == "$12.50"
    assert babel_locale("zh-hant").script == "Hant"


# -- addresses --------------------------------------------------------------------------------------------

HANGZHOU = {
    "name": "李雷",
    "street": "西湖区文三路 90 号",
    "city": "杭州市",
    "region": "浙江省",
    "postal_code": "310012",
    "country": "CN",
}
OSLO = {"name": "Kari Nordmann", "street": ["Storgata 1", "Leil. 3"], "postal_code": "0150", "city": "Oslo"}
OSLO_LINES = ["Kari Nordmann", "Storgata 1", "Leil. 3", "0150 Oslo"]
BOSTON = {
    "name": "Jo Doe",
    "line1": "1 Main St",
    "city": "Boston",
    "region": "MA",
    "postal_code": "02110",
    "country": "US",
}
MOSCOW = {"name": "Иван Петров", "street": "ул. Ленина, 1", "city": "Москва", "postal_code": "101000"}


@pytest.mark.parametrize(
    ("address", "language", "expected"),
    [
        (HANGZHOU, "zh-hans", ["中国", "310012", "浙江省杭州市", "西湖区文三路 90 号", "李雷"]),
        (HANGZHOU, "en", ["China", "310012", "浙江省杭州市", "西湖区文三路 90 号", "李雷"]),
        (
            {**OSLO, "country": "NO"},
            "de",
            ["Kari Nordmann", "Storgata 1", "Leil. 3", "0150 Oslo", "Norwegen"],
        ),
        ({**OSLO, "country": "no"}, "nb", [*OSLO_LINES, "Norge"]),
        (OSLO, "en", OSLO_LINES),
        (BOSTON, "fr", ["Jo Doe", "1 Main St", "Boston, MA 02110", "États-Unis"]),
        ({**MOSCOW, "country": "RU"}, "ru", ["Иван Петров", "ул. Ленина, 1", "Москва", "101000", "Россия"]),
        (["Tina", "", "1 Test Street "], "de", ["Tina", "1 Test Street"]),
        ("Tina\n1 Test Street\n", "de", ["Tina", "1 Test Street"]),
        (None, "de", []),
    ],
)
def test_addresses_follow_the_destination_country(address, language, expected):
    assert address_lines(address, language) == expected


# -- in the emails ----------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_order_confirmation_formats_for_its_reader(monkeypatch):
    order = OrderFactory(state="awaiting_shipment")
    model = type(order)
    monkeypatch.setattr(model, "get_mail_addresses", lambda self: {"shipping": HANGZHOU, "billing": BOSTON})
    monkeypatch.setattr(model, "get_mail_expected_dates", lambda self: {"ship_by": date(2025, 3, 3)})
    context = build_context(order, MailEvent.ORDER_CONFIRMATION, email_id=1)

    german = render_event(MailEvent.ORDER_CONFIRMATION, context, language="de")
    for part in (german.text, html.unescape(german.html)):  # css-inline writes &nbsp;
        assert f"43,29{NBSP}$" in part  # 2 × 12.50 + 9.90 + 4.90 shipping + 3.49 tax
        assert "3. März 2025" in part
        assert "China" in part and "Vereinigte Staaten" in part  # country names in German
    assert "浙江省杭州市<br>西湖区文三路 90 号<br>李雷" in german.html

    chinese = render_event(MailEvent.ORDER_CONFIRMATION, context, language="zh-hans")
    assert "US$43.29" in chinese.text
    assert "2025年3月3日" in chinese.text
    assert "中国\n310012\n浙江省杭州市" in chinese.text
    assert "美国" in chinese.text


@pytest.mark.django_db
def test_delivery_window_and_refund_amount_in_russian():
    order = OrderFactory(state="shipped", currency="RUB")
    shipment = order.add_shipment(
        "ups", "1Z9", estimated_delivery_from=date(2025, 3, 3), estimated_delivery_to=date(2025, 3, 5)
    )
    shipped = render_event(
        MailEvent.SHIPPING_CONFIRMATION,
        build_context(order, MailEvent.SHIPPING_CONFIRMATION, shipment=shipment, email_id=1),
        language="ru",
    )
    assert f"Ожидаемая доставка: с 3 марта 2025{NNBSP}г. по 5 марта 2025{NNBSP}г." in shipped.text
    refund = render_event(
        MailEvent.REFUND,
        build_context(order, MailEvent.REFUND, extra={"amount": "1490"}, email_id=2),
        language="ru",
    )
    assert refund.subject == f"Возврат 1{NBSP}490,00{NBSP}₽ по заказу {order.number}"
