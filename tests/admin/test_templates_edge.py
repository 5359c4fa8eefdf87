"""The template editor never answers 500: the abandoned-cart reminder (whose
sample is a cart, not an order), a view-only staff member opening a saved
template, and a comparison link with a version that is not a number."""

from __future__ import annotations

import pytest
from django.urls import reverse

from django_order_mail.rendering.models import EmailTemplate
from tests.admin.test_templates import (  # noqa: F401 - fast_password_hasher is an autouse fixture
    ADD,
    PREVIEW,
    change_url,
    create,
    fast_password_hasher,
    form_data,
    staff,
    three_versions,
)

pytestmark = pytest.mark.django_db


def test_add_page_of_the_abandoned_cart_reminder_previews_a_sample_cart(admin_client):
    response = admin_client.get(reverse(ADD), {"event": "abandoned_cart"})
    assert response.status_code == 200
    preview = response.context["preview"]
    assert preview["subject"] == "You left something in your cart at Test Shop"
    assert "Merino wool socks" in preview["html"] and "Enamel mug" in preview["text"]
    assert "Only 3 left" in preview["html"]  # the sample has real stock figures
    variables = dict(response.context["variables"])
    assert variables["cart_total"] == "34.90"
    assert variables["item_count"] == "3"
    assert "items.0.name" in variables


def test_live_preview_and_save_of_the_abandoned_cart_reminder(admin_client):
    answer = admin_client.post(
        reverse(PREVIEW),
        form_data(event="abandoned_cart", subject="{{ customer_name }}, {{ item_count }} items wait"),
    ).json()
    assert answer["ok"], answer
    assert answer["subject"] == "Tina Hansen, 3 items wait"
    assert answer["problems"] == []
    response = create(admin_client, event="abandoned_cart", subject="{{ item_count }} items wait")
    assert response.status_code == 302, response.context["adminform"].form.errors
    assert EmailTemplate.objects.get().event == "abandoned_cart"


def test_view_only_staff_can_open_a_saved_template(client, admin_client):
    create(admin_client, subject="Saved {{ order_number }}")
    template = EmailTemplate.objects.get()
    staff(client, "view_emailtemplate")
    response = client.get(change_url(template))
    assert response.status_code == 200
    assert "Saved {{ order_number }}" in response.content.decode()  # shown read-only
    assert response.context["preview"]["subject"] == "Saved 1001"
    assert response.context["can_edit"] is False
    assert 'name="_save"' not in response.content.decode()


@pytest.mark.parametrize(
    ("query", "status"),
    [
        ({"a": "abc", "b": "1"}, 400),
        ({"a": "1", "b": "1.5"}, 400),
        ({"a": "-1", "b": "2"}, 400),
        ({"a": "1", "b": "9" * 30}, 400),
        ({"a": "1", "b": "7"}, 404),  # a number, but no such version
        ({"b": "2"}, 404),
        ({"a": "1", "b": "3"}, 200),
    ],
)
def test_compare_with_a_version_that_is_not_a_number_is_a_400(admin_client, query, status):
    template = three_versions(admin_client)
    url = reverse("admin:django_order_mail_emailtemplate_compare", args=[template.pk])
    assert admin_client.get(url, query).status_code == status
