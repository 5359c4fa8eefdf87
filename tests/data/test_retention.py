"""Retention deletes or strips what is past its period, in small batches,
and keeps what is still needed (docs/data-protection.rst)."""

from datetime import timedelta

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.db.models.signals import post_delete
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from django_order_mail.carts.models import CartCoupon, CartRecovery
from django_order_mail.data import ERASED_ADDRESS
from django_order_mail.data.retention import RetentionRun, first_key_after, retention_periods, run_retention
from django_order_mail.feedback.models import SurveyResponse
from django_order_mail.outbox.models import EmailLog, OutboxEmail
from django_order_mail.tracking.models import Suppression, TrackingEvent
from django_order_mail.tracking.suppression import suppress

pytestmark = pytest.mark.django_db
YEARS = 365 * 3


def test_periods_have_defaults_and_the_setting_wins(settings):
    assert retention_periods()["bodies"] == 90
    assert retention_periods()["send_log"] == 730
    assert {"tracking_events", "survey_responses", "carts"} <= set(retention_periods())
    settings.ORDER_MAIL = {**settings.ORDER_MAIL, "RETENTION": {"send_log": None, "bodies": 30}}
    assert retention_periods()["send_log"] is None and retention_periods()["bodies"] == 30


def test_old_final_rows_go_and_needed_rows_stay(order, row):
    old = row(order, days=YEARS)
    recent = row(order, days=10)
    scheduled = row(order, status="scheduled", days=YEARS)
    queued = row(order, status="queued", days=YEARS)
    original = row(order, days=YEARS)
    row(order, days=1, resend_of=original)
    reminder = row(order, days=YEARS, event="abandoned_cart")
    OutboxEmail.objects.filter(pk=reminder.pk).update(sent_at=timezone.now() - timedelta(hours=1))
    suppress(order.email, Suppression.Reason.COMPLAINT, email=old)
    old_event = TrackingEvent.objects.create(
        esp="t", event_id="1", event_type="opened", recipient=order.email
    )
    TrackingEvent.objects.filter(pk=old_event.pk).update(received_at=timezone.now() - timedelta(days=YEARS))

    counts = run_retention()

    left = set(OutboxEmail.objects.values_list("pk", flat=True))
    assert old.pk not in left
    assert {recent.pk, scheduled.pk, queued.pk, original.pk, reminder.pk} <= left
    assert not EmailLog.objects.filter(email_id=old.pk).exists()  # its timeline went with it
    assert Suppression.objects.filter(address=order.email).exists()  # never expired
    assert not TrackingEvent.objects.filter(pk=old_event.pk).exists()
    assert counts["send_log"] == 1 and counts["tracking_events"] == 1
    assert run_retention()["send_log"] == 0  # nothing left to do


def test_bodies_are_stripped_after_their_period_and_the_row_stays(order, row):
    email = row(order, days=100)
    active = row(order, status="scheduled", days=100)
    assert run_retention()["bodies"] == 1
    email.refresh_from_db()
    active.refresh_from_db()
    assert (email.body_text, email.body_html) == ("", "")
    assert email.subject and email.status == "sent"
    assert active.body_text


def test_dry_run_changes_nothing(order, row):
    row(order, days=YEARS)
    counts = run_retention(dry_run=True)
    assert counts["send_log"] == 1 and counts["bodies"] == 1
    assert OutboxEmail.objects.get().body_text
    call_command("order_mail_retention", "--dry-run")
    assert OutboxEmail.objects.count() == 1


def test_batches_are_honoured(order, row):
    for _ in range(5):
        row(order, days=YEARS)
    with CaptureQueriesContext(connection) as queries:
        counts = run_retention(batch_size=2)
    deletes = [
        q["sql"]
        for q in queries.captured_queries
        if q["sql"].startswith('DELETE FROM "django_order_mail_outboxemail"')
    ]
    assert counts["send_log"] == 5
    assert len(deletes) == 3  # 2 + 2 + 1: one statement per batch
    locks = [q["sql"] for q in queries.captured_queries if "FOR UPDATE" in q["sql"]]
    if connection.features.has_select_for_update_skip_locked:
        assert locks and all("SKIP LOCKED" in sql and "LIMIT 2" in sql for sql in locks)


def test_after_each_batch_it_pauses_as_many_times_as_long_as_the_batch_took(order, row, monkeypatch):
    import django_order_mail.data.retention as retention
    from django_order_mail.data.core import expire_send_log

    for _ in range(3):
        row(order, days=YEARS)
    slept = []
    monkeypatch.setattr(retention.time, "sleep", slept.append)
    run = retention.RetentionRun(batch_size=2, pause=2.0)
    assert expire_send_log(run.now - timedelta(days=730), run) == 3
    assert run.batches == 2 and len(slept) == 2  # 2 + 1 rows
    assert all(seconds > 0 for seconds in slept) and run.paused == sum(slept)

    slept.clear()
    row(order, days=YEARS)
    run = retention.RetentionRun(batch_size=2, pause=0)
    assert expire_send_log(run.now - timedelta(days=730), run) == 1
    assert slept == [] and run.paused == 0


def test_while_emails_are_sent_it_works_in_small_batches_and_pauses_longer(order, row, monkeypatch):
    import django_order_mail.data.retention as retention
    from django_order_mail.data.core import expire_send_log

    for _ in range(3):
        row(order, days=YEARS)
    due = row(order, status="queued")  # a worker has this to send now
    slept = []
    monkeypatch.setattr(retention.time, "sleep", slept.append)
    monkeypatch.setattr(retention.time, "monotonic", iter(range(0, 100, 2)).__next__)  # each batch: 2 s
    run = retention.RetentionRun(batch_size=20, pause=1.0)
    assert expire_send_log(run.now - timedelta(days=730), run) == 3
    # Batches of 20 // BUSY_BATCH_DIVISOR = 2 while sending (2 + 1 rows), each
    # followed by 2 s + 36 s.
    assert run.batches == 2 and run.paused == 2 * 2 * retention.BUSY_FACTOR
    assert max(slept) == 2 and sum(slept) == run.paused

    # Sending stops during the wait: the pause ends at the next look.
    row(order, days=YEARS)
    slept.clear()

    def sleep(seconds):
        slept.append(seconds)
        if len(slept) == 3:
            OutboxEmail.objects.filter(pk=due.pk).update(status="sent")

    monkeypatch.setattr(retention.time, "sleep", sleep)
    monkeypatch.setattr(retention.time, "monotonic", iter(range(0, 100, 2)).__next__)
    run = retention.RetentionRun(batch_size=20, pause=1.0)
    assert expire_send_log(run.now - timedelta(days=730), run) == 1
    assert slept == [2, retention.BUSY_CHECK, retention.BUSY_CHECK]

    # An email waiting for its next attempt is not being sent: no waiting for it.
    row(order, days=YEARS)
    later = timezone.now() + timedelta(minutes=5)
    OutboxEmail.objects.filter(pk=due.pk).update(status="queued", send_after=later)
    slept.clear()
    monkeypatch.setattr(retention.time, "sleep", slept.append)
    monkeypatch.setattr(retention.time, "monotonic", iter(range(0, 100, 2)).__next__)
    run = retention.RetentionRun(batch_size=20, pause=1.0)
    assert expire_send_log(run.now - timedelta(days=730), run) == 1
    assert slept == [2]

    # Flat out (--pause 0) does not wait for the sends.
    row(order, days=YEARS)
    OutboxEmail.objects.filter(pk=due.pk).update(status="queued")
    slept.clear()
    run = retention.RetentionRun(batch_size=2, pause=0)
    assert expire_send_log(run.now - timedelta(days=730), run) == 1
    assert slept == []


def test_the_pause_defaults_to_the_setting_and_the_command_takes_its_own(order, row, settings, monkeypatch):
    import django_order_mail.data.retention as retention

    assert retention.RetentionRun().pause == 1.0
    settings.ORDER_MAIL = {**settings.ORDER_MAIL, "RETENTION_PAUSE": 0.25}
    assert retention.RetentionRun().pause == 0.25
    slept = []
    monkeypatch.setattr(retention.time, "sleep", slept.append)
    row(order, days=YEARS)
    call_command("order_mail_retention", "--pause", "0")
    assert slept == [] and not OutboxEmail.objects.exists()
    with pytest.raises(CommandError):
        call_command("order_mail_retention", "--pause", "-1")


def test_a_deletion_loads_only_the_keys_unless_a_receiver_listens(order, row):
    row(order, days=YEARS)
    with CaptureQueriesContext(connection) as queries:
        assert run_retention()["send_log"] == 1
    columns = [q["sql"].split(" FROM ")[0] for q in queries.captured_queries if q["sql"].startswith("SELECT")]
    assert not [read for read in columns if '"subject"' in read or '"body_html"' in read]

    deferred = []

    def receiver(sender, instance, **kwargs):
        deferred.append(instance.get_deferred_fields())

    post_delete.connect(receiver, sender=OutboxEmail)
    try:
        row(order, days=YEARS)
        assert run_retention()["send_log"] == 1
    finally:
        post_delete.disconnect(receiver, sender=OutboxEmail)
    assert deferred == [set()]  # a receiver gets the whole row


def test_survey_texts_and_cart_data_expire_but_statistics_stay(order, row):
    feedback = row(order, days=YEARS, event="feedback_request")
    from django.contrib.contenttypes.models import ContentType

    ct = ContentType.objects.get_for_model(order)
    response = SurveyResponse.objects.create(
        content_type=ct, object_id=str(order.pk), email=feedback, score=2, comment="Socks were wet"
    )
    SurveyResponse.objects.filter(pk=response.pk).update(created_at=timezone.now() - timedelta(days=YEARS))
    old = timezone.now() - timedelta(days=YEARS)
    recovery = CartRecovery.objects.create(
        cart_type=ct,
        cart_id="1",
        step=1,
        reminded_at=old,
        recipient=order.email,
        source="cart",
        recovered_at=old,
    )
    CartCoupon.objects.create(code="OLD", recipient=order.email, step=1, issued_at=old)
    CartCoupon.objects.create(code="NEW", recipient=order.email, step=1)

    run_retention()

    response.refresh_from_db()
    recovery.refresh_from_db()
    assert response.score == 2 and response.comment == ""
    assert recovery.recipient == ERASED_ADDRESS
    assert list(CartCoupon.objects.values_list("code", flat=True)) == ["NEW"]


def test_the_task_and_the_beat_entry():
    from django_order_mail.delivery.schedule import retention_beat_schedule
    from django_order_mail.tasks import retention

    entry = retention_beat_schedule()["django-order-mail-retention"]
    assert entry["task"] == retention.name == "django_order_mail.retention"
    assert isinstance(retention(), dict)


# -- how far the walk goes ---------------------------------------------------------------------------------


def test_the_first_key_after_a_moment_is_found_by_binary_search(order, row):
    rows = [row(order, days=days) for days in (900, 800, 700, 100, 50, 1)]  # written in time order
    now = timezone.now()
    assert first_key_after(OutboxEmail, "created_at", now - timedelta(days=750)) == rows[2].pk
    assert first_key_after(OutboxEmail, "created_at", now - timedelta(days=100, hours=1)) == rows[3].pk
    assert first_key_after(OutboxEmail, "created_at", now - timedelta(days=1000)) == rows[0].pk
    assert first_key_after(OutboxEmail, "created_at", now + timedelta(days=1)) is None  # every row is older
    with CaptureQueriesContext(connection) as queries:
        first_key_after(OutboxEmail, "created_at", now - timedelta(days=750))
    assert len(queries) <= 2 + 4  # the two ends, then a one-row read per halving of 7 keys


def test_an_empty_table_has_no_first_key():
    assert first_key_after(OutboxEmail, "created_at", timezone.now()) is None


def test_the_walk_stops_where_rows_are_newer_and_an_import_waits_for_its_neighbours(order, row, settings):
    """Retention does not read on past the rows that are too young (years of
    them in a big send log). A row written after them with an older date, as
    an import writes, is expired once the rows around it are old enough."""
    old = row(order, days=YEARS)
    young = [row(order, days=days) for days in (400, 300, 10)]
    imported = row(order, days=YEARS)  # written last, dated three years ago
    run = RetentionRun()
    cutoff = run.now - timedelta(days=730)
    walked = run.older_than(OutboxEmail.objects.all(), cutoff)
    assert list(walked.values_list("pk", flat=True)) == [old.pk]
    assert str(young[0].pk) in str(walked.query)  # the bound: "id" < the first young key
    assert run_retention()["send_log"] == 1
    assert OutboxEmail.objects.filter(pk=imported.pk).exists()
    # Two years later its neighbours are past the period too: it goes with them.
    later = timezone.now() + timedelta(days=740)
    assert run_retention(now=later)["send_log"] == 4
    assert not OutboxEmail.objects.exists()
