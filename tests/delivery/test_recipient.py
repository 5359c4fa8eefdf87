"""One email, one address: anything else fails before the ESP is called."""

import pytest

from django_order_mail.delivery.errors import recipient_problem
from django_order_mail.delivery.sender import deliver, deliver_batch
from django_order_mail.events import MailEvent
from django_order_mail.outbox import actions
from django_order_mail.outbox.models import EmailLog, OutboxEmail, Status
from django_order_mail.tracking.models import Suppression
from django_order_mail.tracking.suppression import suppress
from tests.factories import OrderFactory

pytestmark = pytest.mark.django_db

NOT_ONE_ADDRESS = [
    "victim@example.com, attacker@evil.example",
    "victim@example.com attacker@evil.example",
    "victim@example.com;attacker@evil.example",
    "Tina <victim@example.com>, Eve <attacker@evil.example>",
    "victim@example.com <attacker@evil.example>",
    "victims: victim@example.com, attacker@evil.example;",
    "victim@example.com\nBcc: attacker@evil.example",
    "victim@example.com\r\nBcc: attacker@evil.example",
    "   ",
    "not-an-address",
    "a@b@evil.example",
]


def confirmed(order):
    order.confirm_payment()
    order.save()
    return OutboxEmail.for_order(order).get(event=MailEvent.ORDER_CONFIRMATION)


def assert_failed_before_the_esp(row, esp):
    row.refresh_from_db()
    assert row.status == Status.FAILED
    assert esp.attempts == []  # the ESP was never called
    assert row.last_error.startswith("not sent: ")
    log = EmailLog.objects.get(email=row, status=Status.FAILED)
    assert log.message == row.last_error  # the reason is on the send log's timeline


@pytest.mark.parametrize("address", NOT_ONE_ADDRESS)
def test_anything_but_one_address_fails_permanently_one_by_one(order, broker, esp, address):
    row = confirmed(order)
    order.email = address  # written around the form's validation, as an import or an API might
    order.save()
    assert deliver(row.pk) == Status.FAILED
    assert_failed_before_the_esp(row, esp)
    assert broker == []  # no retry was published
    assert deliver(row.pk) == "not-claimed"


def test_no_address_at_all_fails_too(order, broker, esp):
    """The order's address is gone and the row has none (written by hand)."""
    row = confirmed(order)
    order.email = ""
    order.save()
    OutboxEmail.objects.filter(pk=row.pk).update(recipient="")
    assert deliver(row.pk) == Status.FAILED
    assert_failed_before_the_esp(row, esp)
    assert row.last_error == "not sent: no recipient address"


def test_the_reason_names_the_problem(order, broker, esp):
    row = confirmed(order)
    order.email = "victim@example.com, attacker@evil.example"
    order.save()
    deliver(row.pk)
    row.refresh_from_db()
    assert "holds more than one address" in row.last_error
    assert "attacker@evil.example" in row.last_error  # staff see what was there


def test_a_list_is_not_sent_to_a_suppressed_second_address(order, broker, esp):
    """The old bug: suppression looked at the first address, the ESP got both."""
    suppress("bounced@example.com", Suppression.Reason.HARD_BOUNCE)
    row = confirmed(order)
    order.email = "tina@example.com, bounced@example.com"
    order.save()
    assert deliver(row.pk) == Status.FAILED
    assert esp.attempts == []


ONE_ADDRESS = ["Tina <tina@x.example>", '"Hansen, Tina" <tina@x.example>', "tina@x.example"]


@pytest.mark.parametrize("address", ONE_ADDRESS)
def test_one_address_with_or_without_a_display_name_is_sent(order, broker, esp, address):
    row = confirmed(order)
    order.email = address
    order.save()
    assert deliver(row.pk) == Status.SENT
    assert esp.sent[0].to == [address]


def test_the_batch_path_checks_each_email(broker, esp):
    rows = []
    for address in ("first@example.com", "victim@example.com, attacker@evil.example", "third@example.com"):
        rows.append(confirmed(OrderFactory(email=address)))
    outcomes = deliver_batch([r.pk for r in rows])
    assert outcomes == {rows[0].pk: Status.SENT, rows[1].pk: Status.FAILED, rows[2].pk: Status.SENT}
    assert sorted(m.to[0] for m in esp.sent) == ["first@example.com", "third@example.com"]
    failed = OutboxEmail.objects.get(pk=rows[1].pk)
    assert "holds more than one address" in failed.last_error


def test_a_resend_goes_through_the_same_check(order, broker, esp):
    row = confirmed(order)
    assert deliver(row.pk) == Status.SENT
    order.email = "victim@example.com,attacker@evil.example"
    order.save()
    copy = actions.resend(OutboxEmail.objects.get(pk=row.pk))
    assert "not exactly one valid email address" in actions.send_outlook(copy)
    assert deliver(copy.pk) == Status.FAILED
    assert len(esp.attempts) == 1  # only the original


def test_recipient_problem_unit():
    assert recipient_problem(["Tina <tina@x.example>"]) is None
    assert recipient_problem(["tina@x.example", "eve@evil.example"]).startswith("2 recipients")
    assert recipient_problem([]).startswith("0 recipients")
    assert recipient_problem([None]) == "no recipient address"
    assert "line break" in recipient_problem(["tina@x.example\n"])
