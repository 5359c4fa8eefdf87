"""Subject-line A/B tests: assignment, stored variant, statistics, promotion."""

import math

import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError

from django_order_mail.delivery.sender import deliver
from django_order_mail.events import MailEvent
from django_order_mail.outbox.models import OutboxEmail, Status
from django_order_mail.rendering.render import render_subject
from django_order_mail.tracking import ab
from django_order_mail.tracking.models import SubjectTest, SubjectVariant
from tests.backends import api_error
from tests.factories import OrderFactory
from tests.tracking_utils import bulk_sent, queued_row, variant_id

pytestmark = pytest.mark.django_db


@pytest.fixture
def test_ab(db):
    test = SubjectTest.objects.create(name="Confirmation subject", event=MailEvent.ORDER_CONFIRMATION)
    a = SubjectVariant.objects.create(test=test, label="A", subject="Order {{ order_number }} is confirmed")
    b = SubjectVariant.objects.create(
        test=test, label="B", subject="{{ customer_name }}, we got your order {{ order_number }}!"
    )
    return test, a, b


def send_many(order, n):
    start = OutboxEmail.objects.count()
    rows = [queued_row(order, discriminator=f"n{start + i}") for i in range(n)]
    for row in rows:
        assert deliver(row.pk) == Status.SENT
    return list(OutboxEmail.objects.filter(pk__in=[r.pk for r in rows]).order_by("pk"))


def test_each_email_gets_a_variant_stored_and_rendered(order, broker, esp, test_ab):
    _test, a, b = test_ab
    rows = send_many(order, 40)
    by_variant = {a.pk: 0, b.pk: 0}
    for row, message in zip(rows, esp.sent, strict=True):
        by_variant[variant_id(row)] += 1
        expected = (
            f"Order {order.number} is confirmed"
            if variant_id(row) == a.pk
            else f"Tina, we got your order {order.number}!"
        )
        assert row.subject == message.subject == expected
    assert by_variant[a.pk] >= 10 and by_variant[b.pk] >= 10  # an even split, deterministically


def test_weights_split_the_traffic(order, broker, esp, test_ab):
    _test, a, b = test_ab
    b.weight = 0
    b.save()
    rows = send_many(order, 12)
    assert {variant_id(r) for r in rows} == {a.pk}


def test_the_variant_survives_a_retry(order, broker, esp, test_ab):
    row = queued_row(order)
    esp.outcomes = [api_error(503)]
    assert deliver(row.pk) == "retry"
    row.refresh_from_db()
    chosen = variant_id(row)
    assert chosen is not None
    OutboxEmail.objects.filter(pk=row.pk).update(send_after=None)
    assert deliver(row.pk) == Status.SENT
    row.refresh_from_db()
    assert variant_id(row) == chosen
    assert esp.attempts[0].subject == esp.sent[0].subject


def test_other_events_languages_and_inactive_tests_are_left_alone(order, broker, esp, test_ab):
    test, _a, _b = test_ab
    test.language = "nb"
    test.save()
    assert variant_id(send_many(order, 1)[0]) is None  # order language is "en"
    test.language = ""
    test.active = False
    test.save()
    assert variant_id(send_many(order, 1)[0]) is None


def test_language_specific_test_matches_the_base_language(test_ab):
    test, _a, _b = test_ab
    test.language = "nb"
    test.save()
    assert ab.active_test(MailEvent.ORDER_CONFIRMATION, "nb-NO") == test
    assert ab.active_test(MailEvent.ORDER_CONFIRMATION, "en") is None
    assert ab.active_test(MailEvent.REFUND, "nb") is None


def test_a_broken_variant_falls_back_to_the_template_subject(order, broker, esp, test_ab):
    test, a, b = test_ab
    SubjectVariant.objects.filter(test=test).update(subject='{% include "no/such/template.html" %}')
    row = send_many(order, 1)[0]
    assert variant_id(row) in (a.pk, b.pk)
    assert row.subject and "include" not in row.subject and order.number in row.subject


def test_variant_subject_cannot_reach_the_order_instance(order):
    context = {"order": order, "order_number": "7"}
    assert render_subject("[{{ order.email }}] {{ order_number }}", context, "") == "[] 7"
    assert render_subject("{{ order.email }}", context, "en") == ""


def test_subject_template_is_validated():
    test = SubjectTest.objects.create(name="t", event=MailEvent.REFUND)
    variant = SubjectVariant(test=test, label="A", subject="{% if %}")
    with pytest.raises(ValidationError, match="syntax"):
        variant.full_clean()
    variant.subject = "line one\nline two"
    with pytest.raises(ValidationError, match="one line"):
        variant.full_clean()


def test_only_one_active_test_per_event_and_language(test_ab):
    clash = SubjectTest(name="second", event=MailEvent.ORDER_CONFIRMATION)
    with pytest.raises(ValidationError, match="Another active test"):
        clash.full_clean()
    SubjectTest(name="other language", event=MailEvent.ORDER_CONFIRMATION, language="de").full_clean()


# -- statistics ------------------------------------------------------------------------------------


def test_z_test_matches_the_textbook_value():
    z, p = ab.z_test(200, 1000, 150, 1000)
    assert z == pytest.approx(2.942, abs=0.001)
    assert p == pytest.approx(math.erfc(2.942 / math.sqrt(2)), abs=1e-4)
    assert ab.z_test(0, 0, 5, 10) == (0.0, 1.0)
    assert ab.z_test(0, 10, 0, 10) == (0.0, 1.0)


def outcome_rows(order, variant, sent, opened, clicked):
    rows = bulk_sent(order, sent, prefix=variant.label, subject_variant=variant)
    ids = [r.pk for r in rows]
    OutboxEmail.objects.filter(pk__in=ids[:opened]).update(opened_at="2026-03-02T10:00:00Z")
    OutboxEmail.objects.filter(pk__in=ids[:clicked]).update(clicked_at="2026-03-02T10:01:00Z")


def test_stats_and_verdict_per_variant(order, test_ab):
    test, a, b = test_ab
    outcome_rows(order, a, 400, 240, 40)
    outcome_rows(order, b, 400, 250, 80)
    stats = ab.variant_stats(test)
    assert [(s.variant.label, s.sent, s.opened, s.clicked) for s in stats] == [
        ("A", 400, 240, 40),
        ("B", 400, 250, 80),
    ]
    clicks = ab.compare(stats, "click")
    assert clicks.leader.variant == b and clicks.significant and clicks.p_value < 0.001
    opens = ab.compare(stats, "open")
    assert opens.leader.variant == b and not opens.significant


def test_small_samples_give_no_verdict(order, test_ab):
    test, a, b = test_ab
    outcome_rows(order, a, 20, 10, 1)
    outcome_rows(order, b, 20, 10, 9)
    verdict = ab.compare(ab.variant_stats(test), "click")
    assert verdict.leader.variant == b and not verdict.enough_data and not verdict.significant


def test_promoted_winner_gets_all_later_traffic(order, broker, esp, test_ab):
    test, a, b = test_ab
    outcome_rows(order, a, 150, 50, 5)
    outcome_rows(order, b, 150, 50, 30)
    verdict = ab.promote_winner(test)
    test.refresh_from_db()
    assert test.winner == b and test.promoted_at is not None and verdict.significant
    assert {variant_id(r) for r in send_many(order, 8)} == {b.pk}


# -- admin -----------------------------------------------------------------------------------------------


@pytest.fixture
def staff_client(client):
    client.force_login(get_user_model().objects.create_superuser("boss", "boss@shop.example", "pw"))
    return client


def test_admin_shows_results_and_promotes_the_winner(staff_client, order, test_ab):
    test, a, b = test_ab
    outcome_rows(order, a, 120, 60, 6)
    outcome_rows(order, b, 120, 60, 30)
    page = staff_client.get(f"/admin/order_mail_tracking/subjecttest/{test.pk}/change/").content.decode()
    assert "order-mail-ab" in page
    assert "25.0 %" in page  # B's click rate
    assert "statistically significant" in page
    response = staff_client.post(
        "/admin/order_mail_tracking/subjecttest/",
        {"action": "promote_winners", "_selected_action": [test.pk]},
        follow=True,
    )
    assert "variant B promoted" in response.content.decode()
    test.refresh_from_db()
    assert test.winner == b


def test_admin_creates_a_test_with_variants(staff_client):
    response = staff_client.post(
        "/admin/order_mail_tracking/subjecttest/add/",
        {
            "name": "Feedback subject",
            "event": "feedback_request",
            "language": "",
            "active": "on",
            "variants-TOTAL_FORMS": "2",
            "variants-INITIAL_FORMS": "0",
            "variants-0-label": "A",
            "variants-0-subject": "How was order {{ order_number }}?",
            "variants-0-weight": "1",
            "variants-1-label": "B",
            "variants-1-subject": "{% if %}",
            "variants-1-weight": "1",
        },
    )
    assert response.status_code == 200  # the broken variant is refused, nothing saved
    assert "Template syntax error" in response.content.decode()
    assert not SubjectTest.objects.exists()


@pytest.mark.parametrize("language", ["nb", "ru", "zh-hans"])
def test_a_test_without_a_language_never_reaches_emails_in_another_language(broker, esp, test_ab, language):
    """Variants are typed in one language: a test left on "every language"
    means the site's default one, so a Norwegian or Russian customer keeps
    the template's subject in their own language."""
    order = OrderFactory(language=language)
    row = send_many(order, 1)[0]
    assert variant_id(row) is None
    assert "is confirmed" not in row.subject and "we got your order" not in row.subject
    assert ab.active_test(MailEvent.ORDER_CONFIRMATION, "en") is not None  # the default language takes part


def test_a_saved_test_names_its_language(settings):
    settings.LANGUAGE_CODE = "nb"
    test = SubjectTest(name="t", event=MailEvent.REFUND)
    test.full_clean()
    assert test.language == "nb"
