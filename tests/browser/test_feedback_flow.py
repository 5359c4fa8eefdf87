"""In a real browser: a customer clicks a rating in the rendered email, adds a
comment, and staff find it in the admin's follow-up queue.

Set ``ORDER_MAIL_SCREENSHOTS=1`` to also write the screenshots used in
``docs/feedback.rst`` to ``docs/_static/``.
"""

from __future__ import annotations

import os
import re
from datetime import timedelta
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.utils import timezone

from django_order_mail.feedback.models import SurveyResponse
from django_order_mail.outbox.enqueue import PendingMail, enqueue
from django_order_mail.outbox.models import OutboxEmail, Status
from django_order_mail.rendering.render import render_outbox_email
from tests.factories import OrderFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

COMMENT = "The mug arrived <b>cracked</b> & the box was wet"
DOCS_STATIC = Path(__file__).resolve().parents[2] / "docs" / "_static"


@pytest.fixture
def browser_page(browser, monkeypatch):
    """A fresh page of the module's chromium (``browser`` in tests/browser/conftest.py)."""
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")  # Playwright's loop runs in this thread
    page = browser.new_page(viewport={"width": 1200, "height": 900})
    page.set_default_timeout(15_000)
    yield page
    page.close()


def shoot(page, name: str, *, full_page: bool = True) -> None:
    if os.environ.get("ORDER_MAIL_SCREENSHOTS"):
        DOCS_STATIC.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(DOCS_STATIC / name), full_page=full_page)


#: Twelve weeks of earlier answers (5 a week), so the report has a trend.
PAST_SCORES = [5, 4, 5, 3, 4, 5, 2, 4, 5, 5, 4, 3, 5, 4, 1, 5, 4, 5, 5, 3] * 3


def past_responses() -> int:
    now = timezone.now()
    comments = {
        5: "Fast delivery, lovely socks!",
        4: "Good, the box was a bit dented.",
        1: "Wrong size sent.",
    }
    for i, score in enumerate(PAST_SCORES):
        order = OrderFactory()
        SurveyResponse.objects.create(
            content_type=ContentType.objects.get_for_model(order),
            object_id=str(order.pk),
            reference=order.number,
            channel="web" if i % 4 else "aliexpress",
            score=score,
            is_low=score <= 2,
            comment=comments.get(score, ""),
            created_at=now - timedelta(days=2 + (i * 83) // len(PAST_SCORES), hours=i),
        )
    return len(PAST_SCORES)


def test_rating_click_comment_and_follow_up_queue(browser_page, live_server, settings, no_broker):
    page = browser_page
    settings.ORDER_MAIL = {**settings.ORDER_MAIL, "SITE_URL": live_server.url}
    earlier = past_responses()
    order = OrderFactory(customer_name="Tina")
    with transaction.atomic():
        [row] = enqueue(order, [PendingMail("feedback_request")])
    email_html = render_outbox_email(row, order).html

    # The customer opens the email and clicks "2 - Unhappy".
    page.set_content(email_html)
    shoot(page, "feedback-email.png")
    page.locator("a.rating", has_text="Unhappy").filter(has_not_text="Very").click()
    page.wait_for_url(re.compile(r"/mail/feedback/.+\?score=2$"))
    assert page.get_by_text(f"You rated order {order.number} 2 out of 5.").is_visible()
    saved = SurveyResponse.objects.get(object_id=str(order.pk))
    assert (saved.score, saved.is_low) == (2, True)

    # ...then tells more on the landing page.
    page.get_by_label("Anything you would like to tell us? (optional)").fill(COMMENT)
    page.locator("input[name=q_arrived_on_time][value=yes]").check()
    shoot(page, "feedback-survey.png")
    page.get_by_role("button", name="Send").click()
    page.wait_for_url(re.compile(r"/thanks/$"))
    assert page.get_by_role("heading", name="Thank you, we got your answers").is_visible()
    saved.refresh_from_db()
    assert saved.comment == COMMENT and saved.answers == {"arrived_on_time": "yes"}
    assert OutboxEmail.objects.get(event="low_score_alert").status == Status.SCHEDULED

    # Staff find it in the follow-up queue, comment shown as text.
    get_user_model().objects.create_superuser("staff", "staff@shop.example", "s3cret-pass")
    page.set_viewport_size({"width": 1500, "height": 900})
    page.goto(f"{live_server.url}/admin/login/?next=/admin/order_mail_feedback/followup/")
    page.get_by_label("Username").fill("staff")
    page.get_by_label("Password").fill("s3cret-pass")
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(re.compile(r"/admin/order_mail_feedback/followup/$"))
    row_in_queue = page.locator("#result_list tbody tr", has_text=order.number)
    assert row_in_queue.count() == 1
    assert "cracked</b> & the box" in row_in_queue.inner_text()  # escaped: the tags are text
    assert row_in_queue.locator("select[name$=follow_up_status]").input_value() == "new"
    assert page.locator("#result_list b").count() == 0
    shoot(page, "feedback-follow-up-queue.png")

    # Assign it and mark it contacted right in the list.
    row_in_queue.locator("select[name$=follow_up_status]").select_option("contacted")
    row_in_queue.locator("select[name$=assignee]").select_option(label="staff")
    page.get_by_role("button", name="Save").click()
    page.wait_for_load_state()
    saved.refresh_from_db()
    assert saved.follow_up_status == "contacted" and saved.assignee.username == "staff"

    page.goto(f"{live_server.url}/admin/order_mail_feedback/surveyresponse/")
    assert page.locator("#result_list tbody tr").count() == earlier + 1
    shoot(page, "feedback-responses.png", full_page=False)
    page.get_by_role("link", name="CSAT / NPS report").click()
    assert page.locator("svg.feedback-chart circle").count() > 3
    shoot(page, "feedback-report.png")
