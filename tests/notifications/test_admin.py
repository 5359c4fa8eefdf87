"""Staff notifications in the admin: the list of every staff email and whom
it reaches, the form's validation (translated), permissions, no writes on GET."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.contrib.auth.models import Permission, User
from django.urls import reverse

from django_order_mail.admin.notifications import StaffNotificationForm
from django_order_mail.events import StaffEvent
from django_order_mail.notifications.models import StaffNotification
from django_order_mail.outbox.models import OutboxEmail

from .helpers import set_up

pytestmark = pytest.mark.django_db

LIST = "admin:django_order_mail_staffnotification_changelist"
ADD = "admin:django_order_mail_staffnotification_add"
NEW = StaffEvent.NEW_ORDER
HIGH = StaffEvent.HIGH_VALUE_ORDER
PREFIX = "other_thresholds"


def add(client, event: str, **data):
    payload = {"event": event, "enabled": "on", "emails": "", "threshold": "", "currency": "", **data}
    if event == HIGH:  # the inline of thresholds in other currencies, empty unless given
        payload = {**other_thresholds(), **payload}
    if payload["enabled"] is None:
        del payload["enabled"]
    return client.post(reverse(ADD) + f"?event={event}", payload, **data.pop("headers", {}))


def other_thresholds(*rows: tuple[str, str], initial: int = 0) -> dict:
    """The POST data of the inline: ``rows`` as (currency, threshold)."""
    data = {f"{PREFIX}-TOTAL_FORMS": str(len(rows)), f"{PREFIX}-INITIAL_FORMS": str(initial)}
    for i, (currency, threshold) in enumerate(rows):
        data[f"{PREFIX}-{i}-currency"] = currency
        data[f"{PREFIX}-{i}-threshold"] = threshold
    return data


def add_high_value(client, *rows: tuple[str, str]):
    """The high-value entry from 500 EUR, with ``rows`` as thresholds in other currencies."""
    data = {"emails": "boss@shop.example", "threshold": "500", "currency": "EUR", **other_thresholds(*rows)}
    return add(client, HIGH, **data)


def row_of(content: str, event: str) -> str:
    start = content.index(f'id="staff-{event}"')
    return content[start : content.index("</tr>", start)]


def test_the_list_shows_every_staff_email_and_whom_it_reaches(admin_client):
    set_up(HIGH, "boss@shop.example", threshold="500", currency="EUR")
    content = admin_client.get(reverse(LIST)).content.decode()
    assert "Off until set up here" in row_of(content, NEW)
    assert "boss@shop.example" in row_of(content, HIGH) and "€500.00" in row_of(content, HIGH)
    low = row_of(content, "low_score_alert")
    assert "From the settings" in low and "help@shop.example" in low  # BRANDING["support_email"]
    assert f"{reverse(ADD)}?event=low_score_alert" in low
    # The feature apps' other staff emails: their settings are the default here too.
    for event in ("review_not_received_alert", "stale_shipments_digest"):
        entry = row_of(content, event)
        assert "From the settings" in entry and "help@shop.example" in entry
        assert f"{reverse(ADD)}?event={event}" in entry
    assert "What is set here wins" in content


def test_looking_writes_nothing(admin_client):
    admin_client.get(reverse(LIST))
    admin_client.get(reverse(ADD) + "?event=high_value_order")
    assert not StaffNotification.objects.exists() and not OutboxEmail.objects.exists()


def test_the_add_form_offers_only_staff_events_not_set_up_yet(admin_client):
    set_up(NEW, "orders@shop.example")
    form = admin_client.get(reverse(ADD) + "?event=high_value_order").context["adminform"].form
    values = [value for value, _label in form.fields["event"].choices]
    assert "high_value_order" in values and "low_score_alert" in values
    assert "new_order" not in values and "order_confirmation" not in values
    assert form.initial["event"] == "high_value_order"
    assert "threshold" in form.fields
    assert (
        "threshold"
        not in admin_client.get(reverse(ADD) + "?event=new_order").context["adminform"].form.fields
    )


def test_staff_set_up_high_value_orders(admin_client):
    anna = User.objects.create_user("anna", "anna@shop.example", is_staff=True)
    response = add(
        admin_client,
        HIGH,
        emails="boss@shop.example, Sales@Shop.example",
        users=[anna.pk],
        threshold="500",
        currency="eur",
    )
    assert response.status_code == 302 and response.url == reverse(LIST)
    row = StaffNotification.objects.get()
    assert (row.event, row.enabled, str(row.threshold), row.currency) == (HIGH, True, "500.00", "EUR")
    assert row.emails == "boss@shop.example\nSales@Shop.example"
    assert row.addresses() == ["boss@shop.example", "Sales@Shop.example", "anna@shop.example"]
    assert row.updated_by == "admin"
    [message] = admin_client.get(response.url).context["messages"]
    assert "now goes to: boss@shop.example, Sales@Shop.example, anna@shop.example" in str(message)


@pytest.mark.parametrize(
    ("data", "field", "error"),
    [
        (
            {"emails": "boss@shop, ok@shop.example, <b>x</b>"},
            "emails",
            "“boss@shop” is not a valid email address.",
        ),
        (
            {"emails": "boss@shop, ok@shop.example, <b>x</b>"},
            "emails",
            "“<b>x</b>” is not a valid email address.",
        ),
        ({}, "__all__", "Add at least one email address or staff user, or switch this notification off."),
    ],
)
def test_recipients_are_validated(admin_client, data, field, error):
    response = add(admin_client, NEW, **data)
    assert response.status_code == 200
    form = response.context["adminform"].form
    assert error in form.errors[field]
    assert not StaffNotification.objects.exists()


def test_the_error_page_escapes_what_was_typed(admin_client):
    content = add(admin_client, NEW, emails="<script>x</script>").content.decode()
    assert "<script>x</script>" not in content and "&lt;script&gt;x&lt;/script&gt;" in content


def test_switched_off_needs_no_recipient(admin_client):
    assert add(admin_client, NEW, enabled=None).status_code == 302
    assert StaffNotification.objects.get().enabled is False


def test_a_staff_user_without_an_address_is_refused(admin_client):
    nobody = User.objects.create_user("nils", "", is_staff=True)
    form = add(admin_client, NEW, users=[nobody.pk]).context["adminform"].form
    assert form.errors["users"] == ["nils has no email address in their account: add one there first."]


def test_only_active_staff_accounts_are_offered(admin_client):
    User.objects.create_user("anna", "anna@shop.example", is_staff=True)
    User.objects.create_user("gone", "gone@shop.example", is_staff=True, is_active=False)
    User.objects.create_user("buyer", "buyer@example.com")
    form = admin_client.get(reverse(ADD) + "?event=new_order").context["adminform"].form
    assert [u.username for u in form.fields["users"].queryset] == ["admin", "anna"]


@pytest.mark.parametrize(
    ("data", "field", "error"),
    [
        ({"currency": "EUR"}, "threshold", "Enter the order total from which staff are told."),
        ({"threshold": "0", "currency": "EUR"}, "threshold", "The threshold must be more than zero."),
        ({"threshold": "-5", "currency": "EUR"}, "threshold", "The threshold must be more than zero."),
        ({"threshold": "500"}, "currency", "Enter the threshold's currency, such as EUR."),
        (
            {"threshold": "500", "currency": "e1r"},
            "currency",
            "Enter a three-letter currency code, such as EUR.",
        ),
        ({"threshold": "lots", "currency": "EUR"}, "threshold", "Enter a number."),
    ],
)
def test_the_threshold_is_validated(admin_client, data, field, error):
    form = add(admin_client, HIGH, emails="boss@shop.example", **data).context["adminform"].form
    assert error in form.errors[field]


def test_thresholds_in_other_currencies(admin_client):
    response = add_high_value(admin_client, ("nok", "5000"), ("GBP", "450.5"))
    assert response.status_code == 302
    row = StaffNotification.objects.get()
    assert row.thresholds() == {"EUR": Decimal("500.00"), "GBP": Decimal("450.50"), "NOK": Decimal("5000.00")}
    assert "€500.00, £450.50, NOK" in row_of(admin_client.get(reverse(LIST)).content.decode(), HIGH)


@pytest.mark.parametrize(
    ("rows", "error"),
    [
        ((("EUR", "400"),), "This is the currency of the threshold above: enter another one."),
        ((("eur", "400"),), "This is the currency of the threshold above: enter another one."),
        ((("NOK", "5000"), ("nok", "6000")), "Please correct the duplicate values below."),
        ((("NOK", "0"),), "The threshold must be more than zero."),
        ((("kroner", "5000"),), "Ensure this value has at most 3 characters (it has 6)."),
        ((("N0K", "5000"),), "Enter a three-letter currency code, such as EUR."),
        ((("NOK", ""),), "This field is required."),
    ],
)
def test_thresholds_in_other_currencies_are_validated(admin_client, rows, error):
    response = add_high_value(admin_client, *rows)
    assert response.status_code == 200
    [formset] = response.context["inline_admin_formsets"]
    assert error in str(formset.formset.errors)
    assert not StaffNotification.objects.exists()


def test_only_the_high_value_form_has_thresholds_in_other_currencies(admin_client):
    def inlines(url):
        return [f.formset.prefix for f in admin_client.get(url).context["inline_admin_formsets"]]

    assert inlines(reverse(ADD) + "?event=high_value_order") == [PREFIX]
    assert inlines(reverse(ADD) + "?event=new_order") == []
    row = set_up(NEW, "orders@shop.example")
    assert inlines(reverse("admin:django_order_mail_staffnotification_change", args=[row.pk])) == []


def test_only_high_value_orders_take_a_threshold():
    form = StaffNotificationForm(
        {"event": NEW, "enabled": "on", "emails": "orders@shop.example", "threshold": "10", "currency": "EUR"}
    )
    assert form.errors == {
        "threshold": ["Only high-value orders have a threshold."],
        "currency": ["Only high-value orders have a threshold."],
    }


def test_errors_are_in_the_staff_members_language(admin_client):
    form = add(admin_client, HIGH, emails="boss@shop", threshold="0", headers={"HTTP_ACCEPT_LANGUAGE": "de"})
    form = form.context["adminform"].form
    assert form.errors["emails"] == ["„boss@shop“ ist keine gültige E-Mail-Adresse."]
    assert form.errors["threshold"] == ["Der Schwellenwert muss größer als null sein."]


def test_removing_the_row_goes_back_to_the_settings(admin_client):
    row = set_up("low_score_alert", "care@shop.example")
    response = admin_client.post(
        reverse("admin:django_order_mail_staffnotification_delete", args=[row.pk]), {"post": "yes"}
    )
    assert response.status_code == 302 and response.url == reverse(LIST)
    content = admin_client.get(reverse(LIST)).content.decode()
    assert "help@shop.example" in row_of(content, "low_score_alert")


def staff(*perms: str) -> User:
    user = User.objects.create_user("ole", "ole@shop.example", is_staff=True)
    user.user_permissions.set(Permission.objects.filter(codename__in=perms))
    return user


def test_a_viewer_sees_the_list_but_cannot_set_anything(client):
    client.force_login(staff("view_staffnotification"))
    content = client.get(reverse(LIST)).content.decode()
    assert "Set recipients" not in content
    assert add(client, NEW, emails="me@evil.example").status_code == 403
    assert not StaffNotification.objects.exists()


def test_staff_without_the_permission_are_refused(client):
    client.force_login(staff("view_outboxemail"))
    assert client.get(reverse(LIST)).status_code == 403
    assert add(client, NEW, emails="me@evil.example").status_code == 403


def test_changing_needs_the_change_permission(client):
    row = set_up(NEW, "orders@shop.example")
    client.force_login(staff("view_staffnotification", "add_staffnotification"))
    change = reverse("admin:django_order_mail_staffnotification_change", args=[row.pk])
    client.post(change, {"enabled": "on", "emails": "me@evil.example"})
    row.refresh_from_db()
    assert row.emails == "orders@shop.example"


def test_who_may_change_staff_notifications_sets_the_other_thresholds(client):
    """No separate right to the thresholds: they are part of the entry."""
    row = set_up(HIGH, "boss@shop.example", threshold="500", currency="EUR")
    client.force_login(staff("view_staffnotification", "change_staffnotification"))
    change = reverse("admin:django_order_mail_staffnotification_change", args=[row.pk])
    data = {"enabled": "on", "emails": "boss@shop.example", "threshold": "500", "currency": "EUR"}
    response = client.post(change, {**data, **other_thresholds(("NOK", "5000"))})
    assert response.status_code == 302
    assert row.thresholds() == {"EUR": Decimal("500.00"), "NOK": Decimal("5000.00")}


def test_a_viewer_cannot_set_other_thresholds(client):
    row = set_up(HIGH, "boss@shop.example", threshold="500", currency="EUR")
    client.force_login(staff("view_staffnotification"))
    change = reverse("admin:django_order_mail_staffnotification_change", args=[row.pk])
    data = {"enabled": "on", "emails": "boss@shop.example", "threshold": "500", "currency": "EUR"}
    assert client.post(change, {**data, **other_thresholds(("NOK", "5000"))}).status_code == 403
    [formset] = client.get(change).context["inline_admin_formsets"]
    assert not formset.has_add_permission and not formset.has_change_permission
    assert not row.other_thresholds.exists()
