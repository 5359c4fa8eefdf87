"""Guards of the hand-written machinery (``docs/performance.md``, "What the
hand-written machinery buys").

Each piece does by hand what Django, or django-render-block, does through
its public API, and relies on internals that may change in any release.
These tests fail loudly when they do, instead of the piece going wrong, or
switching itself off, without anyone noticing: each compares the piece's
result with what the public API gives for the same input.

They run on SQLite (the unit suite) and on PostgreSQL
(``ORDER_MAIL_TEST_DB=postgres``), where the one-statement record runs.
(``tests/rendering/test_blocks.py`` compares the block renderer with
django-render-block for every packaged template.)
"""

from __future__ import annotations

import datetime
import uuid
from pathlib import Path

import pytest
from django.contrib.contenttypes.models import ContentType
from django.db import connection, router, transaction
from django.template import Context, Engine
from django.template.base import NodeList
from django.template.loader import get_template
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from django_order_mail import memo
from django_order_mail.delivery import record, sender
from django_order_mail.lifecycle.shipments import Shipment
from django_order_mail.outbox import insert
from django_order_mail.outbox.models import EmailLog, OutboxEmail, Status
from django_order_mail.rendering import blocks
from django_order_mail.rendering.blocks import render_block
from django_order_mail.rendering.db_loader import default_fields
from django_order_mail.rendering.models import EmailTemplate
from django_order_mail.rendering.render import render_outbox_email
from django_order_mail.rendering.sample import sample_context
from tests.factories import OrderFactory

pytestmark = pytest.mark.django_db

NOW = datetime.datetime(2026, 3, 1, 12, 0, 0, 123456, tzinfo=datetime.timezone.utc)


@pytest.fixture
def frozen(monkeypatch):
    """``timezone.now()`` fixed, so ``auto_now`` fields prepare the same value twice."""
    monkeypatch.setattr(timezone, "now", lambda: NOW)
    return NOW


def outbox_row(order, key: str, **fields) -> OutboxEmail:
    """An unsaved outbox row as ``enqueue()`` builds it."""
    values = {
        "idempotency_key": key,
        "event": "order_confirmation",
        "status": Status.QUEUED,
        "content_type": ContentType.objects.get_for_model(order),
        "object_id": str(order.pk),
        "reference": order.number,
        "channel": "web",
        "language": "en",
        "recipient": order.email,
        "extra": {"note": "ä", "n": 1},
        "enqueued_at": timezone.now(),
        "created_at": timezone.now(),
        "claim_token": uuid.uuid4(),
        **fields,
    }
    return OutboxEmail(**values)


def executed(callable_) -> list[str]:
    """The SQL ``callable_()`` runs (as the backend reports it, values
    included), in a transaction rolled back after."""
    with transaction.atomic(), CaptureQueriesContext(connection) as captured:
        callable_()
        transaction.set_rollback(True)
    return [q["sql"] for q in captured.captured_queries]


# --- the outbox insert (django_order_mail.outbox.insert) -------------------


def comparable(params: list) -> list:
    """Parameters by value: adapters such as psycopg's ``Jsonb`` by their ``obj``."""
    return [(type(p), getattr(p, "obj", p)) for p in params]


def returning_database() -> str:
    """The outbox's database alias; the test is skipped where the insert
    goes through ``bulk_create()`` instead of the fast path."""
    using = router.db_for_write(OutboxEmail)
    if not insert.supports_returning(using):
        pytest.skip(f"{connection.vendor} inserts with bulk_create(ignore_conflicts=True)")
    return using


def first_insert(order, key: str, using: str) -> OutboxEmail:
    """Insert one row as the process's first (which compiles the statement
    and checks the fast path), in a transaction rolled back after."""
    insert._single_row_sql.pop(using, None)
    with transaction.atomic():
        [created] = insert.insert_returning([outbox_row(order, key)], using)
        transaction.set_rollback(True)
    return created


def test_the_insert_fast_path_stays_on_and_reuses_exactly_what_djangos_compiler_gives(frozen):
    """The statement compiled once is the one ``InsertQuery`` compiles for
    any other row, and the parameters prepared by hand are the compiler's.
    If a Django release prepared them differently, the module would switch
    its fast path off on first use, silently: this fails instead."""
    using = returning_database()
    order = OrderFactory()
    assert first_insert(order, "guard-1", using).pk
    assert insert._single_row_sql.get(using), (
        "Django's InsertQuery no longer prepares the outbox row's parameters as "
        "insert._params() does: the single-row fast path switched itself off"
    )

    token = uuid.uuid4()
    mine, django = (outbox_row(order, "guard-2", claim_token=token) for _ in range(2))
    [(cached_sql, my_params)] = insert._statements([mine], using)
    [(compiled_sql, compiled_params)] = insert._compiled([django], using)
    assert cached_sql == compiled_sql
    assert comparable(my_params) == comparable(compiled_params)


def test_the_insert_fast_path_stays_on_while_the_clock_runs(monkeypatch):
    """The first row a process inserts checks the fast path against the
    compiler, each preparing the row's ``auto_now`` times from the clock:
    those differ (by a microsecond here), and that alone must not switch it
    off. SQLite receives them as strings, so comparing datetimes by type
    alone did not cover it: the fast path was off in most SQLite processes."""
    using = returning_database()
    ticks = iter(range(10_000))
    monkeypatch.setattr(timezone, "now", lambda: NOW + datetime.timedelta(microseconds=next(ticks)))
    order = OrderFactory()
    assert first_insert(order, "guard-clock", using).pk
    assert insert._single_row_sql.get(using)


def test_the_insert_is_djangos_bulk_create_statement_with_returning(frozen):
    """Statement and values, as the database received them, are what
    ``bulk_create(ignore_conflicts=True)`` sends for the same row, plus the
    ``RETURNING`` clause (which the fast path appends by hand)."""
    using = returning_database()
    order = OrderFactory()
    token = uuid.uuid4()
    first_insert(order, "guard-warm", using)
    assert insert._single_row_sql.get(using)

    [public] = executed(
        lambda: OutboxEmail.objects.bulk_create(
            [outbox_row(order, "guard-3", claim_token=token)], ignore_conflicts=True
        )
    )
    returned = []
    [ours] = executed(
        lambda: returned.extend(
            insert.insert_returning([outbox_row(order, "guard-3", claim_token=token)], using)
        )
    )
    quote = connection.ops.quote_name
    assert ours == f"{public} RETURNING {quote('id')}, {quote('idempotency_key')}"
    assert [r.idempotency_key for r in returned] == ["guard-3"] and returned[0].pk


# --- the outcome record (django_order_mail.delivery.record) ----------------


def test_the_compiled_update_is_the_statement_queryset_update_runs(frozen):
    """``update_statement()`` builds what ``QuerySet.update()`` would run
    from Django's ``UpdateQuery`` (on PostgreSQL it goes inside ``WITH
    updated AS (...)``). Its SQL and values, as the database receives them,
    must be exactly ``update()``'s; and ``record_outcome`` must run it."""
    order = OrderFactory()
    row = outbox_row(order, "guard-record", status=Status.SENDING, claimed_at=NOW)
    row.save()
    using = router.db_for_write(OutboxEmail)
    claimed_statuses = (Status.SENDING, Status.QUEUED)
    claimed = OutboxEmail.objects.filter(pk=row.pk, claim_token=row.claim_token, status__in=claimed_statuses)
    values = {
        "status": Status.SENT,
        "updated_at": NOW,
        "sent_at": NOW,
        "esp_message_id": "m-1",
        "body_html": "<p>Thank you – ä</p>",
        "last_error": "",
    }

    [public] = executed(lambda: claimed.update(**values))
    sql, params = record.update_statement(claimed, values, using)

    def run_compiled():
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            assert cursor.rowcount == 1

    [ours] = executed(run_compiled)
    assert ours == public, "Django compiles QuerySet.update() differently from update_statement()"

    with CaptureQueriesContext(connection) as captured:
        assert record.record_outcome(
            row, claimed_statuses, status=Status.SENT, message="accepted", values=values
        )
    statements = [q["sql"] for q in captured.captured_queries]
    if connection.vendor == "postgresql":
        assert len(statements) == 1
        assert statements[0].startswith(f"WITH updated AS ({public} RETURNING ")
    else:
        assert public in statements
    stored = OutboxEmail.objects.get(pk=row.pk)
    assert (stored.status, stored.esp_message_id, stored.updated_at) == (Status.SENT, "m-1", NOW)
    [log] = EmailLog.objects.filter(email=row)
    assert (log.status, log.message) == (Status.SENT, "accepted")


# --- the block renderer (django_order_mail.rendering.blocks) ---------------

EMAIL_DIR = Path(blocks.__file__).parent.parent / "templates" / "django_order_mail" / "email"
TEMPLATES = sorted(
    str(path.relative_to(EMAIL_DIR.parent.parent))
    for path in EMAIL_DIR.rglob("*.email")
    # abandoned_cart renders a cart, not an order (tests/carts/test_send.py)
    if path.name not in ("base.email", "abandoned_cart.email")
)


@pytest.mark.parametrize("name", TEMPLATES)
def test_the_three_blocks_are_what_djangos_full_render_gives(name):
    """Django's public ``Template.render()`` of a packaged email is its
    subject, plain and html blocks with only whitespace between them (the
    layout of ``base.email``); the block renderer, first render and cached,
    must give exactly those three pieces."""
    event = Path(name).stem
    channel = Path(name).parent.name if Path(name).parent.name != "email" else "web"
    context = sample_context(event, channel=channel)
    template = get_template(name)
    full = template.template.render(Context(context, autoescape=False))
    for attempt in ("first render", "cached"):
        rest = full
        for part in ("subject", "plain", "html"):
            piece = render_block(template, part, Context(context, autoescape=False))
            assert piece.strip(), f"{part} of {name} rendered empty ({attempt})"
            at = rest.find(piece)
            assert at >= 0 and not rest[:at].strip(), (
                f"{part} of {name} differs from the full render ({attempt})"
            )
            rest = rest[at + len(piece) :]
        assert not rest.strip(), name


def test_block_super_and_nested_blocks_render_as_the_whole_template_does():
    """A layout that is one block: its render through the block renderer is
    Django's render of the whole child template (``{{ block.super }}``,
    nested and overridden blocks), cached or not."""
    sources = {
        "layout.email": "{% block html %}<h1>{% block title %}T{% endblock %}</h1>"
        "{% block body %}<p>{{ x }}</p>{% endblock %}{% endblock %}",
        "middle.email": '{% extends "layout.email" %}{% block title %}{{ block.super }}+M{% endblock %}',
        "child.email": '{% extends "middle.email" %}{% block title %}[{{ block.super }}]{% endblock %}'
        "{% block body %}{{ block.super }}<i>{{ x }}</i>{% endblock %}",
    }
    engine = Engine(
        loaders=[
            ("django.template.loaders.cached.Loader", [("django.template.loaders.locmem.Loader", sources)])
        ]
    )
    child = engine.get_template("child.email")
    for _ in range(3):
        context = {"x": "a < b"}
        expected = child.render(Context(context))
        assert expected == "<h1>[T+M]</h1><p>a &lt; b</p><i>a &lt; b</i>"
        assert render_block(child, "html", Context(context)) == expected
    assert child in blocks._levels


@pytest.mark.parametrize("name", ["django_order_mail/email/order_confirmation.email"])
def test_a_packaged_template_is_walked_once_then_rendered_from_its_cached_blocks(name, monkeypatch):
    """The cache holds for the packaged templates (a constant ``{% extends
    %}`` is recognised from ``ExtendsNode.parent_name``): after the first
    render, no ``get_nodes_by_type`` walk. If Django changed how it stores
    the parent's name, every render would walk the tree again, silently."""
    template = get_template(name)
    context = sample_context("order_confirmation", channel="web")
    blocks._levels.pop(template.template, None)
    render_block(template, "html", Context(context))
    assert template.template in blocks._levels, "the packaged template's blocks are no longer cached"
    walks = []
    original = NodeList.get_nodes_by_type
    monkeypatch.setattr(
        NodeList,
        "get_nodes_by_type",
        lambda self, nodetype: walks.append(nodetype) or original(self, nodetype),
    )
    for part in ("subject", "plain", "html"):
        render_block(template, part, Context(context))
    assert walks == []


# --- the batch memo (django_order_mail.memo) --------------------------------


def queued_rows(n: int) -> list[OutboxEmail]:
    rows = []
    for i in range(n):
        order = OrderFactory(language="en")
        if i % 2 == 0:
            Shipment.objects.create(order=order, carrier="dhl", tracking_number=f"JD0{order.pk:09d}")
        order.confirm_payment()
        order.save()
        rows.append(OutboxEmail.for_order(order).get(event="order_confirmation"))
    return rows


def rendered(rows) -> list[tuple]:
    out = []
    for row in rows:
        email = render_outbox_email(row, row.order)
        out.append((email.subject, email.text, email.html, email.language))
    return out


def test_a_batch_renders_exactly_what_each_email_renders_alone(broker):
    """The memo (template choice, shipments, lookups primed for the batch)
    changes how often things are looked up, never the answer: every email of
    a batch is what it is rendered alone, and the batch looks up less."""
    fields = default_fields("order_confirmation")
    fields["subject"] = "Edited: {{ order_number }}"
    EmailTemplate.objects.create(event="order_confirmation", language="en", is_active=True, **fields)
    rows = queued_rows(4)

    alone_rows = [OutboxEmail.objects.get(pk=r.pk) for r in rows]
    with CaptureQueriesContext(connection) as alone_queries:
        alone = rendered(alone_rows)
        alone_shipments = [Shipment.list_for_order(r.order) for r in alone_rows]

    batch_rows = list(OutboxEmail.objects.filter(pk__in=[r.pk for r in rows]).order_by("pk"))
    with CaptureQueriesContext(connection) as batch_queries, memo.batch_scope():
        sender._prefetch(batch_rows)
        in_batch = rendered(batch_rows)
        batch_shipments = [Shipment.list_for_order(r.order) for r in batch_rows]

    assert in_batch == alone
    assert all(subject.startswith("Edited: ") for subject, *_ in alone)  # the edited template was used
    assert batch_shipments == alone_shipments
    assert [len(s) for s in alone_shipments] == [1, 0, 1, 0]
    assert len(batch_queries.captured_queries) < len(alone_queries.captured_queries)


def test_with_the_memo_switched_off_a_batch_shares_nothing():
    """What ``bench/machinery.py`` measures as "memo off": inside a batch,
    each lookup is made again, and nothing is primed."""
    calls = []
    original = memo.SHARE_IN_BATCH
    memo.SHARE_IN_BATCH = False
    try:
        with memo.batch_scope():
            assert not memo.in_batch()
            memo.prime("k", "primed")
            assert memo.memoized("k", lambda: calls.append(1) or len(calls)) == 1
            assert memo.memoized("k", lambda: calls.append(1) or len(calls)) == 2
    finally:
        memo.SHARE_IN_BATCH = original
    with memo.batch_scope():
        assert memo.memoized("k", lambda: calls.append(1) or len(calls)) == 3
        assert memo.memoized("k", lambda: calls.append(1) or len(calls)) == 3
