"""The delivery sections of ``docs/performance.md``: throughput and latency at
each ESP latency, the paced run, the sizing table, django-post-office's
grid, database connections in Celery workers, worker memory and TCP
connections over a long run (``bench/report.py`` puts the page together)."""

from __future__ import annotations

from bench.report_common import (
    SYSTEMS,
    _f,
    _headline,
    _mean_in_flight,
    _ms,
    _ratio,
    _runs,
    _table,
    _x,
)


def _in_flight_ceiling(t: dict) -> str:
    om = t.get("order_mail_settings") or {}
    threads = om.get("DELIVERY_CONCURRENCY")
    return f"{t['concurrency']} × {threads}" if threads else str(t["concurrency"])


def _throughput(t: dict, render: dict | None, cpus: int = 2) -> list[str]:
    runs = _runs(t)
    latencies = t["latencies"]
    head = _headline(t)
    systems = [s for s in SYSTEMS if any(k[2] == s for k in runs)]
    # The comparison at a glance: emails/s per latency and mode.
    rows = []
    for latency in latencies:
        for mode in ("burst", "drain"):
            cells = [runs.get((latency, mode, s)) for s in systems]
            if not any(cells):
                continue
            ratio, _o, _t = _ratio(runs, latency, mode)
            ratio_default, _o, _t = _ratio(runs, latency, mode, "post_office_default")
            rows.append(
                [_ms(latency), mode]
                + [_f(x["per_second"]) if x else "—" for x in cells]
                + [f"**{_x(ratio)}**" if ratio else "—", _x(ratio_default) if ratio_default else "—"]
            )
    glance = _table(
        [
            "ESP latency",
            "mode",
            *[f"{SYSTEMS[s]}, emails/s" for s in systems],
            "order-mail ÷ post_office best",
            "order-mail ÷ post_office defaults",
        ],
        rows,
    )
    detail = []
    for latency in latencies:
        for mode in ("burst", "drain"):
            for s in systems:
                x = runs.get((latency, mode, s))
                if not x:
                    continue
                lat = x["latency"]
                settings = ""
                if s.startswith("post_office"):
                    po = x["settings"]
                    settings = f" ({po['processes']}/{po['threads']}/{po['batch_size']})"
                detail.append(
                    [
                        _ms(latency),
                        mode,
                        SYSTEMS[s] + settings,
                        _f(x["per_second"]),
                        _f(lat["p50"] * 1000, 0, " ms") if lat["n"] else "—",
                        _f(lat["p95"] * 1000, 0, " ms") if lat["n"] else "—",
                        _f(x["cpu_ms_per_email"], 1),
                        _f(x["producer_cpu_ms_per_email"], 1),
                        _f(x["sender_cpu_ms_per_email"], 1),
                        _f(x["postgres_cpu_ms_per_email"], 1),
                        _f(x["esp_cpu_ms_per_email"], 2),
                        f"{x['connections']} ({_f(x['connections_per_1000'], 1)})",
                        f"{x['requests']:,}",
                        f"{_mean_in_flight(x)} / {x['max_in_flight']}",
                        x["missing"],
                        _f(100 * x.get("other_cpu_share", float("nan")), 0, " %"),
                    ]
                )
    same = t.get("same_content", {})
    text = [
        f"## Throughput and latency at {', '.join(_ms(v) for v in latencies)} of ESP latency\n",
        "Each run transitions fresh orders with `confirm_payment()` and waits until the fake ESP "
        f"has accepted every confirmation ({t['n']:,} emails per run). emails/s counts, in a burst, from "
        "the first commit to the last ESP acceptance, and in a drain from the moment the senders are up "
        "to the last email recorded as sent (post_office records a batch after its last email, order-mail "
        "each email right after its call); latency is from the commit (taken in an on-commit callback) "
        "to the ESP's acceptance. The fake ESP answers "
        "every API call after the latency of the row (0 ms: at once), holding any number of calls at "
        "once.\n",
        "* **burst**: one producer process transitions all orders as fast as it can while the "
        "senders run. Both systems render each email once: order-mail in the worker, post_office "
        "in the producer before `mail.send()` inside the order's transaction, with the same "
        "templates and css-inline (a post_office shop renders when it queues).\n"
        "* **drain**: all orders committed first, then the senders start: delivery alone. "
        "post_office's queue holds ready-rendered emails here; order-mail still renders each one "
        "in the worker.\n",
        glance,
        "\nEvery run (post_office's settings as processes/threads/batch size):\n",
        _table(
            [
                "ESP latency",
                "mode",
                "system",
                "emails/s",
                "p50 latency",
                "p95 latency",
                "CPU ms/email",
                "producer",
                "senders",
                "PostgreSQL",
                "fake ESP",
                "TCP connections (per 1,000)",
                "API calls",
                "calls in flight, mean / max",
                "lost",
                "other load",
            ],
            detail,
        ),
        "\n*CPU ms/email* counts only the bench's own processes, from `/proc/<pid>/stat` of each process "
        "tree (user + system time, live and reaped children): in a burst the producer (the process that "
        "transitions the orders, with order-mail's background publisher thread) plus the senders (the "
        "celery worker and its pool processes; post_office's loop and the processes `send_queued` forks); "
        "in a drain the senders alone (the producer ran before; its CPU is in the *producer* column). "
        "PostgreSQL (all its processes; the bench is its only client) and the fake ESP are shown apart "
        "and not included. *Calls in flight*: the API calls the ESP held at once, on average (calls × "
        "latency ÷ the run's duration) and at most; a sender's rate is its mean calls in flight ÷ the "
        "latency. *Other load*: the CPU anything else on the machine used during the run (its busy "
        "time less all of the above), in % of one CPU; a run above "
        f"{_f(100 * t.get('other_load_limit', 0.2), 0)} % was repeated once and the quieter one kept"
        + _repeated(t)
        + ". Each row is one run of "
        f"{t['n']:,} emails, not an average.\n",
        f"\nSame content: the ESP compared the HTML of {same.get('pairs', 0):,} order pairs "
        f"(order-mail and post_office at its best, same order, order number blanked): "
        f"{same.get('equal', 0):,} identical.\n",
    ]
    if t.get("batch_note"):
        text.append(f"\norder-mail with `ESP_BATCH_SEND`: {t['batch_note']}.\n")
    text += _throughput_text(t, runs, head, render, cpus)
    text += _paced(t)
    return text


def _repeated(t: dict) -> str:
    runs = [x for x in t.get("runs", []) + t.get("paced", []) if x.get("repeated")]
    if not runs:
        return " (none was)"
    return (
        " ("
        + "; ".join(
            f"{_ms(x['latency_ms'])} {x['mode']} {SYSTEMS.get(x['system'], x['system'])}: "
            + " then ".join(
                f"{_f(rate)} emails/s at {_f(100 * share, 0)} %"
                for rate, share in zip(
                    x["repeated"]["per_second"], x["repeated"]["other_cpu_shares"], strict=True
                )
            )
            for x in runs
        )
        + ")"
    )


def _cpu_per_email(x: dict) -> float:
    """CPU a delivered email costs on this machine, whoever pays it: the
    senders, PostgreSQL and the fake ESP (and the producer in a burst)."""
    own = x["cpu_ms_per_email"]  # senders (+ producer in a burst)
    return own + x["postgres_cpu_ms_per_email"] + x["esp_cpu_ms_per_email"]


def _ceiling(x: dict, cpus: int) -> float:
    """The rate the machine's CPUs allow at that cost, if nothing else ran."""
    cost = _cpu_per_email(x)
    return cpus * 1000 / cost if cost else float("nan")


def _throughput_text(t: dict, runs: dict, head: float, render: dict | None, cpus: int = 2) -> list[str]:
    text = ["### What the figures show\n"]
    burst = _ratio(runs, head, "burst")
    drain = _ratio(runs, head, "drain")
    om = t.get("order_mail_settings") or {}
    batch = runs.get((head, "drain", "order_mail_batch"))
    if burst[0] is not None:
        text.append(
            f"* **End to end (burst) at {_ms(head)}**: order-mail {_f(burst[1]['per_second'])} emails/s, "
            f"post_office at its best {_f(burst[2]['per_second'])} ({_x(burst[0])}). post_office's producer "
            "renders and inserts each email inside the order's transaction, so it shares the CPUs with "
            "its own senders; order-mail's producer only writes a row and publishes an id, and the "
            "workers render and send in parallel. Both share the machine's CPUs with their producer: "
            f"order-mail's burst cost {_f(_cpu_per_email(burst[1]), 1)} ms of CPU per email in all "
            f"(producer {_f(burst[1]['producer_cpu_ms_per_email'], 1)}, senders "
            f"{_f(burst[1]['sender_cpu_ms_per_email'], 1)}, PostgreSQL "
            f"{_f(burst[1]['postgres_cpu_ms_per_email'], 1)}), a ceiling of "
            f"{_f(_ceiling(burst[1], cpus), 0)} emails/s on {cpus} CPUs; post_office's "
            f"{_f(_cpu_per_email(burst[2]), 1)} ms "
            f"(producer {_f(burst[2]['producer_cpu_ms_per_email'], 1)}), "
            f"a ceiling of {_f(_ceiling(burst[2], cpus), 0)}. The producer's share is the transition "
            "with everything the installed apps do in it ([transition overhead](#transition-overhead)). "
            f"Latency under a burst is queueing (p95 {_f(burst[1]['latency']['p95'], 1)} s "
            f"vs {_f(burst[2]['latency']['p95'], 1)} s).\n"
        )
    if drain[0] is not None:
        ours, theirs = drain[1], drain[2]
        text.append(
            f"* **Delivery only (drain) at {_ms(head)}**: order-mail {_f(ours['per_second'])} emails/s, "
            f"post_office at its best {_f(theirs['per_second'])} ({_x(drain[0])})"
            + (f"; order-mail through the batch endpoint {_f(batch['per_second'])}" if batch else "")
            + ". Here the CPUs decide, not the ESP: each email order-mail delivers costs "
            f"{_f(_cpu_per_email(ours), 1)} ms of CPU on this machine (senders "
            f"{_f(ours['sender_cpu_ms_per_email'], 1)}, "
            f"PostgreSQL {_f(ours['postgres_cpu_ms_per_email'], 1)}, "
            f"fake ESP {_f(ours['esp_cpu_ms_per_email'], 1)}), so {cpus} CPUs deliver at most "
            f"{_f(_ceiling(ours, cpus), 0)} emails/s"
            + (
                f" ({_f(_cpu_per_email(batch), 1)} ms and {_f(_ceiling(batch, cpus), 0)} emails/s through "
                "the batch endpoint)"
                if batch
                else ""
            )
            + f"; post_office's cost {_f(_cpu_per_email(theirs), 1)} ms, a ceiling of "
            f"{_f(_ceiling(theirs, cpus), 0)}. post_office's queue holds emails rendered when they were "
            "queued: its senders only hand them to the ESP and record a whole batch with one `UPDATE` and "
            "one bulk insert of `Log` rows after the batch went out. order-mail renders at send time (a "
            "corrected address or item is honoured, and a template error fails one email, not the order's "
            "transaction"
            + (f": {_f(render['render_ms'], 1)} ms per email" if render else "")
            + ") and records each email in its own commit right after its ESP call, so a sender killed "
            "mid-batch re-sends at most the emails it had in flight, where post_office re-sends every "
            "email of the batch the ESP had already accepted (its rows are still `queued`)."
            + _one_batch_note(t, theirs)
            + "\n"
        )
    calls = []
    for s in SYSTEMS:
        x = runs.get((head, "drain", s))
        if x:
            calls.append(f"{SYSTEMS[s]} {_mean_in_flight(x)} on average, {x['max_in_flight']} at most")
    if calls and om:
        text.append(
            "* **ESP latency** bounds a sender by the calls it keeps in flight: its rate is at most calls "
            f"in flight ÷ latency. order-mail keeps up to {_in_flight_ceiling(t)} (worker processes × "
            "`DELIVERY_CONCURRENCY`) calls in flight: a `send_emails` task hands its emails to the "
            "process's sending threads as they come free, each email recorded right after its own call, "
            "and while fewer emails wait than threads are free it claims further due rows itself "
            f"(`DELIVERY_KEEP_CLAIMING`, {om.get('DELIVERY_KEEP_CLAIMING', 'n/a')} s; up to "
            f"`DELIVERY_BATCH_SIZE`, {om['DELIVERY_BATCH_SIZE']}, at a time, `SKIP LOCKED`), so no thread "
            "waits for the slowest email of a batch or for the next broker message. With `ESP_BATCH_SEND` "
            "each thread makes one batch call at a time. post_office keeps up to processes × "
            "`THREADS_PER_PROCESS`, and each `send_queued` call waits for the slowest email of its batch "
            "before it records the batch and takes the next. Calls in flight during the "
            f"{_ms(head)} drain: " + "; ".join(calls) + ". Where the mean stays below the threads, the "
            "CPUs, not the threads, are what the senders wait for.\n"
        )
    conns = []
    for s in SYSTEMS:
        x = runs.get((head, "drain", s))
        if x:
            conns.append(f"{SYSTEMS[s]} {x['connections']} ({_f(x['connections_per_1000'], 1)} per 1,000)")
    if conns:
        text.append(
            f"* **TCP connections** to the ESP in the {_ms(head)} drain of {t['n']:,} emails: "
            + "; ".join(conns)
            + ". order-mail opens one per sending thread the first time it sends and keeps it open for "
            "the life of the worker process (a transient error closes it; the next send opens a new one), "
            "so what one run of "
            f"{t['n']:,} counts is the threads that sent, up to {_in_flight_ceiling(t)}; over a long run "
            "the count per 1,000 emails tends to zero ([worker memory](#worker-memory) counts the "
            "connections of a long run). post_office opens one per sending thread per `send_queued` "
            "call and closes them all at the end of the call, so its count grows with the number of "
            "batches (the burst runs, where the loop finds small batches, open more).\n"
        )
    return text


def _one_batch_note(t: dict, theirs: dict) -> str:
    settings = theirs.get("settings") or {}
    if settings.get("batch_size", 0) < t["n"]:
        return ""
    grid = t.get("post_office_grid") or {}
    text = (
        f" With `BATCH_SIZE` {settings['batch_size']}, post_office at its best took all {t['n']:,} emails "
        "of a drain in one `send_queued` call (its processes forked once), so each drain figure is one "
        "call's"
    )
    if grid.get("n"):
        text += f"; its grid, with {grid['n']:,} emails per run, is the longer measurement"
    return text + "."


def _paced(t: dict) -> list[str]:
    paced = {x["system"]: x for x in t.get("paced", [])}
    ours, theirs = paced.get("order_mail"), paced.get("post_office_best")
    if not ours or not theirs:
        return []
    rows = [
        [
            SYSTEMS[x["system"]],
            f"{x['n']:,}",
            _f(x["latency"]["p50"] * 1000, 0, " ms"),
            _f(x["latency"]["p95"] * 1000, 0, " ms"),
            _f(x["latency"]["max"] * 1000, 0, " ms"),
            f"{_mean_in_flight(x)} / {x['max_in_flight']}",
            _f(x.get("emails_per_task"), 1),
            x["missing"],
        ]
        for x in (ours, theirs)
    ]
    latency = t["paced_latency_ms"]
    text = [
        f"### Latency at a steady rate (paced, {_ms(latency)} ESP latency)\n",
        f"{t['paced_rate']} orders/s, half the slower of the two burst rates at that latency: the "
        "latency a customer sees on a normal day, commit to ESP acceptance (the ESP latency included). "
        "order-mail pushes each id to the broker after the commit; post_office is polled, here every "
        "50 ms, in production usually once a minute by cron.\n",
        _table(
            [
                "system",
                "emails",
                "p50",
                "p95",
                "max",
                "calls in flight, mean / max",
                "emails per task",
                "lost",
            ],
            rows,
        ),
    ]
    p95 = ours["latency"]["p95"] * 1000
    if p95 > 10 * max(latency, 20):
        text.append(
            f"\norder-mail did not keep up at this rate: its p95 of {_f(p95, 0)} ms is queueing, not the "
            f"ESP ({_mean_in_flight(ours)} calls in flight on average, {ours['max_in_flight']} at most, "
            f"for {_in_flight_ceiling(t)} sending threads).\n"
        )
    else:
        text.append(
            f"\nAt a steady trickle the background publisher hands the ids over one or two at a time "
            f"({_f(ours.get('emails_per_task'), 1)} emails per claim here); a task whose threads have room "
            "keeps looking for rows committed meanwhile, so no email waits behind another's ESP call or "
            f"for its broker message: the calls in flight follow the orders ({_mean_in_flight(ours)} on "
            f"average, {ours['max_in_flight']} at most, for {_in_flight_ceiling(t)} sending threads), and an "
            "email's latency is the ESP's plus the publisher's linger and a claim.\n"
        )
    return text


def _stock(stock: dict, t: dict) -> list[str]:
    tuned = _runs(t).get((stock["latency_ms"], "drain", "order_mail")) if "runs" in t else None
    if not tuned:
        return []
    return [
        "## Database connections in Celery workers\n",
        "Celery's Django fix-up closes the task thread's database connections before and after each "
        "task unless `CELERY_DB_REUSE_MAX` is set, so by default every task opens a new PostgreSQL "
        "connection (the sending threads keep their own). The bench workers set "
        "`CELERY_DB_REUSE_MAX = 1000` and call Django's `close_old_connections()` around each task "
        "(`bench/celery_app.py`), so a broken connection is dropped after one failed task. Drain of "
        f"{stock['n']:,} emails at {_ms(stock['latency_ms'])} ESP latency:\n",
        _table(
            ["worker setting", "drain emails/s"],
            [
                ["Celery default (new connection per task)", _f(stock["per_second"])],
                ["`CELERY_DB_REUSE_MAX = 1000`", _f(tuned["per_second"])],
            ],
        ),
    ]


def _memory(m: dict) -> list[str]:
    rows = [
        [f"{row['sent']:,}", _f(row["main_mib"], 1), " / ".join(_f(v, 1) for v in row["pool_mib"])]
        for row in m["table"]
    ]
    return [
        "## Worker memory\n",
        f"{m['n']:,} emails sent by {m['pool_processes']} pool processes in {_f(m['seconds'] / 60, 1)} "
        f"minutes ({_f(m['rate'])} emails/s), RSS read from `/proc` every 2 s. After warm-up (10 % of "
        f"the sends) the pool processes grew by at most {_f(m['max_growth_mib'], 1, ' MiB')}, "
        f"{_f(m.get('second_half_growth_mib'), 1, ' MiB')} of it in the second half of the run "
        f"(least-squares slope {_f(m['max_slope_mib_per_10k'], 2, ' MiB')} per 10,000 sends): "
        f"**{'flat' if m['flat'] else 'growing'}** (flat: under 5 MiB after warm-up and under 2 MiB "
        "in the second half).\n",
        _table(["sent", "main process MiB", "pool processes MiB"], rows),
        *_long_run_connections(m),
    ]


def _long_run_connections(m: dict) -> list[str]:
    """TCP connections to the ESP over the memory run: what keep-alive
    gives a worker that runs for a while."""
    if not m.get("connections"):
        return []
    threads = m["pool_processes"] * m["threads_per_process"]
    return [
        f"\nThe same run opened {m['connections']:,} TCP connections to the ESP for {m['n']:,} emails "
        f"in {m['requests']:,} API calls: {_f(m['connections'] / m['n'] * 1000, 2)} per 1,000 emails, "
        f"{_f(m['connections'] / threads, 2)} per sending thread ({m['pool_processes']} processes × "
        f"{m['threads_per_process']} threads). Each thread opens one when it first sends and keeps it "
        "for the life of its process; a transient error (a reset, a 5xx) closes it and the next send "
        "opens another.\n"
    ]
