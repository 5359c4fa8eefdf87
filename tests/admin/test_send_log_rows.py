"""The send log's rows (:mod:`django_order_mail.admin.send_log_rows`) are
Django's own rows, cell for cell, drawn in a fraction of the time."""

from __future__ import annotations

import pytest
from django.contrib import admin
from django.contrib.admin.templatetags.admin_list import results
from django.contrib.auth.models import User
from django.db import transaction
from django.test import RequestFactory
from django.urls import resolve, reverse
from django.utils import timezone

from django_order_mail.admin import OutboxEmailAdmin
from django_order_mail.admin.send_log_rows import send_log_rows
from django_order_mail.events import MailEvent
from django_order_mail.outbox.enqueue import PendingMail, enqueue
from django_order_mail.outbox.models import OutboxEmail, Status
from tests.factories import OrderFactory

pytestmark = pytest.mark.django_db

CHANGELIST = "admin:django_order_mail_outboxemail_changelist"


@pytest.fixture
def varied_rows(no_broker):
    """Rows with every kind of cell: escaped names and reasons, a channel,
    a test email, engagement counts, an empty customer name."""
    rows = []
    for n, name in enumerate(['Ann <script>alert("x")</script>', "", "Bjørn & Co", "Kari"]):
        with transaction.atomic():
            order = OrderFactory(customer_name=name, email=f"c{n}@example.com")
            mails = [PendingMail(MailEvent.ORDER_CONFIRMATION), PendingMail(MailEvent.DELIVERED)]
            rows += enqueue(order, mails)
    now = timezone.now()
    OutboxEmail.objects.filter(pk=rows[0].pk).update(
        status=Status.FAILED, last_error='ESP answered 422: <inactive> "recipient"', channel="amazon_fbm"
    )
    OutboxEmail.objects.filter(pk=rows[1].pk).update(
        status=Status.SENT, sent_at=now, delivery_status="delivered", delivered_at=now,
        open_count=3, opened_at=now, click_count=1, clicked_at=now,
    )  # fmt: skip
    OutboxEmail.objects.filter(pk=rows[2].pk).update(
        is_test=True, status=Status.SENT, delivery_status="bounced"
    )
    OutboxEmail.objects.filter(pk=rows[3].pk).update(reference="", customer_name="   ")
    return rows


def changelist(params: dict, site=admin.site):
    user = User.objects.filter(is_superuser=True).first() or User.objects.create_superuser(
        "boss", "boss@shop.example", "pw"
    )
    request = RequestFactory().get(reverse(CHANGELIST), params)
    request.user = user
    request.resolver_match = resolve(request.path)  # the list's filters are kept in its links
    cl = site.get_model_admin(OutboxEmail).get_changelist_instance(request)
    cl.formset = None  # as changelist_view() sets it without list_editable
    return cl


def as_html(rows) -> list[list[str]]:
    return [[str(cell) for cell in row] for row in rows]


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"p": "2"},
        {"status__exact": "failed"},
        {"channel": "amazon_fbm", "o": "-3"},
        {"q": "c1@example.com"},
        {"is_test__exact": "1", "event__exact": "order_confirmation"},
    ],
    ids=["plain", "page-2", "failed", "channel-sorted", "searched", "two-filters"],
)
def test_rows_are_djangos_rows(varied_rows, params, settings):
    settings.ORDER_MAIL = {**getattr(settings, "ORDER_MAIL", {}), "CHANNELS": ["amazon_fbm"]}
    OutboxEmailAdmin.list_per_page, saved = 3, OutboxEmailAdmin.list_per_page
    try:
        cl = changelist(params)
        ours, djangos = as_html(send_log_rows(cl)), as_html(results(cl))
    finally:
        OutboxEmailAdmin.list_per_page = saved
    assert ours and ours == djangos
    if params:
        assert all("?_changelist_filters=" in row[1] for row in ours)
    assert all(len(row) == len(cl.list_display) for row in ours)


@pytest.mark.urls("tests.order_admin_urls")
def test_rows_are_djangos_rows_where_the_orders_have_an_admin(varied_rows):
    from tests.order_admin_urls import site

    cl = changelist({"status__exact": "sent"}, site=site)
    ours = as_html(send_log_rows(cl))
    assert ours == as_html(results(cl))
    assert any("/admin/testapp/order/" in cell for row in ours for cell in row)  # the order is a link


def test_a_list_it_was_not_built_for_gets_djangos_own_rows(varied_rows, monkeypatch):
    """A model field among the columns (a shop's subclass, say), or a second
    link: Django's rows, not a guess at them."""
    monkeypatch.setattr(OutboxEmailAdmin, "list_display", ("id", "recipient", "status_badge"))
    cl = changelist({})
    assert as_html(send_log_rows(cl)) == as_html(results(cl))
    monkeypatch.setattr(OutboxEmailAdmin, "list_display", ("id", "status_badge", "customer"))
    monkeypatch.setattr(OutboxEmailAdmin, "list_display_links", ("id", "status_badge"))
    cl = changelist({"status__exact": "failed"})
    rows = as_html(send_log_rows(cl))
    assert rows == as_html(results(cl)) and "<a href" in rows[0][2]


def test_the_page_draws_its_table_with_them(admin_client, varied_rows):
    body = admin_client.get(reverse(CHANGELIST), {"status__exact": "failed"}).content.decode()
    failed = varied_rows[0]
    assert '<table id="result_list">' in body
    assert f'<th class="field-id"><a href="/admin/django_order_mail/outboxemail/{failed.pk}/change/?' in body
    assert "&lt;inactive&gt;" in body and "<inactive>" not in body
    assert 'name="_selected_action"' in body and "sortable column-status_badge" in body
