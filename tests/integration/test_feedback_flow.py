"""The feedback survey on real services: the request sent by a celery worker
through Anymail's Postmark backend, a click on its rating link, the staff
alert sent through the outbox - and two first clicks racing on PostgreSQL."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from datetime import timedelta
from urllib.parse import urlsplit

from django.core.cache import cache
from django.db import connection, transaction
from django.test import Client

from django_order_mail.delivery.sweep import sweep
from django_order_mail.feedback.models import SurveyResponse
from django_order_mail.outbox.enqueue import PendingMail, enqueue
from django_order_mail.outbox.models import OutboxEmail, Status
from tests.factories import OrderFactory
from tests.integration.conftest import ROOT, wait_until


def settled():
    return not OutboxEmail.objects.filter(status__in=(Status.QUEUED, Status.SENDING)).exists()


def test_click_in_the_sent_email_alerts_staff_through_the_worker(worker, fake_esp):
    cache.clear()
    order = OrderFactory(customer_name="Tina")
    for step in ("confirm_payment", "ship", "mark_delivered"):
        with transaction.atomic():
            if step == "ship":
                order.ship(order.add_shipment("ups", "1Z999AA10123456784"))
            else:
                getattr(order, step)()
            order.save()
    wait_until(settled, what="lifecycle emails sent")
    feedback = OutboxEmail.for_order(order).get(event="feedback_request")
    OutboxEmail.objects.filter(pk=feedback.pk).update(send_after=feedback.send_after - timedelta(days=30))
    assert sweep()["due"] == 1
    wait_until(settled, what="feedback request sent")

    [sent] = [a for a in fake_esp.accepted if a.metadata.get("event") == "feedback_request"]
    assert sent.to == order.email
    link = re.search(r"1 – Very unhappy: (\S+)", sent.text).group(1)
    parts = urlsplit(link)
    client = Client()
    assert client.get(f"{parts.path}?{parts.query}").status_code == 200
    answer = parts.path + "answer/"
    assert client.post(answer, {"comment": "Arrived <b>broken</b>"}).status_code == 302

    response = SurveyResponse.objects.get()
    assert (response.score, response.comment, response.order) == (1, "Arrived <b>broken</b>", order)
    # The alert waited FEEDBACK_ALERT_DELAY, so the comment typed after the
    # click is in it; let the sweep find it due.
    alert = OutboxEmail.objects.get(event="low_score_alert")
    assert alert.status == Status.SCHEDULED
    OutboxEmail.objects.filter(pk=alert.pk).update(send_after=alert.send_after - timedelta(minutes=10))
    assert sweep()["due"] == 1
    wait_until(settled, what="low-score alert sent")
    alert.refresh_from_db()
    assert alert.status == Status.SENT
    [staff_mail] = [a for a in fake_esp.accepted if a.metadata.get("event") == "low_score_alert"]
    assert staff_mail.to == "help@shop.example"
    assert "Arrived &lt;b&gt;broken&lt;/b&gt;" in staff_mail.html
    assert sorted(fake_esp.accepted_by_outbox_id().values()) == [1] * len(fake_esp.accepted)


RACER = r"""
import sys
import django
django.setup()
from django_order_mail.feedback.recording import record_answer
from django_order_mail.outbox.models import OutboxEmail

email = OutboxEmail.objects.get(pk=int(sys.argv[1]))
print("ready", flush=True)
sys.stdin.readline()
response = record_answer(email, score=int(sys.argv[2]), scale="csat")
print("saved", response.pk, flush=True)
"""


def test_two_first_clicks_at_once_make_one_response_and_one_alert(services_ok, transactional_db):
    order = OrderFactory()
    with transaction.atomic():
        [row] = enqueue(order, [PendingMail("feedback_request")])
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.integration.settings",
        "ORDER_MAIL_WORKER_DB": connection.settings_dict["NAME"],
        "PYTHONPATH": str(ROOT),
    }
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", RACER, str(row.pk), score],
            cwd=ROOT,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for score in ("1", "2")
    ]
    for proc in procs:  # barrier: both have loaded the email
        line = proc.stdout.readline().strip()
        assert line == "ready", line + proc.stderr.read()
    for proc in procs:
        proc.stdin.write("go\n")
        proc.stdin.flush()
    saved = []
    for proc in procs:
        out, err = proc.communicate(timeout=60)
        assert proc.returncode == 0, err
        saved.extend(line.split()[1] for line in out.splitlines() if line.startswith("saved"))
    assert len(saved) == 2 and len(set(saved)) == 1  # both answers landed on one response
    response = SurveyResponse.objects.get()
    assert response.score in (1, 2) and response.is_low
    alert = OutboxEmail.objects.get(event="low_score_alert")
    assert alert.status == Status.SCHEDULED and alert.extra == {"response": response.pk}
