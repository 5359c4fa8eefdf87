"""The order-admin mixin on a shop's own Order admin: the status panel with
transition buttons and "notify customer" boxes, "resend order confirmation",
the order's emails, and who may use them."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission, User
from django.db import transaction
from django.urls import reverse

from django_order_mail.events import MailEvent
from django_order_mail.lifecycle.shipments import Shipment
from django_order_mail.outbox.enqueue import PendingMail, enqueue
from django_order_mail.outbox.models import OutboxEmail, Status
from tests.testapp.models import Order

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.order_admin_urls")]


@pytest.fixture(autouse=True)
def fast_password_hasher(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def change_url(order):
    return reverse("admin:testapp_order_change", args=[order.pk])


def move(client, order, name, *, notify=True, **fields):
    data = {"transition": name, **fields}
    if notify:
        data[f"notify_{name}"] = "1"
    return client.post(reverse("admin:testapp_order_order_mail_transition", args=[order.pk]), data)


def resend(client, order):
    return client.post(reverse("admin:testapp_order_order_mail_resend_confirmation", args=[order.pk]))


def staff(client, *perms):
    user = User.objects.create_user("staff", "staff@shop.example", "pw", is_staff=True)
    for perm in perms:
        app, codename = perm.split(".")
        user.user_permissions.add(Permission.objects.get(content_type__app_label=app, codename=codename))
    client.force_login(user)
    return user


def panel(response):
    return response.context["adminform"].form.instance, response.content.decode()


def test_panel_offers_only_transitions_available_now(admin_client, order):
    response = admin_client.get(change_url(order))
    assert response.status_code == 200
    body = response.content.decode()
    for name in ("confirm_payment", "fail_payment", "cancel", "freeze", "hold_for_payment_review"):
        assert f'value="{name}"' in body
    for name in ("ship", "mark_delivered", "refund", "complete"):
        assert f'value="{name}"' not in body
    assert 'id="order-mail-notify-confirm_payment"' in body
    assert 'id="order-mail-notify-hold_for_payment_review"' not in body  # sends no email
    # Enter in a form field must never run a transition.
    assert 'type="submit" class="button" data-order-mail-post' not in body


def test_transition_with_notify_writes_the_email(admin_client, order, no_broker):
    response = move(admin_client, order, "confirm_payment")
    assert response.url == change_url(order)
    order.refresh_from_db()
    assert order.state == "awaiting_shipment"
    row = OutboxEmail.for_order(order).get()
    assert (row.event, row.status) == (MailEvent.ORDER_CONFIRMATION, Status.QUEUED)
    body = admin_client.get(change_url(order)).content.decode()
    assert 'value="ship"' in body and 'value="confirm_payment"' not in body
    assert "Order confirmation" in body  # the emails inline


def test_transition_without_notify_skips_the_email_with_a_reason(admin_client, order, no_broker):
    move(admin_client, order, "confirm_payment", notify=False)
    order.refresh_from_db()
    assert order.state == "awaiting_shipment"
    row = OutboxEmail.for_order(order).get()
    assert row.status == Status.SKIPPED and "not to notify" in row.last_error


def test_unavailable_transition_changes_nothing(admin_client, order, no_broker):
    response = move(admin_client, order, "mark_delivered")
    assert response.status_code == 302
    order.refresh_from_db()
    assert order.state == "pending_payment"
    assert not OutboxEmail.objects.exists()
    assert move(admin_client, order, "delete").status_code == 302  # not a transition at all
    assert Order.objects.filter(pk=order.pk).exists()


def test_ship_uses_the_newest_parcel_without_a_shipping_email(admin_client, order, no_broker):
    move(admin_client, order, "confirm_payment")
    response = move(admin_client, order, "ship")
    messages = [str(m) for m in response.wsgi_request._messages]
    assert any("Add a parcel" in m for m in messages)
    order.refresh_from_db()
    assert order.state == "awaiting_shipment"
    parcel = order.add_shipment("dhl", "JD0001")
    move(admin_client, order, "ship")
    order.refresh_from_db()
    assert order.state == "shipped"
    assert OutboxEmail.for_order(order).get(event=MailEvent.SHIPPING_CONFIRMATION).shipment == parcel
    assert Shipment.objects.count() == 1


def test_resend_order_confirmation(admin_client, order, no_broker):
    with transaction.atomic():
        order.confirm_payment()
        order.save()
    original = OutboxEmail.for_order(order).get()
    body = admin_client.get(change_url(order)).content.decode()
    assert 'id="order-mail-resend-confirmation"' in body
    resend(admin_client, order)
    copy = OutboxEmail.objects.get(resend_of=original)
    assert (copy.event, copy.status, copy.recipient) == (
        MailEvent.ORDER_CONFIRMATION,
        Status.QUEUED,
        order.email,
    )


def test_no_resend_button_without_a_confirmation(admin_client, order):
    assert 'id="order-mail-resend-confirmation"' not in admin_client.get(change_url(order)).content.decode()
    response = resend(admin_client, order)
    assert response.status_code == 302
    assert not OutboxEmail.objects.exists()


def test_test_emails_are_not_listed_with_the_order(admin_client, order, no_broker):
    with transaction.atomic():
        [row] = enqueue(order, [PendingMail(MailEvent.ORDER_CONFIRMATION)])
    OutboxEmail.objects.filter(pk=row.pk).update(is_test=True)
    response = admin_client.get(change_url(order))
    formsets = [f for f in response.context["inline_admin_formsets"] if f.formset.model is OutboxEmail]
    assert list(formsets[0].formset.queryset) == []


def test_viewer_of_orders_gets_no_buttons_and_cannot_move(client, order, no_broker):
    staff(client, "testapp.view_order", "django_order_mail.view_outboxemail")
    body = client.get(change_url(order)).content.decode()
    assert "data-order-mail-post" not in body
    assert move(client, order, "confirm_payment").status_code == 403
    order.refresh_from_db()
    assert order.state == "pending_payment"


def test_order_editor_without_resend_permission(client, order, no_broker):
    with transaction.atomic():
        order.confirm_payment()
        order.save()
    staff(client, "testapp.view_order", "testapp.change_order")
    response = client.get(change_url(order))
    body = response.content.decode()
    assert 'value="ship"' in body
    assert 'id="order-mail-resend-confirmation"' not in body
    # Without the send-log permission the emails inline is not shown at all.
    assert not [f for f in response.context["inline_admin_formsets"] if f.formset.model is OutboxEmail]
    assert resend(client, order).status_code == 403
    assert OutboxEmail.objects.count() == 1


# -- reasons: translatable presets and a free-text note ---------------------------------------------------


def test_cancel_offers_the_preset_reasons_and_a_labelled_note(admin_client, order):
    body = admin_client.get(change_url(order)).content.decode()
    select = body.split('name="cancel-reason_code"', 1)[1].split("</select>", 1)[0]
    for code, label in [("customer_request", "Customer asked to cancel"), ("out_of_stock", "Out of stock")]:
        assert f'<option value="{code}">{label}</option>' in select
    assert 'name="cancel-note"' in body
    assert "Free text, sent as typed, not translated." in body
    assert 'data-fields="order-mail-cancel-reason_code order-mail-cancel-note "' in body
    # freeze offers the on-hold presets, not the cancellation ones
    freeze = body.split('name="freeze-reason_code"', 1)[1].split("</select>", 1)[0]
    assert 'value="payment_verification"' in freeze and 'value="out_of_stock"' not in freeze
    assert 'name="confirm_payment-reason_code"' not in body  # its email gives no reason


def test_presets_are_labelled_in_the_staff_language(admin_client, order):
    body = admin_client.get(change_url(order), HTTP_ACCEPT_LANGUAGE="de").content.decode()
    assert '<option value="out_of_stock">Nicht vorrätig</option>' in body


def test_cancel_with_a_preset_and_a_note_stores_the_code_and_the_note(admin_client, order, no_broker):
    order.language = "ru"
    order.save()
    move(admin_client, order, "cancel", **{"cancel-reason_code": "out_of_stock", "cancel-note": " До мая "})
    order.refresh_from_db()
    assert order.state == "cancelled"
    row = OutboxEmail.for_order(order).get()
    assert row.extra == {"reason_code": "out_of_stock", "note": "До мая"}


def test_a_reason_that_is_not_offered_is_refused(admin_client, order, no_broker):
    response = move(admin_client, order, "cancel", **{"cancel-reason_code": "damaged"})  # a refund preset
    assert any("damaged" in str(m) for m in response.wsgi_request._messages)
    order.refresh_from_db()
    assert order.state == "pending_payment"
    assert not OutboxEmail.objects.exists()
