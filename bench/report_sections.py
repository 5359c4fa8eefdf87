"""The other sections of ``docs/performance.md``: the transition overhead,
where one email's time goes, the hand-written machinery, the send-log admin
and the fake ESP's capacity (``bench/report.py`` puts the page together)."""

from __future__ import annotations

from pathlib import Path

from bench.report_common import (
    ROOT,
    _f,
    _small_ms,
    _table,
    _x,
)


def _overhead(o: dict) -> list[str]:
    po = o.get("post_office") or {}
    blocks = o.get("blocks", 10)

    def spread(values):
        return f"{_f(min(values), 2)}–{_f(max(values), 2)}×" if values else ""

    rows = [
        [
            "mail on (order-mail)",
            f"{_f(o['enabled_ms'], 2)} ms",
            f"{_f(o['enabled_mean_ms'], 2)} ms",
            o["queries_enabled"],
            f"{_x(o['ratio'])} ({spread(o.get('block_ratios', []))})",
        ],
        [
            "mail off",
            f"{_f(o['disabled_ms'], 2)} ms",
            f"{_f(o['disabled_mean_ms'], 2)} ms",
            o["queries_disabled"],
            "1×",
        ],
        [
            "difference, order-mail",
            f"{_f(o['extra_ms'], 2)} ms",
            "",
            o["queries_enabled"] - o["queries_disabled"],
            "",
        ],
    ]
    core = o.get("core")
    if core:
        rows.insert(
            1,
            [
                "mail on, without the feature apps' `email_queued` receivers",
                f"{_f(core['median_ms'], 2)} ms",
                f"{_f(core['mean_ms'], 2)} ms",
                core["queries"],
                f"{_x(core['ratio'])} ({spread(core.get('block_ratios', []))})",
            ],
        )
    for mode, label in (
        ("po_prerendered", "django-post-office `mail.send()`, content rendered beforehand"),
        ("po_render", "django-post-office `mail.send()`, rendering in the transaction"),
    ):
        x = po.get(mode)
        if x:
            rows.append(
                [
                    label,
                    f"{_f(x['median_ms'], 2)} ms",
                    f"{_f(x['mean_ms'], 2)} ms",
                    x["queries"],
                    f"{_x(x['ratio'])} ({spread(x.get('block_ratios', []))})",
                ]
            )
    text = [
        "## Transition overhead\n",
        f"`order.confirm_payment(); order.save()` in `transaction.atomic()`, {o['n_each']:,} orders per "
        f"mode in {blocks} alternating blocks (each block runs every mode, in an order rotated block by "
        "block), median per transition. *Mail on* is what a shop with every feature app of the test "
        "shop installed pays (`tests/settings.py`: tracking, feedback, carts, reviews, recommendations, "
        "...); the row without the feature apps' `email_queued` receivers is the same with those "
        "receivers disconnected (the core's own cost, staff notifications included). *Mail off* is the "
        'same code with `ORDER_MAIL["ENABLED"] = False` (the FSM transition, the signal receivers and the '
        "conditional `UPDATE` still run). The django-post-office rows are mail off plus its "
        "`mail.send()` in the same transaction, as a post_office shop queues the confirmation: with "
        "the content rendered beforehand (outside the timed transaction), and rendering in the "
        "transaction, its usual pattern (a template or `render_to_string` before `mail.send()`; here "
        "the same templates and css-inline order-mail renders with). *vs mail off* is the ratio of "
        "the medians (in brackets: the lowest and highest of the same ratio within each block).\n",
        _table(["", "median", "mean", "SQL statements", "vs mail off"], rows),
        _overhead_text(o),
        "Statements with mail on:\n",
        "```text\n" + "\n".join(o["sql_enabled"]) + "\n```\n",
    ]
    if po.get("po_prerendered"):
        text += [
            "Statements of django-post-office's `mail.send()` in the transaction:\n",
            "```text\n" + "\n".join(po["po_prerendered"]["sql"]) + "\n```\n",
        ]
    return text


def _overhead_text(o: dict) -> str:
    if "insert_ms" not in o:  # figures of an older bench
        return "\n"
    floor = (o["disabled_ms"] + o["insert_ms"]) / o["disabled_ms"]
    text = (
        "\nWhere order-mail's difference goes, each part timed on its own (medians, each in a "
        "transaction rolled back): all of `enqueue()` for what `confirm_payment()` queues (the "
        "customer's confirmation and the staff's new-order and high-value-order emails) "
        f"{_f(o['enqueue_ms'], 2)} ms"
    )
    parts = []
    for what, ms in (o.get("receivers_ms") or {}).items():
        parts.append(f"{what} (an `email_queued` receiver, in the order's transaction) {_small_ms(ms)}")
    if "staff_lookup_ms" in o:
        parts.append(
            "the staff notifications' lookup (which staff to tell, a `SELECT` even when nobody was set up) "
            f"{_f(o['staff_lookup_ms'], 2)} ms"
        )
    if "customer_enqueue_ms" in o:
        parts.append(
            "the customer's email alone (the order's hooks, building the row, the insert) "
            f"{_f(o['customer_enqueue_ms'], 2)} ms, of which the `INSERT ... ON CONFLICT DO NOTHING "
            f"RETURNING` statement {_f(o['insert_ms'], 2)} ms"
        )
    if parts:
        text += ": " + "; ".join(parts)
    text += (
        f". Handing the id to the background publisher after commit takes {_f(o['handoff_ms'], 3)} ms; "
        f"publishing to Redis ({_f(o['publish_ms'], 2)} ms) is paid by the publisher thread, not the "
        "request. The test shop's order is minimal (one `UPDATE`, a "
        f"{_f(o['disabled_ms'], 2)} ms transaction), so the ratio is a worst case: any outbox must "
        "write its row in the order's transaction, and that statement alone makes "
        f"{_f(floor, 2)}× here. A real checkout's transaction does far more, and the absolute cost, "
        f"{_f(o['extra_ms'], 2)} ms per transition, is the figure to weigh."
    )
    po = o.get("post_office") or {}
    if po.get("po_prerendered") and po.get("po_render"):
        text += (
            f" django-post-office's `mail.send()` adds {_f(po['po_prerendered']['extra_ms'], 2)} ms to the "
            f"same transaction when the content is ready, and {_f(po['po_render']['extra_ms'], 2)} ms when "
            "it renders there; order-mail renders in the worker, after the commit."
        )
    return text + "\n"


def _render(x: dict) -> list[str]:
    rows = [[k, _f(v, 2, " ms"), _f(100 * v / x["total_ms"], 0, " %")] for k, v in x["stages_ms"].items()]
    rows.append(["**total, one email**", f"**{_f(x['total_ms'], 2, ' ms')}**", "100 %"])
    return [
        "## Where one email's time goes\n",
        f"`deliver_batch()` (what the `send_emails` task runs) over {x['n']:,} emails in batches of "
        f"{x.get('batch_size', 1)}, in one process and one sending thread against the fake ESP answering "
        "at once (no Celery), with timers around "
        "each stage (`bench/render_cost.py`); per-batch stages are divided by the emails. Render = "
        f"context + templates + css-inline: **{_f(x['render_ms'], 2)} ms, "
        f"{_f(100 * x['render_share'], 0)} %** of the send path. One email costs "
        f"{_f(x['queries_per_email'], 1)} SQL statements on average (the batch's statements below).\n",
        _table(["stage", "mean", "share"], rows),
        "\n```text\n" + "\n".join(x["sql"]) + "\n```\n",
    ]


MACHINERY_HEADING = "## What the hand-written machinery buys"
#: Sections that follow it in the page (where a first splice puts it).
_AFTER_MACHINERY = (
    "## Database connections in Celery workers",
    "## Worker memory",
    "## Send-log admin",
    "## The fake ESP is not the bottleneck",
)
GUARDS = "tests/test_machinery_guards.py"


def _saved_machinery() -> dict | None:
    """``bench/results/machinery.json``: the machinery bench may run alone."""
    import json

    path = ROOT / "bench" / "results" / "machinery.json"
    return json.loads(path.read_text()) if path.exists() else None


def _machine_line(m: dict) -> str:
    pg = m.get("postgres", {})
    return (
        f"{m.get('nproc')} CPUs ({m.get('cpu')}), {m.get('memory_gib')} GiB, Linux {m.get('kernel')}, "
        f"Python {m.get('python')}, Django {m.get('django')}, PostgreSQL {pg.get('version')} on 127.0.0.1 "
        f"(synchronous_commit={pg.get('synchronous_commit')}, fsync={pg.get('fsync')})"
    )


def _spread(x: dict) -> str:
    ratios = x.get("vs_on_per_block") or [x["vs_on"]]
    return f"{_f(min(ratios), 2)}–{_f(max(ratios), 2)}×"


def _cell(x: dict) -> str:
    return f"{_f(x['median_ms'], 3)} ms"


def _machinery(m: dict) -> list[str]:
    ins, rec, blk, memo = m["insert"], m["record"], m["blocks"], m["memo"]
    ins_on, ins_per_row, ins_bulk = ins["on"], ins["per_row"], ins["bulk_create"]
    rec_on, rec_off = rec["on"], rec["off"]
    blk_on, blk_off = blk["on"], blk["off"]
    memo_on, memo_off = memo["on"], memo["off"]

    def row(piece, operation, on, off, off_label):
        return [
            piece,
            operation,
            _cell(on),
            f"{_cell(off)} ({off_label})",
            f"{_f(off['vs_on'], 2)}× ({_spread(off)})",
            f"{_f(off['median_ms'] - on['median_ms'], 3)} ms",
        ]

    rows = [
        row(
            "outbox insert",
            "one row, in the order's transaction",
            ins_on,
            ins_per_row,
            "`InsertQuery` compiled per row",
        ),
        row("", "", ins_on, ins_bulk, "`bulk_create(ignore_conflicts=True)` + read-back `SELECT`"),
        row(
            "outcome record",
            "one sent email, committed",
            rec_on,
            rec_off,
            "`update()` + `EmailLog.objects.create()` in `atomic`",
        ),
        row(
            "block renderer",
            f"subject + plain + html of `{blk['template']}` ({blk['html_chars']:,} chars of HTML)",
            blk_on,
            blk_off,
            "django-render-block's `django_render_block`",
        ),
        row(
            "batch memo",
            f"`deliver_batch()` of {memo['batch_size']}, per email ({_f(memo_on['queries_per_email'], 1)} "
            f"vs {_f(memo_off['queries_per_email'], 1)} SQL statements)",
            memo_on,
            memo_off,
            "`memo.SHARE_IN_BATCH = False`",
        ),
    ]
    compared = (
        ("the outbox insert against `InsertQuery` compiled per row", ins_per_row),
        ("the outbox insert against `bulk_create`", ins_bulk),
        ("the outcome record", rec_off),
        ("the block renderer", blk_off),
        ("the batch memo", memo_off),
    )
    clear = [name for name, off in compared if min(off.get("vs_on_per_block") or [off["vs_on"]]) > 1]
    unclear = [name for name, off in compared if name not in clear]
    verdict = f"The public way was slower in every one of the {m['alternating_blocks']} blocks for " + (
        ", ".join(clear) if clear else "none of the pieces"
    )
    if unclear:
        verdict += (
            f"; not in every block for {', '.join(unclear)}: there the gain is within this machine's "
            "noise, and no more than the *saved* column says"
        )
    verdict += ".\n"
    return [
        f"{MACHINERY_HEADING}\n",
        "Four pieces of the hot path do by hand what Django, or django-render-block, does through its "
        "public API, and rely on internals that any release may change. Each stays only for what it buys "
        "here, with a test that fails loudly when what it relies on changes. `bench/machinery.py` times each "
        f"piece on and off in {m['alternating_blocks']} alternating blocks of one run, in one process, "
        "on PostgreSQL; figures are medians per operation, *off / on* is how many times the public way "
        "costs (in brackets: the lowest and highest of the same ratio within each block), *saved* the "
        "difference.\n",
        f"Measured on {m['date']} by `python -m bench.machinery` (also the `machinery` section of "
        f"`bench/run.sh`), in {_f(m['seconds'], 0)} s, on {_machine_line(m['machine'])}; the CPUs were "
        f"{_f(100 * m['idle_before'], 0)} % idle before the run and {_f(100 * (1 - m['idle_during']), 0)} % "
        "busy during it (the bench and anything else running). Raw figures in "
        "`bench/results/machinery.json`.\n",
        _table(["piece", "operation", "on", "off", "off / on", "saved"], rows),
        verdict,
        "* **Outbox insert** (`django_order_mail/outbox/insert.py`): builds Django's `InsertQuery` "
        "(`insert_values()`, `SQLInsertCompiler.as_sql()`) once per connection, appends `RETURNING` by "
        "hand, and prepares each later row's parameters with the fields' `pre_save()` and "
        "`get_db_prep_save()`, as the compiler does. *Off* is the module's own switch "
        "(`_single_row_sql[alias] = None`: Django compiles every row) and, further, what `enqueue()` "
        "does on other databases. Guarded by "
        f"`{GUARDS}::test_the_insert_fast_path_stays_on_and_reuses_exactly_what_djangos_compiler_gives` "
        "(fresh rows get exactly the compiler's statement and parameters, and the fast path has not "
        "switched itself off), `::test_the_insert_fast_path_stays_on_while_the_clock_runs` (the "
        "`auto_now` times, prepared twice a moment apart, do not switch it off) and "
        "`::test_the_insert_is_djangos_bulk_create_statement_with_returning` (the "
        "statement as the database receives it is `bulk_create(ignore_conflicts=True)`'s plus "
        "`RETURNING`); on PostgreSQL also `tests/integration/test_postgres_statements.py`.\n"
        "* **Outcome record** (`django_order_mail/delivery/record.py`): compiles the conditional "
        "`UPDATE` as `QuerySet.update()` does (`Query.chain(UpdateQuery)`, `add_update_values()`, "
        "`SQLUpdateCompiler.as_sql()`) without running it, to put it in `WITH updated AS (... RETURNING "
        "id) INSERT INTO` the log: one round trip instead of `BEGIN`, `UPDATE`, `INSERT`, `COMMIT`. *Off* "
        "is the module's switch `ONE_STATEMENT_ON_POSTGRESQL = False` (what other databases run). Guarded "
        f"by `{GUARDS}::test_the_compiled_update_is_the_statement_queryset_update_runs` (SQL and values "
        "equal `update()`'s as the database receives them, and `record_outcome()` runs exactly that "
        "inside its `WITH`) and `tests/integration/test_postgres_statements.py`.\n"
        "* **Block renderer** (`django_order_mail/rendering/blocks.py`): collects each template's "
        "`BlockNode`s once and renders through `BlockContext`, `BLOCK_CONTEXT_KEY`, "
        "`ExtendsNode.get_parent()` / `parent_name` and `RenderContext.push_state()`, where "
        "django-render-block walks the template tree for every block. Guarded by "
        "`tests/test_render_blocks.py` (the same output as django-render-block for every packaged "
        f"template, cached or not) and `{GUARDS}::test_the_three_blocks_are_what_djangos_full_render_gives`, "
        "`::test_block_super_and_nested_blocks_render_as_the_whole_template_does` (the blocks are what "
        "Django's public `Template.render()` of the whole template gives) and "
        "`::test_a_packaged_template_is_walked_once_then_rendered_from_its_cached_blocks` (the cache "
        "still holds for the packaged templates).\n"
        "* **Batch memo** (`django_order_mail/memo.py`): a context variable; it reaches into nothing of "
        "Django. It relies on an answer not changing within one batch (well under a second). *Off* is "
        "`SHARE_IN_BATCH = False`: each email looks up its template, shipments, A/B tests and "
        "suppression entries itself (the orders are still read in one query). Anymail's test backend "
        "stands in for the ESP here, so the figure is the batch's own work. Guarded by "
        f"`{GUARDS}::test_a_batch_renders_exactly_what_each_email_renders_alone` and "
        "`tests/test_delivery_batch.py::test_memo_is_per_batch_only`.\n",
    ]


def splice_machinery(m: dict, path: Path) -> None:
    """Replace (or add) only the machinery section of an existing page."""
    text = path.read_text()
    section = "\n".join(_machinery(m))
    if MACHINERY_HEADING in text:
        start = text.index(MACHINERY_HEADING)
        end = text.find("\n## ", start + len(MACHINERY_HEADING))
        text = text[:start] + section + ("\n" + text[end + 1 :] if end >= 0 else "")
    else:
        at = [text.index(h) for h in _AFTER_MACHINERY if h in text]
        if at:
            text = text[: min(at)] + section + "\n" + text[min(at) :]
        else:
            text = text.rstrip("\n") + "\n\n" + section
    path.write_text(text)


ADMIN_HEADING = "## Send-log admin"


def _admin(a: dict) -> list[str]:
    text = [
        ADMIN_HEADING + "\n",
        f"Measured by `bench/admin_changelist.py` (`{a['command']}`, exit code {a['code']}), "
        "its output as printed:\n",
        "```text\n" + a["output"].strip() + "\n```\n",
    ]
    if "search: part of" in a["output"]:
        text.append(
            "The searches by part of a name or address are answered by the trigram GIN indexes on "
            "`UPPER(recipient)` and `UPPER(customer_name)` (PostgreSQL's `pg_trgm`, migration "
            "`django_order_mail.0003`); a term that matches a large share of the log is read newest "
            "first and stops at the page's 50 rows, and a searched list counts at most 1,000 matching "
            "rows. The line *insert of one email row* is what the two indexes add to writing one email.\n"
        )
    if "with the with-body index" in a["output"]:
        text.append(
            "The line *update of one email row to sent* is what the partial index "
            "`order_mail_with_body_idx` (migration `django_order_mail.0010`) adds to recording a sent "
            "email with its bodies: it lists the rows that still hold a body, so that retention's body "
            "stripping reads only those (*Growth* below, and the data-protection page). A queued row has "
            "no body and no entry. Both lines come from `bench/index_cost.py`: two empty copies of the "
            "send-log table, with and without the index, the same rows written into each in turn, one "
            "committed statement per row.\n"
        )
    return text


def splice_admin(a: dict, path: Path) -> None:
    """Replace (or add) only the send-log admin section of an existing page:
    ``python -m bench.admin_changelist --report`` after measuring."""
    text = path.read_text()
    section = "\n".join(_admin(a))
    if ADMIN_HEADING in text:
        start = text.index(ADMIN_HEADING)
        end = text.find("\n## ", start + len(ADMIN_HEADING))
        text = text[:start] + section + ("\n" + text[end + 1 :] if end >= 0 else "")
    else:
        text = text.rstrip("\n") + "\n\n" + section
    path.write_text(text)


def _esp(e: dict, t: dict | None) -> list[str]:
    ceiling = 1000 / e["esp_cpu_seconds_per_1000"] if e["esp_cpu_seconds_per_1000"] else float("nan")
    text = [
        "## The fake ESP is not the bottleneck\n",
        f"{e['clients']} processes sending through Anymail's Postmark backend at once, no database, "
        f"the ESP answering at once, reached {_f(e['per_second'], 0)} messages/s — bound by the clients "
        "(Anymail and requests build and parse each message), not the ESP, which spent "
        f"{_f(e['esp_cpu_seconds_per_1000'], 2)} CPU-seconds per 1,000 messages: a ceiling of about "
        f"{_f(ceiling, 0)} messages/s on one CPU. Its latency is an `asyncio.sleep` per call, so calls "
        "wait side by side, not in line.",
    ]
    runs = (t or {}).get("runs") or []
    if runs:
        top = max(x["per_second"] for x in runs)
        share = max(x["esp_cpu_share"] for x in runs)
        text.append(
            f" The fastest run above ({_f(top)} emails/s) used {_f(100 * top / ceiling, 0)} % of that, "
            f"and the ESP never took more than {_f(100 * share, 1)} % of one CPU during a run.\n"
        )
    return text
