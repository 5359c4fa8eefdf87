"""System checks of the retention settings (django_order_mail/data/checks.py):
E014, W006, W007, with every feature app installed (tests.settings)."""

import pytest
from django.test import override_settings

from django_order_mail.checks import check_settings

VALID = {"SITE_URL": "https://shop.example", "FROM_EMAIL": "orders@shop.example"}


def found(**order_mail):
    with override_settings(ORDER_MAIL={**VALID, **order_mail}):
        return [(e.id, e.msg, e.hint) for e in check_settings()]


def ids(**order_mail):
    return [id_ for id_, _msg, _hint in found(**order_mail)]


def test_the_defaults_and_longer_periods_pass():
    assert ids() == []
    assert ids(RETENTION={"bodies": 30, "send_log": 730, "tracking_events": None, "carts": 90.5}) == []
    assert ids(RETENTION={}, RETENTION_BATCH_SIZE=1) == []


def test_retention_must_be_a_dict():
    assert ids(RETENTION=[("bodies", 30)]) == ["django_order_mail.E014"]


def test_an_unknown_kind_is_named_with_the_known_ones():
    [(id_, msg, hint)] = found(RETENTION={"send_logs": 365})
    assert id_ == "django_order_mail.E014"
    assert "'send_logs'" in msg
    assert "send_log" in hint and "tracking_events" in hint and "INSTALLED_APPS" in hint


def test_a_kind_without_retention_is_named_as_such():
    [(id_, msg, hint)] = found(RETENTION={"suppression": 365})
    assert id_ == "django_order_mail.E014"
    assert "'suppression'" in msg
    assert "kept until staff remove it" in hint


@pytest.mark.parametrize("days", [0, -30, 0.0, "30", True, float("nan"), float("inf"), [30]])
def test_a_period_must_be_a_positive_number_of_days(days):
    [(id_, msg, _hint)] = found(RETENTION={"bodies": days})
    assert id_ == "django_order_mail.E014"
    assert "'bodies'" in msg


@pytest.mark.parametrize("size", [0, -1, "1000", True, 10.5, None])
def test_the_batch_size_must_be_a_positive_integer(size):
    [(id_, msg, _hint)] = found(RETENTION_BATCH_SIZE=size)
    assert id_ == "django_order_mail.E014"
    assert "RETENTION_BATCH_SIZE" in msg


@pytest.mark.parametrize("pause", [-0.5, "1", True, None, float("nan")])
def test_the_pause_must_be_a_number_not_below_zero(pause):
    [(id_, msg, _hint)] = found(RETENTION_PAUSE=pause)
    assert id_ == "django_order_mail.E014"
    assert "RETENTION_PAUSE" in msg
    assert ids(RETENTION_PAUSE=0) == ids(RETENTION_PAUSE=2.5) == []


def test_malformed_periods_are_not_also_compared():
    assert ids(RETENTION={"send_log": -1, "nope": 3}) == ["django_order_mail.E014"] * 2


def test_a_send_log_shorter_than_the_customer_links_warns():
    links, feedback = found(RETENTION={"send_log": 800}, LINK_MAX_AGE_DAYS=900, FEEDBACK_DELAY_DAYS=0)
    assert links[0] == feedback[0] == "django_order_mail.W006"
    assert "the customer links, LINK_MAX_AGE_DAYS (900 days)" in links[1]
    assert "at least 900 days" in links[2]
    assert "feedback request" in feedback[1]
    assert ids(RETENTION={"send_log": 900}, LINK_MAX_AGE_DAYS=900, FEEDBACK_DELAY_DAYS=0) == []


def test_a_send_log_shorter_than_the_unsubscribe_links_warns():
    [(id_, msg, _hint)] = found(UNSUBSCRIBE_LINK_MAX_AGE_DAYS=1000)
    assert id_ == "django_order_mail.W006"
    assert "UNSUBSCRIBE_LINK_MAX_AGE_DAYS (1000 days)" in msg
    assert "unsubscribe" in msg


def test_a_send_log_shorter_than_a_feedback_requests_link_warns():
    """Retention counts from when the row was written: a feedback request is
    written FEEDBACK_DELAY_DAYS before it is sent."""
    short_links = {"UNSUBSCRIBE_LINK_MAX_AGE_DAYS": 60}
    [(id_, msg, _hint)] = found(RETENTION={"send_log": 65}, **short_links)
    assert id_ == "django_order_mail.W006"
    assert "FEEDBACK_DELAY_DAYS + LINK_MAX_AGE_DAYS (67 days)" in msg
    assert ids(RETENTION={"send_log": 65}, FEEDBACK_DELAY_DAYS=5, **short_links) == []


def test_a_send_log_shorter_than_the_frequency_caps_window_warns():
    [(id_, msg, _hint)] = found(COMMERCIAL_FREQUENCY_CAP={"max": 1, "hours": 24 * 800})
    assert id_ == "django_order_mail.W006"
    assert "COMMERCIAL_FREQUENCY_CAP (800 days)" in msg
    assert ids(COMMERCIAL_FREQUENCY_CAP=None) == []
    assert ids(COMMERCIAL_FREQUENCY_CAP={"max": 0, "hours": 24 * 800}) == []


def test_periods_shorter_than_the_cart_attribution_warn_that_rows_are_kept_anyway():
    [(id_, msg, hint)] = found(RETENTION={"carts": 95}, ABANDONED_CART_LINK_MAX_AGE_DAYS=100)
    assert id_ == "django_order_mail.W007"
    assert "attribution window" in msg and "(100 days)" in msg
    assert hint.startswith("Nothing breaks")
    found_ids = ids(RETENTION={"carts": 10})
    assert found_ids == ["django_order_mail.W007"] * 2  # the attribution window and the coupons
    assert ids(RETENTION={"carts": 90}) == []


def test_every_need_is_checked_against_the_given_period_only():
    """A kind kept for ever (None) needs nothing."""
    assert ids(RETENTION={"send_log": None}, UNSUBSCRIBE_LINK_MAX_AGE_DAYS=5000) == []
