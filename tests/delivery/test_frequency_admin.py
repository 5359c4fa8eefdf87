"""The commercial frequency cap edited in the admin: the setting until
saved, validation, the log, and what a change does to emails not sent yet."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth.models import Permission
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import translation

from django_order_mail.delivery.sender import deliver
from django_order_mail.events import MailEvent
from django_order_mail.outbox.models import Status
from django_order_mail.policies.cap import effective_cap
from django_order_mail.policies.models import FrequencyCap, SettingChange
from tests.tracking_utils import queued_row

pytestmark = pytest.mark.django_db

LIST = "admin:django_order_mail_frequencycap_changelist"
ADD = "admin:django_order_mail_frequencycap_add"
CHANGE = "admin:django_order_mail_frequencycap_change"
DEFAULT = {"max": 1, "hours": 24, "defer": ["feedback_request"]}


def test_without_a_record_the_setting_applies(mail_settings):
    assert effective_cap() == DEFAULT
    mail_settings(COMMERCIAL_FREQUENCY_CAP=None)
    assert effective_cap() is None


def test_a_saved_record_replaces_the_setting(mail_settings):
    FrequencyCap.objects.create(pk=1, max_emails=2, hours=48, defer=[])
    assert effective_cap() == {"max": 2, "hours": 48, "defer": []}
    FrequencyCap.objects.filter(pk=1).update(enabled=False)
    assert effective_cap() is None
    mail_settings(COMMERCIAL_FREQUENCY_CAP={"max": 5, "hours": 1})
    assert effective_cap() is None  # the record wins once saved


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"max_emails": 0}, "max_emails", "The cap must allow at least one email."),
        ({"hours": 0}, "hours", "The window must be at least one hour."),
        ({"hours": 1000}, "hours", "The window can be at most 31 days (744 hours)."),
        ({"defer": ["order_confirmation"]}, "defer", "order_confirmation: not a commercial email"),
    ],
)
def test_bad_values_are_refused_with_a_clear_message(fields, field, message):
    record = FrequencyCap(pk=1, **fields)
    with pytest.raises(ValidationError) as refused:
        record.full_clean()
    assert any(message in text for text in refused.value.message_dict[field])


def test_errors_are_translated():
    with translation.override("de"):
        with pytest.raises(ValidationError) as refused:
            FrequencyCap(pk=1, max_emails=0).full_clean()
        [message] = refused.value.message_dict["max_emails"]
    assert message == "Die Grenze muss mindestens eine E-Mail erlauben."


def test_the_page_starts_from_the_setting_and_writes_nothing_on_get(admin_client):
    assert admin_client.get(reverse(LIST))["Location"] == reverse(ADD)
    page = admin_client.get(reverse(ADD)).content.decode()
    assert 'name="max_emails" value="1"' in page and 'name="hours" value="24"' in page
    assert re.search(r'<input type="checkbox" name="defer" value="feedback_request"[^>]* checked>', page)
    assert not FrequencyCap.objects.exists()


def test_staff_change_the_cap_and_the_change_is_logged(admin_client, admin_user):
    data = {"enabled": "on", "max_emails": "2", "hours": "24", "defer": ["feedback_request"]}
    response = admin_client.post(reverse(ADD), data)
    assert response.status_code == 302, response.content.decode()[:2000]
    assert effective_cap() == {"max": 2, "hours": 24, "defer": ["feedback_request"]}
    [change] = SettingChange.objects.all()  # only what differs from the setting
    assert (change.field, change.old_value, change.new_value) == ("max_emails", "1", "2")
    assert change.changed_by == admin_user
    response = admin_client.post(reverse(CHANGE, args=[1]), {"max_emails": "2", "hours": "24"})
    assert effective_cap() is None
    assert {c.field for c in SettingChange.objects.all()} == {"max_emails", "enabled", "defer"}


def test_a_page_refuses_a_cap_of_zero(admin_client):
    page = admin_client.post(
        reverse(ADD), {"enabled": "on", "max_emails": "0", "hours": "24"}
    ).content.decode()
    assert "The cap must allow at least one email." in page
    assert not FrequencyCap.objects.exists()


def test_only_staff_with_the_permission_may_change_it(client, django_user_model):
    user = django_user_model.objects.create_user("viewer", "v@shop.example", "pw", is_staff=True)
    user.user_permissions.add(Permission.objects.get(codename="view_frequencycap"))
    client.force_login(user)
    response = client.post(reverse(ADD), {"enabled": "on", "max_emails": "3", "hours": "24"})
    assert response.status_code == 403
    assert not FrequencyCap.objects.exists()


def test_a_change_applies_to_emails_sent_after_it(order, broker, esp):
    """Read at send time: a commercial email queued before the change is
    capped by the values in force when it goes."""
    first = queued_row(order, "feedback_request")
    second = queued_row(order, "feedback_request", discriminator="again")
    assert deliver(first.pk) == Status.SENT
    FrequencyCap.objects.create(pk=1, max_emails=2, hours=24, defer=[])
    assert deliver(second.pk) == Status.SENT
    third = queued_row(order, "feedback_request", discriminator="third")
    assert deliver(third.pk) == Status.SKIPPED
    # Transactional mail is never capped, whatever staff set.
    assert deliver(queued_row(order, MailEvent.ORDER_CONFIRMATION).pk) == Status.SENT
