"""System checks of the abandoned-cart settings and cart models (E401-E406, W401-W402)."""

from __future__ import annotations

import pytest
from django.db import models
from django.test.utils import isolate_apps

from django_order_mail.carts.checks import _model_errors, cart_checks
from django_order_mail.carts.mixins import AbandonedCartMixin, reminder_scan_index
from django_order_mail.carts.schedule import beat_schedule


def ids(errors) -> list[str]:
    return sorted(e.id.rsplit(".", 1)[1] for e in errors)


def test_packaged_defaults_and_test_cart_pass(settings):
    assert cart_checks() == []


@pytest.mark.parametrize(
    "values, expected",
    [
        ({"ABANDONED_CART_STEPS": [24, 1]}, ["E401"]),
        ({"ABANDONED_CART_STEPS": "12"}, ["E401"]),
        ({"ABANDONED_CART_BATCH_SIZE": 0}, ["E404"]),
        ({"ABANDONED_CART_ATTRIBUTION_HOURS": -1}, ["E404"]),
        ({"ABANDONED_CART_LOW_STOCK_THRESHOLD": "5"}, ["E404"]),
        ({"ABANDONED_CART_COUPON_ISSUER": "no.such.module.issue"}, ["E405"]),
        ({"ABANDONED_CART_COUPON_POLICY": {"from_step": 0}}, ["E405"]),
        ({"ABANDONED_CART_COUPON_POLICY": {"every_days": 3}}, ["E405"]),
        ({"ABANDONED_CART_MAX_IDLE_HOURS": 6}, ["W402"]),
        ({"ABANDONED_CART_STEPS": [1, 24, 72]}, []),
    ],
)
def test_settings_checks(settings, values, expected):
    settings.ORDER_MAIL = {**settings.ORDER_MAIL, **values}
    assert ids(cart_checks()) == expected


def test_issuer_that_imports_passes(settings):
    settings.ORDER_MAIL = {
        **settings.ORDER_MAIL,
        "ABANDONED_CART_COUPON_ISSUER": "tests.cart_helpers.issue_coupon",
    }
    assert cart_checks() == []


@isolate_apps("tests.testapp")
def test_cart_model_without_hooks_or_index_is_reported():
    class BareCart(AbandonedCartMixin):
        class Meta:  # own Meta without the mixin's: the index is lost
            app_label = "testapp"

    assert ids(_model_errors(BareCart)) == ["E402", "E402", "W401"]

    class GoodCart(AbandonedCartMixin):
        def get_cart_items(self):
            return []

        def get_checkout_url(self, request=None):
            return "/checkout/"

        class Meta:
            app_label = "testapp"
            indexes = [reminder_scan_index("good_cart_remind"), models.Index(fields=["email"], name="x")]

    assert _model_errors(GoodCart) == []


def test_beat_schedule_runs_the_scan():
    entry = beat_schedule()["django-order-mail-abandoned-cart-scan"]
    assert entry["task"] == "django_order_mail.abandoned_cart_scan"
    assert entry["schedule"] == 300.0
    from celery import current_app

    import django_order_mail.carts.tasks  # noqa: F401 - registers the task

    assert "django_order_mail.abandoned_cart_scan" in current_app.tasks
