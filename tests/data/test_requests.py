"""Export and erasure of one address (docs/data-protection.rst)."""

import json
from datetime import timedelta
from decimal import Decimal

import pytest
from django.apps import apps
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.contrib.contenttypes.models import ContentType
from django.core.management import call_command
from django.db import models
from django.urls import reverse
from django.utils import timezone

from django_order_mail.carts.coupons import check_coupon
from django_order_mail.carts.models import CartCoupon, CartRecovery, CouponRule
from django_order_mail.data.models import DataRequest
from django_order_mail.data.registry import keyed_hash
from django_order_mail.data.requests import erase_address, export_address
from django_order_mail.delivery.sender import deliver
from django_order_mail.feedback.models import SurveyAnswer, SurveyResponse
from django_order_mail.outbox.models import OutboxEmail, Status
from django_order_mail.tracking.models import Suppression, TrackingEvent
from django_order_mail.tracking.suppression import suppress
from tests.factories import OrderFactory
from tests.tracking_utils import queued_row

pytestmark = pytest.mark.django_db
URL = "admin:django_order_mail_outboxemail_data_request"
#: Apps whose rows hold no customer data to search.
NOT_YET_REGISTERED: set[str] = set()


@pytest.fixture
def customer(row):
    """One customer with a row of every kind, and another customer's rows."""
    order = OrderFactory(email="Tina.Test@Example.com")
    other = OrderFactory(email="other@example.com")
    ct = ContentType.objects.get_for_model(order)
    for who in (order, other):
        email = row(who, event="feedback_request")
        response = SurveyResponse.objects.create(
            content_type=ct, object_id=str(who.pk), email=email, score=2, comment=f"{who.email} wet socks"
        )
        SurveyAnswer.objects.create(response=response, score=2, comment="wet socks", email=email)
        TrackingEvent.objects.create(
            esp="t", event_id=f"c{who.pk}", event_type="complained", recipient=who.email, email=email
        )
        suppress(who.email, Suppression.Reason.COMPLAINT, email=email, note=f"complaint of {who.email}")
        CartRecovery.objects.create(
            cart_type=ct,
            cart_id=str(who.pk),
            step=1,
            reminded_at=email.created_at,
            recipient=who.email.lower(),
            source="cart",
        )
        CartCoupon.objects.create(code=f"C{who.pk}", recipient=who.email.lower(), step=1)
    return order


def test_export_has_each_kind_and_nothing_of_another_address(customer):
    data = export_address("tina.test@example.com")
    text = json.dumps(data, default=str)
    assert "other@example.com" not in text
    assert len(data["send_log"]) == 1 and data["send_log"][0]["subject"]
    assert data["survey_responses"][0]["comment"].endswith("wet socks")
    assert data["suppression"][0]["reason"] == "complaint"
    assert data["tracking_events"][0]["event"] == "complained"
    assert len(data["carts"]["recoveries"]) == 1 and len(data["carts"]["coupons"]) == 1


def test_a_rule_coupon_is_exported_with_its_terms_expiry_and_use_and_ended_by_the_erasure(customer):
    rule = CouponRule.objects.create(name="Last reminder", kind="percent", value=Decimal("10"), valid_days=7)
    now = timezone.now()
    unused = CartCoupon.objects.create(
        code="SAVE-UNUSED",
        recipient="tina.test@example.com",
        step=2,
        rule=rule,
        kind="percent",
        value=Decimal("10"),
        minimum_cart_value=Decimal("40"),
        expires_at=now + timedelta(days=7),
    )
    used = CartCoupon.objects.create(
        code="SAVE-USED",
        recipient="tina.test@example.com",
        step=3,
        rule=rule,
        kind="amount",
        value=Decimal("5"),
        currency="EUR",
        expires_at=now + timedelta(days=7),
        redeemed_at=now - timedelta(hours=1),
        redeemed_order="1042",
    )
    others = CartCoupon.objects.create(
        code="SAVE-OTHER",
        recipient="other@example.com",
        step=2,
        rule=rule,
        kind="percent",
        value=Decimal("10"),
        expires_at=now + timedelta(days=7),
    )
    coupons = {c["code"]: c for c in export_address("Tina.Test@example.com")["carts"]["coupons"]}
    assert set(coupons) == {f"C{customer.pk}", "SAVE-UNUSED", "SAVE-USED"}
    assert coupons["SAVE-UNUSED"] == {
        "code": "SAVE-UNUSED",
        "step": 2,
        "issued_at": unused.issued_at,
        "rule": "Last reminder",
        "discount": "percent",
        "value": Decimal("10.00"),
        "currency": "",
        "minimum_cart_value": Decimal("40.00"),
        "expires_at": unused.expires_at,
        "used_at": None,
        "used_for_order": "",
    }
    assert coupons["SAVE-USED"]["used_at"] == used.redeemed_at
    assert coupons["SAVE-USED"]["used_for_order"] == "1042"
    assert coupons["SAVE-USED"]["discount"] == "amount" and coupons["SAVE-USED"]["currency"] == "EUR"

    erase_address("tina.test@example.com")
    unused.refresh_from_db()
    used.refresh_from_db()
    others.refresh_from_db()
    assert unused.recipient == used.recipient == "erased@erased.invalid"
    assert unused.expires_at <= timezone.now()  # nobody can redeem it now
    check = check_coupon("SAVE-UNUSED", email="tina.test@example.com", cart_total="100")
    assert not check.ok
    assert used.expires_at > timezone.now() and used.redeemed_at is not None  # the rule's counts stay
    assert others.recipient == "other@example.com" and others.expires_at > timezone.now()
    assert export_address("tina.test@example.com")["carts"]["coupons"] == []


def text_columns_containing(address: str) -> list[str]:
    found = []
    for model in apps.get_models():
        if not model.__module__.startswith("django_order_mail") or model._meta.proxy:
            continue
        if model._meta.app_label in NOT_YET_REGISTERED:
            continue
        for field in model._meta.get_fields():
            if isinstance(field, (models.CharField, models.TextField, models.JSONField)) and field.concrete:
                lookup = f"{field.name}__icontains"
                if model._base_manager.filter(**{lookup: address}).exists():
                    found.append(f"{model._meta.label}.{field.name}")
    return found


def test_erasure_removes_the_address_everywhere_and_keeps_statistics(customer):
    before = {m: m.objects.count() for m in (OutboxEmail, SurveyResponse, TrackingEvent, CartRecovery)}
    assert text_columns_containing("tina.test@example.com")
    counts = erase_address("TINA.test@example.com ")
    assert counts["send_log"] == 1 and counts["suppression"] == 1
    assert text_columns_containing("tina.test@example.com") == []
    assert text_columns_containing("other@example.com")  # the other customer is untouched
    assert {m: m.objects.count() for m in before} == before
    erased = OutboxEmail.objects.exclude(recipient="other@example.com").get()
    assert erased.status == Status.SENT and erased.event == "feedback_request" and erased.sent_at
    assert SurveyResponse.objects.get(email=erased).score == 2
    assert erase_address("tina.test@example.com")["send_log"] == 0  # twice is harmless


def test_an_erased_complaint_still_stops_commercial_mail(customer, broker, esp):
    call_command("order_mail_forget", "tina.test@example.com")
    assert not Suppression.objects.filter(address="tina.test@example.com").exists()
    row = queued_row(customer, "feedback_request")
    assert deliver(row.pk) == Status.SUPPRESSED
    assert esp.sent == []
    entry = DataRequest.objects.get()
    assert entry.kind == "erasure" and entry.address_hash == keyed_hash("tina.test@example.com")
    assert "tina" not in json.dumps(entry.counts) + entry.address_hash + entry.requested_by_name


@pytest.fixture
def staff(client):
    user = get_user_model().objects.create_user("clerk", password="x", is_staff=True)
    client.force_login(user)
    return user


def grant(user, *codenames):
    user.user_permissions.add(*Permission.objects.filter(codename__in=codenames))


def test_the_page_needs_both_permissions(client, staff, customer):
    url = reverse(URL)
    assert client.get(url).status_code == 403
    grant(staff, "view_outboxemail")
    assert client.post(url, {"address": customer.email, "action": "export"}).status_code == 403
    grant(staff, "handle_datarequest")
    staff = get_user_model().objects.get(pk=staff.pk)
    client.force_login(staff)
    assert client.get(url).status_code == 200
    assert not DataRequest.objects.exists()  # GET changes nothing
    response = client.post(url, {"address": customer.email, "action": "export"})
    assert response["Content-Disposition"].startswith("attachment")
    assert json.loads(response.content)["send_log"][0]["event"] == "feedback_request"
    assert DataRequest.objects.get().kind == "export"


def test_erasure_from_the_admin_needs_the_confirmation(client, staff, customer):
    grant(staff, "view_outboxemail", "handle_datarequest")
    url = reverse(URL)
    response = client.post(url, {"address": customer.email, "action": "erase"})
    assert response.status_code == 200 and OutboxEmail.objects.filter(recipient=customer.email).exists()
    response = client.post(url, {"address": customer.email, "action": "erase", "confirm": "on"})
    assert response.status_code == 302
    assert not OutboxEmail.objects.filter(recipient__iexact=customer.email).exists()
    assert DataRequest.objects.get().requested_by == staff
