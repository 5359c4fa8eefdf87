"""The one reading of an order's hooks that the features share: a broken hook
is logged and read as no answer, and an order is worth the same to each feature."""

from __future__ import annotations

import logging
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from django_order_mail.lifecycle.hooks import call_hook, order_total, to_amount


class Order:
    def __init__(self, totals=None, currency=None, **attrs):
        self._totals, self._currency = totals, currency
        self.__dict__.update(attrs)

    def get_mail_totals(self):
        if isinstance(self._totals, Exception):
            raise self._totals
        return self._totals

    def get_mail_currency(self):
        if isinstance(self._currency, Exception):
            raise self._currency
        return self._currency


def test_a_hook_that_raises_is_logged_and_read_as_the_default(caplog):
    caplog.set_level(logging.ERROR, logger="django_order_mail.hooks")
    order = Order(totals=LookupError("no lines on an imported order"))
    assert call_hook(order, "get_mail_totals", {}) == {}
    (record,) = caplog.records
    assert record.getMessage().startswith("get_mail_totals() failed on")
    assert "no lines on an imported order" in caplog.text  # the traceback is kept


def test_a_missing_hook_none_and_no_object_read_as_the_default():
    assert call_hook(object(), "get_mail_totals", "x") == "x"
    assert call_hook(Order(totals=None), "get_mail_totals", {}) == {}
    assert call_hook(None, "get_mail_totals", 7) == 7
    assert call_hook(Order(totals={"total": 0}), "get_mail_totals") == {"total": 0}


@pytest.mark.parametrize(
    "value, amount",
    [
        ("994.9", Decimal("994.90")),
        (12, Decimal("12.00")),
        (Decimal("0.005"), Decimal("0.00")),  # banker's rounding, as Decimal does
        (0, Decimal("0.00")),
        ("", None),
        (None, None),
        ("12,50", None),
        ("NaN", None),
        ("Infinity", None),
        (float("-inf"), None),
    ],
)
def test_amounts_are_finite_and_to_the_cent(value, amount):
    assert to_amount(value) == amount


@given(st.one_of(st.none(), st.text(max_size=20), st.floats(), st.decimals(), st.integers()))
def test_to_amount_never_raises_and_gives_a_finite_cent_amount_or_none(value):
    amount = to_amount(value)
    assert amount is None or (amount.is_finite() and amount == amount.quantize(Decimal("0.01")))


def test_order_total_reads_the_hooks():
    assert order_total(Order(totals={"total": "1499"}, currency=" nok ")) == (Decimal("1499.00"), "NOK")


def test_order_total_falls_back_to_the_attributes():
    order = Order(totals=RuntimeError("boom"), currency=RuntimeError("boom"), total="20.5")
    order.currency = "eur"  # an attribute next to the broken hook
    assert order_total(order) == (Decimal("20.50"), "EUR")


def test_order_total_of_what_cannot_tell():
    assert order_total(Order(totals=["not", "a", "dict"], currency="")) == (None, "")
    assert order_total(Order(totals={"total": "NaN"}, currency="USD")) == (None, "USD")
    assert order_total(None) == (None, "")
