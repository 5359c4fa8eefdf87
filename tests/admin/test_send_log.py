"""The send log's list (search, filters, no per-row queries) and its detail
page (the email as sent, the timeline, the one-row buttons)."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission, User
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from django_order_mail.events import MailEvent
from django_order_mail.outbox.enqueue import PendingMail, enqueue
from django_order_mail.outbox.models import OutboxEmail, Status
from tests.factories import OrderFactory

pytestmark = pytest.mark.django_db

CHANGELIST = "admin:django_order_mail_outboxemail_changelist"
DETAIL = "admin:django_order_mail_outboxemail_change"


@pytest.fixture(autouse=True)
def fast_password_hasher(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def rows_for(n, no_broker):
    rows = []
    for _ in range(n):
        with transaction.atomic():
            rows += enqueue(
                OrderFactory(), [PendingMail(MailEvent.ORDER_CONFIRMATION), PendingMail(MailEvent.DELIVERED)]
            )
    return rows


def act(client, row, what):
    return client.post(reverse("admin:django_order_mail_outboxemail_act", args=[row.pk, what]))


def staff(client, *codenames):
    user = User.objects.create_user("staff", "staff@shop.example", "pw", is_staff=True)
    user.user_permissions.add(
        *Permission.objects.filter(content_type__app_label="django_order_mail", codename__in=codenames)
    )
    client.force_login(user)
    return user


def test_list_queries_do_not_grow_with_rows_and_skip_the_bodies(admin_client, no_broker):
    rows_for(2, no_broker)
    admin_client.get(reverse(CHANGELIST))  # warm the content type cache
    with CaptureQueriesContext(connection) as few:
        assert admin_client.get(reverse(CHANGELIST)).status_code == 200
    rows_for(20, no_broker)
    with CaptureQueriesContext(connection) as many:
        response = admin_client.get(reverse(CHANGELIST))
    assert len(response.context["cl"].result_list) == 44
    assert len(many) == len(few)
    listing = [q["sql"] for q in many if "LIMIT" in q["sql"] and "order_mail" in q["sql"]]
    assert listing and not any("body_html" in sql for sql in listing)
    assert not any("DISTINCT" in q["sql"] for q in many)  # the channel filter reads the settings


def test_the_list_does_not_rebuild_every_event_label_for_each_row(admin_client, no_broker, monkeypatch):
    """The event field's ``choices`` is a callable (the registry): Django's
    cell and ``get_event_display()`` would list every event per row (the row's
    ``event_label`` reads the registry)."""
    from django.db.models import CharField, Field

    event_field = OutboxEmail._meta.get_field("event")
    built = []

    def flatchoices(field):
        if field is event_field:
            built.append(field)
        return Field.flatchoices.fget(field)

    monkeypatch.setattr(CharField, "flatchoices", property(flatchoices), raising=False)
    rows_for(2, no_broker)
    admin_client.get(reverse(CHANGELIST))
    built.clear()
    rows_for(20, no_broker)
    body = admin_client.get(reverse(CHANGELIST)).content.decode()
    assert len(built) <= 1  # the filter's list of events, once
    assert body.count('<td class="field-event_label">Order confirmation</td>') == 22
    assert OutboxEmail(event="no_such_event").event_label == "no_such_event"
    row = OutboxEmail.objects.first()
    assert row.event_label == row.get_event_display() and str(row).startswith(row.event_label)


def test_the_rows_checkbox_is_djangos_own_html_and_the_status_label_its_display(admin_client, no_broker):
    """The list draws each row's checkbox and status without Django's
    widget and ``get_status_display()`` (docs/performance.md, *Growth*):
    the same HTML and the same words, escaped the same way, and the actions
    still find the rows."""
    from django.contrib import admin
    from django.contrib.admin import ModelAdmin

    [row, _] = rows_for(1, no_broker)
    OutboxEmail.objects.filter(pk=row.pk).update(reference='<b>"42"</b>')
    row.refresh_from_db()
    model_admin = admin.site._registry[OutboxEmail]
    ours = model_admin.action_checkbox(row)
    assert ours == ModelAdmin.action_checkbox(model_admin, row)
    assert "&lt;b&gt;" in ours and "<b>" not in ours
    body = admin_client.get(reverse(CHANGELIST)).content.decode()
    assert ours in body
    for status in Status:
        assert OutboxEmail(status=status).status_label == OutboxEmail(status=status).get_status_display()
    assert OutboxEmail(status="gone").status_label == "gone"
    # One link per row (the id), so one preserved-filters link to build.
    assert body.count(f'href="/admin/django_order_mail/outboxemail/{row.pk}/change/') == 1


def test_rows_link_to_the_shops_order_admin_when_it_has_one(admin_client, no_broker):
    [row, _] = rows_for(1, no_broker)
    response = admin_client.get(reverse(CHANGELIST))
    # The test app has no Order admin: the order number is plain text.
    assert row.reference in response.content.decode()


@pytest.mark.parametrize(
    "term", ["reference", "recipient", "RECIPIENT", "esp_message_id", "pk"], ids=lambda t: t
)
def test_search_is_exact_on_indexed_columns(admin_client, no_broker, term):
    rows = rows_for(3, no_broker)
    target = rows[2]
    OutboxEmail.objects.filter(pk=target.pk).update(esp_message_id="esp-abc-123")
    target.refresh_from_db()
    value = {
        "reference": target.reference,
        "recipient": target.recipient,
        "RECIPIENT": target.recipient.upper(),  # typed in capitals, stored in lower case
        "esp_message_id": "esp-abc-123",
        "pk": str(target.pk),
    }[term]
    response = admin_client.get(reverse(CHANGELIST), {"q": value})
    found = set(response.context["cl"].result_list)
    assert target in found
    assert found <= {r for r in rows if r.reference == target.reference}


def test_channel_and_status_filters(admin_client, no_broker):
    rows = rows_for(2, no_broker)
    OutboxEmail.objects.filter(pk=rows[0].pk).update(channel="amazon_fbm", status=Status.FAILED)
    response = admin_client.get(reverse(CHANGELIST), {"channel": "amazon_fbm"})
    assert list(response.context["cl"].result_list) == [OutboxEmail.objects.get(pk=rows[0].pk)]
    response = admin_client.get(reverse(CHANGELIST), {"status__exact": Status.FAILED})
    assert [r.pk for r in response.context["cl"].result_list] == [rows[0].pk]


def test_detail_shows_the_email_as_sent_escaped_in_a_sandboxed_iframe(admin_client, no_broker):
    [row, _] = rows_for(1, no_broker)
    OutboxEmail.objects.filter(pk=row.pk).update(
        status=Status.SENT, body_html='<p>Hi</p>"><script>alert(1)</script>', body_text="Hi there"
    )
    row.log(Status.SENT, "accepted by the ESP as esp-42")
    body = admin_client.get(reverse(DETAIL, args=[row.pk])).content.decode()
    assert 'sandbox=""' in body
    assert "&lt;p&gt;Hi&lt;/p&gt;&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;" in body
    assert "<script>alert(1)" not in body
    assert "Hi there" in body and "esp-42" in body


def test_resend_from_the_detail_page_links_both_rows(admin_client, no_broker):
    [row, _] = rows_for(1, no_broker)
    OutboxEmail.objects.filter(pk=row.pk).update(status=Status.SENT)
    response = act(admin_client, row, "resend")
    copy = OutboxEmail.objects.get(resend_of=row)
    assert response.url == reverse(DETAIL, args=[copy.pk])
    assert copy.status == Status.QUEUED and copy.logs.get().message == f"resend of #{row.pk} by admin"
    body = admin_client.get(reverse(DETAIL, args=[row.pk])).content.decode()
    assert reverse(DETAIL, args=[copy.pk]) in body  # "resent as #n"


def test_retry_only_failed_and_cancel_only_unsent(admin_client, no_broker):
    [queued, delivered] = rows_for(1, no_broker)
    act(admin_client, queued, "retry")
    queued.refresh_from_db()
    assert queued.status == Status.QUEUED and queued.attempts == 0
    act(admin_client, queued, "cancel")
    queued.refresh_from_db()
    assert queued.status == Status.CANCELLED
    OutboxEmail.objects.filter(pk=delivered.pk).update(status=Status.FAILED, attempts=8)
    act(admin_client, delivered, "retry")
    delivered.refresh_from_db()
    assert (delivered.status, delivered.attempts) == (Status.QUEUED, 0)


def test_view_only_staff_see_no_buttons_and_cannot_post_them(client, no_broker):
    [row, _] = rows_for(1, no_broker)
    staff(client, "view_outboxemail")
    body = client.get(reverse(DETAIL, args=[row.pk])).content.decode()
    assert 'id="order-mail-resend"' not in body
    for what in ("resend", "retry", "cancel"):
        assert act(client, row, what).status_code == 403
    assert OutboxEmail.objects.count() == 2
    row.refresh_from_db()
    assert row.status == Status.QUEUED


def test_resend_permission_without_view_permission_is_refused(client, no_broker):
    [row, _] = rows_for(1, no_broker)
    staff(client, "resend_outboxemail")
    assert act(client, row, "resend").status_code == 403
    assert client.get(reverse(DETAIL, args=[row.pk])).status_code == 403


def test_buttons_need_post(admin_client, no_broker):
    [row, _] = rows_for(1, no_broker)
    response = admin_client.get(reverse("admin:django_order_mail_outboxemail_act", args=[row.pk, "resend"]))
    assert response.status_code == 405
    assert OutboxEmail.objects.count() == 2


def test_large_filtered_lists_count_only_up_to_a_cap(admin_client, no_broker, monkeypatch):
    from django_order_mail.admin.send_log import LargeLogPaginator

    monkeypatch.setattr(LargeLogPaginator, "COUNT_CAP", 5)
    rows_for(4, no_broker)
    response = admin_client.get(reverse(CHANGELIST), {"channel": "web"})
    assert response.context["cl"].result_count == 6
    assert "more than 5 emails" in response.content.decode()
    response = admin_client.get(reverse(CHANGELIST), {"event__exact": MailEvent.DELIVERED})
    assert response.context["cl"].result_count == 4
    assert "4 emails" in response.content.decode()
