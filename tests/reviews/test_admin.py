"""Moderation in the admin: the queue, permissions (view / change /
moderate), bulk approve, reject with a reason, the public reply - customer
text and reply escaped everywhere, every decision in the history."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.test import Client
from django.urls import reverse

from django_order_mail.reviews.models import ProductReview, ReviewStatus
from django_order_mail.reviews.products import Product
from django_order_mail.reviews.recording import ReviewChange, record_review
from tests.factories import OrderFactory

from .conftest import request_row

pytestmark = pytest.mark.django_db

CHANGELIST = "admin:order_mail_reviews_productreview_changelist"
XSS = '<script>alert("x")</script><b>bold</b>'


def review(rating=4, title="Nice", body="Warm socks", product="SOCK-1", order=None) -> ProductReview:
    row = request_row(order or OrderFactory())
    return record_review(
        row, Product(product, "Wool socks"), ReviewChange(rating=rating, title=title, body=body), via="form"
    )


def staff(*codenames) -> Client:
    user = get_user_model().objects.create_user(f"staff{len(codenames)}", is_staff=True, password="x")
    user.user_permissions.set(
        Permission.objects.filter(content_type__app_label="order_mail_reviews", codename__in=codenames)
    )
    client = Client()
    client.force_login(user)
    return client


def change_url(obj) -> str:
    return reverse("admin:order_mail_reviews_productreview_change", args=[obj.pk])


def action(client, name, reviews, **extra):
    return client.post(
        reverse(CHANGELIST),
        {"action": name, "_selected_action": [r.pk for r in reviews], **extra},
        follow=False,
    )


def test_the_queue_shows_pending_first_and_escapes_customer_text(admin_client, items, no_broker):
    approved = review(rating=5, title="Old one")
    approved.status = ReviewStatus.APPROVED
    approved.save()
    pending = review(rating=1, title=XSS)
    page = admin_client.get(reverse(CHANGELIST)).content.decode()
    assert page.index(f"/productreview/{pending.pk}/") < page.index(f"/productreview/{approved.pk}/")
    assert "<script>alert" not in page and "&lt;script&gt;alert" in page
    detail = admin_client.get(change_url(pending)).content.decode()
    assert "<b>bold</b>" not in detail and "&lt;b&gt;bold&lt;/b&gt;" in detail


def test_search_and_filters(admin_client, items, no_broker):
    review(title="Scratchy", product="SOCK-1")
    review(title="Lovely mug", product="p-42", rating=2)
    assert "Lovely mug" in admin_client.get(reverse(CHANGELIST) + "?q=p-42").content.decode()
    filtered = admin_client.get(reverse(CHANGELIST) + "?rating=2&status=pending").content.decode()
    assert "Lovely mug" in filtered and "Scratchy" not in filtered
    assert admin_client.get(reverse(CHANGELIST) + "?photos=no&reply=no").status_code == 200


def test_view_permission_alone_sees_but_cannot_moderate(items, no_broker):
    item = review()
    client = staff("view_productreview")
    page = client.get(reverse(CHANGELIST)).content.decode()
    assert "Approve selected reviews" not in page
    action(client, "approve_reviews", [item])
    item.refresh_from_db()
    assert item.status == ReviewStatus.PENDING
    assert client.post(change_url(item), {"status": "approved", "public_reply": "Hi"}).status_code == 403


def test_change_permission_replies_but_cannot_approve(items, no_broker):
    item = review()
    client = staff("view_productreview", "change_productreview")
    response = client.post(change_url(item), {"status": "approved", "public_reply": "Thank you <3 & more"})
    assert response.status_code == 302
    item.refresh_from_db()
    assert item.status == ReviewStatus.PENDING  # the status field is read-only without "moderate"
    assert item.public_reply == "Thank you <3 & more" and item.replied_at is not None
    assert item.history.last().via == "moderation"


def test_a_moderator_bulk_approves(items, no_broker):
    reviews = [review(rating=r) for r in (1, 3, 5)]
    client = staff("view_productreview", "moderate_productreview")
    response = action(client, "approve_reviews", reviews)
    assert response.status_code == 302
    assert set(ProductReview.objects.values_list("status", flat=True)) == {ReviewStatus.APPROVED}
    one = ProductReview.objects.get(rating=1)
    assert one.moderated_by.username == "staff2" and one.moderated_at is not None
    assert [(h.via, h.status) for h in one.history.all()] == [("form", "pending"), ("moderation", "approved")]


def test_bulk_reject_asks_for_the_reason_first(items, no_broker):
    reviews = [review(rating=r) for r in (2, 4)]
    client = staff("view_productreview", "moderate_productreview")
    page = action(client, "reject_reviews", reviews)
    assert page.status_code == 200 and "Reason for rejecting" in page.content.decode()
    assert set(ProductReview.objects.values_list("status", flat=True)) == {ReviewStatus.PENDING}
    # Without a reason: asked again, nothing rejected.
    again = action(client, "reject_reviews", reviews, apply="1", reason="  ")
    assert again.status_code == 200
    assert set(ProductReview.objects.values_list("status", flat=True)) == {ReviewStatus.PENDING}
    done = action(client, "reject_reviews", reviews, apply="1", reason="Mentions a phone number")
    assert done.status_code == 302
    assert set(ProductReview.objects.values_list("status", "rejection_reason")) == {
        (ReviewStatus.REJECTED, "Mentions a phone number")
    }


def test_rejecting_on_the_change_form_needs_a_reason(admin_client, items, no_broker):
    item = review()
    response = admin_client.post(
        change_url(item), {"status": "rejected", "rejection_reason": "", "public_reply": ""}
    )
    assert response.status_code == 200 and "Give the reason for rejecting" in response.content.decode()
    item.refresh_from_db()
    assert item.status == ReviewStatus.PENDING
    admin_client.post(
        change_url(item), {"status": "rejected", "rejection_reason": "Off topic", "public_reply": ""}
    )
    item.refresh_from_db()
    assert (item.status, item.rejection_reason) == (ReviewStatus.REJECTED, "Off topic")


def test_the_customers_text_cannot_be_changed_by_staff(admin_client, items, no_broker):
    item = review(title="Original")
    admin_client.post(
        change_url(item), {"status": "approved", "title": "Edited by staff", "body": "x", "public_reply": ""}
    )
    item.refresh_from_db()
    assert (item.title, item.body, item.status) == ("Original", "Warm socks", ReviewStatus.APPROVED)


def test_nobody_adds_reviews_by_hand(admin_client):
    assert admin_client.get(reverse("admin:order_mail_reviews_productreview_add")).status_code == 403


def test_the_public_reply_is_escaped_in_the_history(admin_client, items, no_broker):
    item = review()
    admin_client.post(change_url(item), {"status": "approved", "rejection_reason": "", "public_reply": XSS})
    page = admin_client.get(change_url(item)).content.decode()
    assert "<script>alert" not in page and "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in page
