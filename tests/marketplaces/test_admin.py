"""The marketplace sync log in the admin: readable, searchable, never editable."""

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.contrib.contenttypes.models import ContentType
from django.urls import reverse

from django_order_mail.marketplaces.models import MarketplaceOrderUpdate, Outcome
from tests.factories import OrderFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def entry():
    order = OrderFactory()
    return MarketplaceOrderUpdate.objects.create(
        marketplace="aliexpress",
        external_order_id="800123",
        status="WAIT_BUYER_ACCEPT_GOODS",
        outcome=Outcome.FAILED,
        reason="<b>no such transition</b> from pending_payment",
        payload_hash="a" * 64,
        content_type=ContentType.objects.get_for_model(order),
        object_id=str(order.pk),
    )


def test_staff_read_the_log_with_the_reason_escaped_and_the_order(admin_client, entry):
    page = admin_client.get(reverse("admin:order_mail_marketplaces_marketplaceorderupdate_changelist"))
    body = page.content.decode()
    assert page.status_code == 200
    assert "800123" in body and "&lt;b&gt;no such transition&lt;/b&gt;" in body and "<b>no such" not in body
    # The test shop's order has no admin of its own: the id, not a dead link.
    assert f'<td class="field-order_link">{entry.object_id}</td>' in body
    found = admin_client.get(
        reverse("admin:order_mail_marketplaces_marketplaceorderupdate_changelist"), {"q": "800123"}
    )
    assert "800123" in found.content.decode()


def test_nobody_adds_edits_or_deletes_entries(admin_client, entry):
    change = reverse("admin:order_mail_marketplaces_marketplaceorderupdate_change", args=[entry.pk])
    assert (
        admin_client.get(reverse("admin:order_mail_marketplaces_marketplaceorderupdate_add")).status_code
        == 403
    )
    admin_client.post(change, {"reason": "edited"})
    delete = reverse("admin:order_mail_marketplaces_marketplaceorderupdate_delete", args=[entry.pk])
    admin_client.post(delete, {"post": "yes"})
    entry.refresh_from_db()
    assert entry.reason.startswith("<b>no such transition")


def test_a_staff_member_without_the_view_permission_sees_nothing(client, entry):
    user = get_user_model().objects.create_user("clerk", password="pw", is_staff=True)
    client.force_login(user)
    url = reverse("admin:order_mail_marketplaces_marketplaceorderupdate_changelist")
    assert client.get(url).status_code == 403
    user.user_permissions.add(Permission.objects.get(codename="view_marketplaceorderupdate"))
    assert client.get(url).status_code == 200
