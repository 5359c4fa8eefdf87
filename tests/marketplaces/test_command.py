"""manage.py order_mail_marketplace_sync and the Celery task
django_order_mail.marketplace_sync (run in-process with Task.apply)."""

import re
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from django_order_mail.marketplaces.tasks import marketplace_sync
from tests.marketplaces.helpers import FIXTURES, SOURCE_CALLS, marketplace_settings  # noqa: F401
from tests.testapp.models import Order

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("marketplace_settings")]


def run(*args):
    out, err = StringIO(), StringIO()
    code = 0
    try:
        call_command("order_mail_marketplace_sync", *args, stdout=out, stderr=err)
    except SystemExit as exc:
        code = exc.code
    return code, out.getvalue(), err.getvalue()


def test_command_applies_paged_files_and_prints_a_summary():
    code, out, _ = run(
        "aliexpress", "--file", str(FIXTURES / "seed_page1.json"), "--file", str(FIXTURES / "seed_page2.json")
    )
    assert code == 0
    assert out.strip() == (
        "aliexpress: 2 page(s), 1 applied, 1 ignored (0 stale, 0 repeats), 0 failed (0 malformed)"
    )
    assert Order.objects.get(number="5010253598549132").state == "awaiting_shipment"
    assert Order.objects.get(number="5010253598549133").state == "pending_payment"


def test_command_reports_failures_and_exits_1():
    code, out, err = run("--file", str(FIXTURES / "malformed.jsonl"))
    assert code == 1
    assert "7 failed (7 malformed)" in out
    assert "FAILED 8185430916775001: page 4 item 2: unknown AliExpress order_status 'BUYER_SAYS_HELLO'" in out
    assert "needs attention" in err


def test_command_with_a_page_source_and_since():
    code, out, _ = run("--source", "tests.marketplaces.helpers.seed_pages", "--since", "2021-05-01 00:00")
    assert code == 0
    assert "1 applied" in out
    assert SOURCE_CALLS[0].isoformat() == "2021-05-01T00:00:00+00:00"


def test_command_no_notify():
    code, _, _ = run("--file", str(FIXTURES / "seed_page1.json"), "--no-notify")
    assert code == 0
    order = Order.objects.get(number="5010253598549132")
    assert {row.status for row in order.mail_log} == {"skipped"}


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--file", "/nonexistent/feed.json"), "cannot read feed file"),
        ((), "either feed files or a page source"),
        (("amazon", "--file", "x.json"), "Unknown marketplace 'amazon'"),
        (("--source", "tests.nowhere.pages"), "No module named"),
        (("--source", "tests.marketplaces.helpers.seed_pages", "--since", "last week"), "not an ISO"),
    ],
)
def test_command_usage_errors(args, message):
    with pytest.raises(CommandError, match=message):
        call_command("order_mail_marketplace_sync", *args, stdout=StringIO())


def test_command_not_configured(mail_settings):
    mail_settings(MARKETPLACE_ORDER_RESOLVER=None)
    with pytest.raises(CommandError, match="MARKETPLACE_ORDER_RESOLVER"):
        call_command("order_mail_marketplace_sync", "--file", str(FIXTURES / "seed_page1.json"))


def test_command_rejects_a_broken_json_file(tmp_path):
    bad = tmp_path / "feed.json"
    bad.write_text('{"aliexpress_solution_order_get_response": ')
    with pytest.raises(CommandError, match="is not JSON"):
        call_command("order_mail_marketplace_sync", "--file", str(bad))


def test_celery_task_returns_the_summary():
    assert marketplace_sync.name == "django_order_mail.marketplace_sync"
    result = marketplace_sync.apply(
        kwargs={"marketplace": "aliexpress", "source": "tests.marketplaces.helpers.lifecycle_pages"}
    ).get()
    assert result["applied"] == 7
    assert result["failed"] == 0
    assert result["newest"] == "2024-03-20T15:00:00+00:00"
    again = marketplace_sync.apply(kwargs={"files": [str(FIXTURES / "lifecycle_pages.json")]}).get()
    assert (again["applied"], again["duplicates"]) == (0, 10)


def _deep(levels: int) -> str:
    return "[" * levels + "]" * levels


@pytest.mark.parametrize(
    ("name", "feed", "message"),
    [
        # deeper than the JSON parser can recurse: a RecursionError before
        ("deep.json", _deep(100_000), "deep.json is nested too deeply"),
        # one such line among good JSON Lines (the other lines are not applied either)
        (
            "deep.jsonl",
            (FIXTURES / "seed_page2.json").read_text().replace("\n", "") + "\n" + _deep(100_000) + "\n",
            "deep.jsonl line 2 is nested too deeply",
        ),
    ],
)
def test_command_refuses_a_deeply_nested_feed_and_leaves_the_cursor(tmp_path, name, feed, message):
    from django_order_mail.marketplaces.models import MarketplaceOrderUpdate, MarketplaceSyncCursor

    assert run("--file", str(FIXTURES / "seed_page1.json"))[0] == 0
    cursor = MarketplaceSyncCursor.objects.values().get()
    logged = MarketplaceOrderUpdate.objects.count()
    bad = tmp_path / name
    bad.write_text(feed)
    with pytest.raises(CommandError, match=re.escape(message)) as error:
        call_command("order_mail_marketplace_sync", "--file", str(bad), stdout=StringIO(), stderr=StringIO())
    assert error.value.returncode == 1  # manage.py prints "CommandError: ..." and exits 1
    assert MarketplaceSyncCursor.objects.values().get() == cursor
    assert MarketplaceOrderUpdate.objects.count() == logged
    assert not Order.objects.filter(number="5010253598549133").exists()  # seed_page2's order: not applied
