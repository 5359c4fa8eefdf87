"""Issue 17 in the send log and on the order page: search by part of a name
or address, the delivery/open/click columns an app supplies, the skip
reason in the order's email list, and one name per order action."""

from __future__ import annotations

import re

import pytest
from django.core import checks
from django.db import connection, transaction
from django.urls import reverse

from django_order_mail.admin.orders import TRANSITION_LABELS
from django_order_mail.data.core import erase_emails, export_emails
from django_order_mail.events import MailEvent
from django_order_mail.outbox import actions, engagement
from django_order_mail.outbox.enqueue import PendingMail, enqueue
from django_order_mail.outbox.models import OutboxEmail, Status
from django_order_mail.outbox.search import missing_trigram_indexes, search_condition
from tests.factories import OrderFactory

pytestmark = pytest.mark.django_db

CHANGELIST = "admin:django_order_mail_outboxemail_changelist"


@pytest.fixture(autouse=True)
def fast_password_hasher(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def email_of(**order_fields) -> OutboxEmail:
    with transaction.atomic():
        [row] = enqueue(OrderFactory(**order_fields), [PendingMail(MailEvent.ORDER_CONFIRMATION)])
    return row


def found(client, term: str) -> set[int]:
    response = client.get(reverse(CHANGELIST), {"q": term})
    assert response.status_code == 200
    return {row.pk for row in response.context["cl"].result_list}


@pytest.fixture
def people(no_broker):
    return {
        "tina": email_of(customer_name="Tina Hansen", email="tina.h@fjordpost.no"),
        "per": email_of(customer_name="Per Hansson", email="per@fjordpost.no"),
        "ola": email_of(customer_name="Ola Nordmann", email="ola@example.com"),
    }


def test_the_row_keeps_the_customers_name_and_a_resend_copies_it(people):
    assert people["tina"].customer_name == "Tina Hansen"
    assert actions.resend(people["tina"]).customer_name == "Tina Hansen"


@pytest.mark.parametrize(
    ("term", "who"),
    [
        ("fjordpost", {"tina", "per"}),  # part of two addresses
        ("HANS", {"tina", "per"}),  # part of two names, any case
        ("hansen", {"tina"}),
        ("Nordmann", {"ola"}),
        ("ola@example.com", {"ola"}),
        ("OLA@EXAMPLE.COM", {"ola"}),
        ("nobody", set()),
    ],
)
def test_search_by_part_of_a_name_or_an_address(admin_client, people, term, who):
    assert found(admin_client, term) == {people[name].pk for name in who}


def test_a_whole_address_finds_that_customer_only(admin_client, people):
    joann = email_of(customer_name="Jo Ann", email="jo.ola@example.com")
    assert found(admin_client, "Ola@Example.com") == {people["ola"].pk}  # not jo.ola@
    assert found(admin_client, "ola@example") == {people["ola"].pk, joann.pk}  # a part still is one
    assert found(admin_client, "@example.com") == {people["ola"].pk, joann.pk}


def test_a_term_under_three_characters_is_matched_exactly_only(admin_client, people):
    # "ol" is in "Ola" and "ola@...", but two letters would read the whole log.
    assert found(admin_client, "ol") == set()
    assert found(admin_client, people["ola"].reference) == {people["ola"].pk}


def test_like_wildcards_in_the_term_are_plain_characters(admin_client, people):
    assert found(admin_client, "%%%") == set()
    assert found(admin_client, "___") == set()


def test_the_order_number_id_and_esp_id_stay_exact(people):
    row = people["tina"]
    condition = str(search_condition(row.reference))
    assert "reference" in condition and "esp_message_id" in condition


def test_no_trigram_index_is_missing_on_sqlite():
    assert missing_trigram_indexes() == []
    assert [m for m in checks.run_checks(databases=["default"]) if m.id == "django_order_mail.W020"] == []


def search_help(client) -> str:
    return str(client.get(reverse(CHANGELIST)).context["cl"].search_help_text)


@pytest.mark.skipif(connection.vendor == "postgresql", reason="SQLite's full scan")
def test_the_search_help_offers_part_of_a_name_where_the_database_searches_it(admin_client, people):
    assert search_help(admin_client).startswith("Part of the customer's name or email address")
    assert found(admin_client, "hansen") == {people["tina"].pk}


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's trigram indexes")
def test_without_the_trigram_indexes_the_search_help_says_the_search_is_exact(admin_client, people):
    assert search_help(admin_client).startswith("Part of the customer's name or email address")
    with connection.cursor() as cursor:  # rolled back with the test's transaction
        cursor.execute("DROP INDEX order_mail_name_trgm")
    text = search_help(admin_client)
    assert text.startswith("The exact email address") and "W020" in text
    assert "Part of the customer's name" not in text
    assert found(admin_client, "hansen") == set()  # what the help says
    assert found(admin_client, "ola@example.com") == {people["ola"].pk}


def test_the_name_is_exported_and_erased_with_the_address(people):
    [exported] = export_emails("tina.h@fjordpost.no")
    assert exported["customer_name"] == "Tina Hansen"
    erase_emails("tina.h@fjordpost.no", "hash")
    people["tina"].refresh_from_db()
    assert people["tina"].customer_name == ""


# -- delivery, opens, clicks ---------------------------------------------------------------


@pytest.fixture
def delivered(people):
    row = people["tina"]
    OutboxEmail.objects.filter(pk=row.pk).update(
        status=Status.SENT, delivery_status="delivered", open_count=2, click_count=1
    )
    return row


def columns(client) -> list[str]:
    return client.get(reverse(CHANGELIST)).context["cl"].list_display


def test_the_tracking_app_supplies_the_delivery_open_and_click_columns(admin_client, delivered):
    assert engagement.engagement_sources()["order_mail_tracking"] == {"delivery", "opens", "clicks"}
    shown = columns(admin_client)
    assert shown[shown.index("created") + 1 : shown.index("created") + 4] == ["delivery", "opens", "clicks"]
    body = admin_client.get(reverse(CHANGELIST)).content.decode()
    assert '<td class="field-opens"><span title="first opened' in body
    detail = admin_client.get(reverse("admin:django_order_mail_outboxemail_change", args=[delivered.pk]))
    assert "After sending" in detail.content.decode()


def test_without_a_source_the_columns_are_not_shown(admin_client, delivered):
    kept = engagement.engagement_sources()
    engagement.unregister_engagement_source("order_mail_tracking")
    try:
        assert not {"delivery", "opens", "clicks"} & set(columns(admin_client))
        detail = admin_client.get(reverse("admin:django_order_mail_outboxemail_change", args=[delivered.pk]))
        assert "After sending" not in detail.content.decode()
        engagement.register_engagement_source("my_webhooks", opens=True)
        assert [c for c in columns(admin_client) if c in engagement.KINDS] == ["opens"]
    finally:
        engagement.unregister_engagement_source("my_webhooks")
        for name, kinds in kept.items():
            engagement.register_engagement_source(name, **{kind: True for kind in kinds})


def test_the_send_log_list_hides_the_navigation_sidebar_only(admin_client, people):
    response = admin_client.get(reverse(CHANGELIST))
    assert response.context["is_nav_sidebar_enabled"] is False
    detail = reverse("admin:django_order_mail_outboxemail_change", args=[people["tina"].pk])
    assert admin_client.get(detail).context["is_nav_sidebar_enabled"] is True


# -- the order page -------------------------------------------------------------------------


@pytest.mark.urls("tests.order_admin_urls")
def test_the_orders_email_list_says_why_an_email_was_skipped(admin_client, order, no_broker):
    order.confirm_payment(notify=False)
    order.save()
    body = admin_client.get(reverse("admin:testapp_order_change", args=[order.pk])).content.decode()
    assert re.search(r'class="field-why">\s*<p>staff chose not to notify the customer</p>', body)


@pytest.mark.urls("tests.order_admin_urls")
def test_a_retried_emails_last_error_is_marked_as_such(admin_client, order, no_broker):
    order.confirm_payment()
    order.save()
    OutboxEmail.for_order(order).update(last_error="ESP answered 503")
    body = admin_client.get(reverse("admin:testapp_order_change", args=[order.pk])).content.decode()
    assert "last try: ESP answered 503" in body


@pytest.mark.urls("tests.order_admin_urls")
def test_one_name_per_action_on_the_order_page(admin_client, order):
    body = admin_client.get(reverse("admin:testapp_order_change", args=[order.pk])).content.decode()
    assert 'value="freeze"' in body and ">Put on hold</button>" in body
    assert ">Freeze</button>" not in body
    assert ">Cancel order</button>" in body


def test_every_core_transition_has_one_translatable_name():
    from django_order_mail.lifecycle.mixins import OrderMailMixin

    names = {name for name, value in vars(OrderMailMixin).items() if hasattr(value, "_django_fsm")}
    assert "freeze" in names and names <= set(TRANSITION_LABELS)
    labels = [str(label) for label in TRANSITION_LABELS.values()]
    assert len(labels) == len(set(labels))  # no two actions share a name


def test_a_searched_list_counts_less_far(admin_client, people, monkeypatch):
    from django_order_mail.admin.send_log import OutboxEmailAdmin

    monkeypatch.setattr(OutboxEmailAdmin, "search_count_cap", 1)
    body = admin_client.get(reverse(CHANGELIST), {"q": "fjordpost"}).content.decode()
    assert "more than 1 emails" in body  # two match; the list still shows both
    assert "more than" not in admin_client.get(reverse(CHANGELIST)).content.decode()
