"""Sync runs (counts, the run of each log entry) and the order resolver staff
set up in the admin (marketplaces/runs.py, matching.py, admin.py)."""

from __future__ import annotations

import json

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ImproperlyConfigured
from django.urls import reverse

from django_order_mail.marketplaces.base import get_adapter
from django_order_mail.marketplaces.models import (
    MarketplaceOrderUpdate,
    MarketplaceSyncRun,
    OrderMatchRule,
    Outcome,
    Problem,
)
from django_order_mail.marketplaces.sync import FeedError, run_sync, sync_pages
from tests.marketplaces.helpers import FIXTURES, marketplace_settings  # noqa: F401
from tests.testapp.models import Order

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("marketplace_settings")]

RUNS = "admin:order_mail_marketplaces_marketplacesyncrun_changelist"
RULES_ADD = "admin:order_mail_marketplaces_ordermatchrule_add"


def feed(tmp_path, *items, name="feed.json"):
    path = tmp_path / name
    path.write_text(json.dumps({"items": list(items)}))
    return str(path)


def rule(field="number", marketplace="generic", **kwargs):
    return OrderMatchRule.objects.create(
        marketplace=marketplace,
        content_type=ContentType.objects.get_for_model(Order),
        field_name=field,
        **kwargs,
    )


@pytest.fixture
def no_resolver(marketplace_settings):  # noqa: F811
    marketplace_settings(MARKETPLACE_ORDER_RESOLVER=None)


# -- runs ------------------------------------------------------------------------------------


def test_each_run_is_logged_with_its_counts_and_its_entries():
    clean = run_sync("aliexpress", files=[FIXTURES / "out_of_order_pages.json"])
    bad = run_sync("aliexpress", files=[FIXTURES / "malformed.jsonl"])
    first, second = MarketplaceSyncRun.objects.order_by("id")
    assert (first.applied, first.stale, first.ignored, first.failed) == (1, 2, 2, 0)
    assert first.source == "out_of_order_pages.json" and first.finished_at and first.ok
    assert (second.pages, second.malformed, second.failed) == (5, 7, 7)
    assert not second.ok and (clean.run, bad.run) == (first, second)
    stale = MarketplaceOrderUpdate.objects.filter(problem=Problem.STALE)
    assert stale.count() == 2 and {row.run_id for row in stale} == {first.pk}
    malformed = MarketplaceOrderUpdate.objects.filter(run=second, problem=Problem.MALFORMED)
    assert malformed.count() == 7
    assert all(row.outcome == Outcome.FAILED and row.reason for row in malformed)
    assert bad.as_dict()["run"] == second.pk and bad.as_dict()["malformed"] == 7


def test_a_failed_line_that_comes_again_moves_to_the_new_run():
    run_sync("aliexpress", files=[FIXTURES / "malformed.jsonl"])
    again = run_sync("aliexpress", files=[FIXTURES / "malformed.jsonl"])
    assert again.malformed == 7
    rows = MarketplaceOrderUpdate.objects.filter(problem=Problem.MALFORMED)
    assert rows.count() == 7 and {row.run_id for row in rows} == {again.run.pk}
    assert {row.attempts for row in rows} == {2}


def test_a_conflict_is_failed_but_not_malformed():
    adapter = get_adapter("aliexpress")
    c = "8185430916772342"
    sync_pages(
        adapter, [[{"order_id": c, "order_status": "WAIT_SELLER_SEND_GOODS", "gmt_update": "2024-03-01"}]]
    )
    order = Order.objects.get(number=c)
    order.cancel()
    order.save()
    summary = sync_pages(
        adapter, [[{"order_id": c, "order_status": "WAIT_BUYER_ACCEPT_GOODS", "gmt_update": "2024-03-03"}]]
    )
    assert (summary.failed, summary.malformed) == (1, 0)
    assert MarketplaceOrderUpdate.objects.get(outcome=Outcome.FAILED).problem == Problem.CONFLICT


def test_a_feed_that_cannot_be_read_is_a_run_that_read_nothing(tmp_path):
    broken = tmp_path / "broken.json"
    broken.write_text("{not json")
    with pytest.raises(FeedError):
        run_sync("aliexpress", files=[broken])
    run = MarketplaceSyncRun.objects.get()
    assert run.pages == 0 and "is not JSON" in run.source_error and not run.ok


# -- the resolver without code -----------------------------------------------------------


def test_the_admins_rule_sends_updates_to_the_order_with_that_number(no_resolver, tmp_path):
    mine = Order.objects.create(number="8001", email="a@example.com", sales_channel="aliexpress")
    other = Order.objects.create(number="18001", email="b@example.com")
    with pytest.raises(ImproperlyConfigured, match="order number field"):
        run_sync("generic", files=[feed(tmp_path, {"order_id": "8001", "status": "awaiting_shipment"})])
    rule()
    summary = run_sync(
        "generic",
        files=[
            feed(
                tmp_path,
                {"order_id": "8001", "status": "awaiting_shipment"},
                {"order_id": "9999", "status": "awaiting_shipment"},
            )
        ],
    )
    assert (summary.applied, summary.ignored) == (1, 1)
    mine.refresh_from_db(), other.refresh_from_db()
    assert (mine.state, other.state) == ("awaiting_shipment", "pending_payment")
    ignored = MarketplaceOrderUpdate.objects.get(external_order_id="9999")
    assert ignored.outcome == Outcome.IGNORED and "no shop order" in ignored.reason
    assert not Order.objects.filter(number="9999").exists()  # a rule finds, never creates


def test_a_disabled_rule_or_one_of_another_marketplace_does_not_count(no_resolver, tmp_path):
    rule(enabled=False)
    rule(marketplace="aliexpress")
    with pytest.raises(ImproperlyConfigured):
        get_adapter("generic").check_configured()


def test_a_number_the_field_cannot_hold_matches_nothing(no_resolver, tmp_path):
    order = Order.objects.create(number="x", email="a@example.com")
    rule(field="id")
    summary = run_sync(
        "generic",
        files=[
            feed(
                tmp_path,
                {"order_id": "abc", "status": "awaiting_shipment"},
                {"order_id": str(order.pk), "status": "awaiting_shipment"},
            )
        ],
    )
    assert (summary.applied, summary.ignored, summary.failed) == (1, 1, 0)


def test_two_orders_with_the_number_move_neither(no_resolver, tmp_path):
    Order.objects.create(number="1", email="a@example.com", customer_name="AE-77")
    Order.objects.create(number="2", email="b@example.com", customer_name="AE-77")
    rule(field="customer_name")
    summary = run_sync(
        "generic", files=[feed(tmp_path, {"order_id": "AE-77", "status": "awaiting_shipment"})]
    )
    assert (summary.failed, summary.malformed) == (1, 0)
    row = MarketplaceOrderUpdate.objects.get()
    assert row.problem == Problem.CONFLICT and "more than one order has customer_name 'AE-77'" in row.reason
    assert set(Order.objects.values_list("state", flat=True)) == {"pending_payment"}


def test_the_python_resolver_wins_when_set(tmp_path):
    # marketplace_settings set MARKETPLACE_ORDER_RESOLVER: it creates orders by number.
    decoy = Order.objects.create(number="1", email="a@example.com", customer_name="5001")
    rule(field="customer_name")
    run_sync("generic", files=[feed(tmp_path, {"order_id": "5001", "status": "awaiting_shipment"})])
    assert Order.objects.get(number="5001").state == "awaiting_shipment"
    decoy.refresh_from_db()
    assert decoy.state == "pending_payment"


# -- the admin ----------------------------------------------------------------------------


def test_staff_save_a_rule_by_choosing_the_field(admin_client, no_resolver):
    page = admin_client.get(reverse(RULES_ADD))
    body = page.content.decode()
    ct = ContentType.objects.get_for_model(Order)
    assert '<optgroup label="testapp.Order">' in body and f'value="{ct.pk}:number"' in body
    assert f'value="{ct.pk}:card_number"' in body and f'value="{ct.pk}:state"' not in body
    assert '<option value="generic">generic</option>' in body
    response = admin_client.post(
        reverse(RULES_ADD), {"marketplace": "generic", "order_field": f"{ct.pk}:number", "enabled": "on"}
    )
    assert response.status_code == 302
    saved = OrderMatchRule.objects.get()
    assert (saved.marketplace, saved.content_type, saved.field_name) == ("generic", ct, "number")


def test_a_field_that_is_not_offered_is_refused(admin_client, no_resolver):
    ct = ContentType.objects.get_for_model(Order)
    response = admin_client.post(
        reverse(RULES_ADD), {"marketplace": "generic", "order_field": f"{ct.pk}:password", "enabled": "on"}
    )
    assert response.status_code == 200 and not OrderMatchRule.objects.exists()
    response = admin_client.post(
        reverse(RULES_ADD), {"marketplace": "nowhere", "order_field": f"{ct.pk}:number", "enabled": "on"}
    )
    assert response.status_code == 200 and not OrderMatchRule.objects.exists()


def test_the_rules_page_says_when_the_python_resolver_wins(admin_client):
    body = admin_client.get(
        reverse("admin:order_mail_marketplaces_ordermatchrule_changelist")
    ).content.decode()
    assert "tests.marketplaces.helpers.resolve_order" in body and "not these rules" in body


def test_runs_list_filters_runs_with_problems_and_links_the_counts(admin_client):
    clean = run_sync("aliexpress", files=[FIXTURES / "seed_page1.json"]).run
    bad = run_sync("aliexpress", files=[FIXTURES / "malformed.jsonl"]).run
    response = admin_client.get(reverse(RUNS), {"result": "problems"})
    assert list(response.context["cl"].result_list) == [bad]
    response = admin_client.get(reverse(RUNS), {"result": "clean"})
    assert list(response.context["cl"].result_list) == [clean]
    log = reverse("admin:order_mail_marketplaces_marketplaceorderupdate_changelist")
    entries = admin_client.get(log, {"run": bad.pk, "problem__exact": "malformed"})
    assert len(entries.context["cl"].result_list) == 7
    detail = admin_client.get(
        reverse("admin:order_mail_marketplaces_marketplacesyncrun_change", args=[bad.pk])
    )
    body = detail.content.decode()
    assert "Problems in this run" in body and "BUYER_SAYS_HELLO" in body


def test_runs_are_read_only_and_need_the_view_permission(client, admin_client):
    run = run_sync("aliexpress", files=[FIXTURES / "seed_page1.json"]).run
    delete = reverse("admin:order_mail_marketplaces_marketplacesyncrun_delete", args=[run.pk])
    admin_client.post(delete, {"post": "yes"})
    assert MarketplaceSyncRun.objects.filter(pk=run.pk).exists()
    user = get_user_model().objects.create_user("clerk", password="pw", is_staff=True)
    client.force_login(user)
    assert client.get(reverse(RUNS)).status_code == 403
    assert client.get(reverse(RULES_ADD)).status_code == 403
    user.user_permissions.add(Permission.objects.get(codename="view_marketplacesyncrun"))
    assert client.get(reverse(RUNS)).status_code == 200
