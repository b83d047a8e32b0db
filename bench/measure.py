"""Measure debt_recovery on the benchmark databases, side by side with OCA.

Usage (from scripts/bench.sh, which sets up Odoo, the OCA wheel and the paths):
    python bench/measure.py run --sizes small medium --runs 3 --out bench/RESULTS.md \\
        --addons-path ODOO_ADDONS,REPO --oca-path OCA_ADDONS

Every figure comes from a fresh copy of the size's template database
(``dr_bench_<size>``, built by ``scripts/bench.sh build <size>``), measured in
a fresh process (so that peak memory is the run's own), after ANALYZE and a
CHECKPOINT (the writes of the copy and of the previous probe done). Each
figure is the median of ``--runs`` runs. The runs happen "on" the day the data
was generated (kept in the database), and "the next day" is that day + 1.
"""

import argparse
import contextlib
import json
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import time
import urllib.request
from datetime import date, datetime, timedelta

HERE = os.path.dirname(os.path.abspath(__file__))
FILESTORE = os.path.expanduser("~/.local/share/Odoo/filestore")
# The equivalent ladder on both sides: days after the due date.
LADDER = (7, 21, 35, 60, 75)
LETTERS = 200
FACTS_SQL = """
    SELECT (SELECT count(*) FROM account_move
             WHERE move_type IN ('out_invoice', 'out_refund')),
           (SELECT count(DISTINCT partner_id) FROM account_move
             WHERE move_type = 'out_invoice'),
           (SELECT count(*) FROM account_move_line l
              JOIN account_account a ON a.id = l.account_id
             WHERE a.account_type = 'asset_receivable' AND NOT l.reconciled
               AND l.parent_state = 'posted' AND l.date_maturity < current_date),
           (SELECT count(*) FROM res_company),
           (SELECT coalesce(max(value), '0') FROM ir_config_parameter
             WHERE key = 'debt_recovery_bench.build_seconds')
"""


# ---------------------------------------------------------------------------
# Probes: one measurement, in its own process, printing one JSON line
# ---------------------------------------------------------------------------


def open_registry(db, addons_path):
    import odoo

    odoo.tools.config.parse_config(
        ["--db_host=", f"--addons-path={addons_path}", "-d", db, "--log-level=warn"]
    )
    return odoo.modules.registry.Registry(db)


def bench_day(env):
    value = env["ir.config_parameter"].sudo().get_param("debt_recovery_bench.date")
    return date.fromisoformat(value) if value else date.today()


def rss_mb():
    with open("/proc/self/statm", encoding="ascii") as handle:
        return int(handle.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def peak_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def timed(env, func):
    """Wall time, queries and memory of ``func()`` run and committed."""
    cr = env.cr
    env.flush_all()
    before_mem = rss_mb()
    queries = cr.sql_log_count
    start = time.perf_counter()
    result = func()
    env.flush_all()
    cr.commit()
    seconds = time.perf_counter() - start
    return {
        "seconds": seconds,
        "queries": cr.sql_log_count - queries,
        "peak_mb": peak_mb(),
        "growth_mb": max(0.0, peak_mb() - before_mem),
        "result": result,
    }


def analyze(cr):
    """Fresh planner statistics, and a quiet server: the checkpoint writes out
    what the copy and the previous probe left dirty, so that its writes do not
    fall inside the measured run (a spread checkpoint lasts minutes)."""
    cr.execute("ANALYZE")
    cr.commit()
    cr.execute("CHECKPOINT")
    cr.commit()


def configure_ours(env):
    """Our default policies on the benchmark ladder, as OCA escalates.

    Same delays as OCA's levels; one level per run, no minimum gap between
    two levels (OCA has none): on the next day, items past the second delay
    climb to it, as OCA's lines do.
    """
    for policy in env["debt.recovery.policy"].search([("is_default", "=", True)]):
        policy.climb_one_level = True
        policy.level_ids.filtered(lambda level: level.days not in LADDER).unlink()
        policy.level_ids.write({"min_days_since_previous": 0})
    env.cr.commit()


def probe_ours_escalation(env, day):
    """The day's crons in their order: the case sync (02:00: cases opened for
    customers with overdue items, closed when paid) measured on its own, then
    the escalation (03:00: levels, communications queued)."""
    Communication = env["debt.recovery.communication"]
    Case = env["debt.recovery.case"]
    configure_ours(env)
    cases_before = Case.search_count([])
    sync = timed(env, Case._cron_sync_cases)
    sync.pop("result")
    sync["opened"] = Case.search_count([]) - cases_before
    # An hour passes before the escalation: the server has written out what
    # the sync changed and refreshed its statistics (autovacuum) by then.
    analyze(env.cr)

    def run():
        Communication._cron_escalate()
        env.cr.execute(
            "SELECT count(*), count(DISTINCT partner_id) FROM debt_recovery_communication "
            "WHERE date = %s",
            [day],
        )
        comms, customers = env.cr.fetchone()
        env.cr.execute(
            "SELECT count(*) FROM debt_recovery_communication_line l "
            "JOIN debt_recovery_communication c ON c.id = l.communication_id WHERE c.date = %s",
            [day],
        )
        return {"communications": comms, "customers": customers, "items": env.cr.fetchone()[0]}

    figures = timed(env, run)
    figures["sync"] = sync
    return figures


def probe_oca_setup(env):
    """The OCA policy with the same delays, default for every company."""
    import oca

    return oca.setup(env, LADDER)


def probe_oca_escalation(env, day):
    import oca

    figures = timed(env, lambda: oca.run(env, day))
    runs = figures.pop("result")
    figures["result"] = {
        "lines": len(runs.line_ids),
        "customers": len(runs.line_ids.partner_id),
    }
    oca.mark_ready(runs)
    env.cr.commit()
    return figures


def web_spec(env, model, node):
    """The web client's read specification for the fields of a view node."""
    spec = {}
    fields = env[model]._fields
    for field_node in node.iter("field"):
        # Only this view's own fields: skip those of embedded sub-views.
        parent, nested = field_node.getparent(), False
        while parent is not None and parent is not node:
            if parent.tag == "field":
                nested = True
                break
            parent = parent.getparent()
        name = field_node.get("name")
        if nested or name not in fields:
            continue
        field = fields[name]
        if field.type == "many2one":
            spec[name] = {"fields": {"display_name": {}}}
        elif field.type in ("one2many", "many2many"):
            sub = next((child for child in field_node if child.tag in ("list", "kanban")), None)
            spec[name] = (
                {"fields": web_spec(env, field.comodel_name, sub), "limit": 40}
                if sub is not None
                else {"fields": {"display_name": {}}}
            )
        else:
            spec[name] = {}
    return spec


def view_arch(env, model, view_type):
    from lxml import etree

    views = env[model].get_views([(False, view_type)])
    return etree.fromstring(views["views"][view_type]["arch"])


def repeat(env, func, times=7):
    """Median server time and queries of ``func`` with cold record caches."""
    samples = []
    for _n in range(times):
        env.invalidate_all()
        before = env.cr.sql_log_count
        start = time.perf_counter()
        func()
        samples.append((time.perf_counter() - start, env.cr.sql_log_count - before))
        env.cr.rollback()
    return {
        "seconds": statistics.median(s for s, _q in samples),
        "queries": statistics.median(q for _s, q in samples),
    }


def probe_ui(env):
    """Case amounts, the kanban board and the customer form, as the web client asks."""
    env["debt.recovery.case"]._sync_cases()
    env.cr.commit()
    Case = env["debt.recovery.case"]
    figures = {}
    # Amounts of every open case (stored and today-dependent).
    open_cases = Case.search([("is_closed", "=", False)])
    amount_fields = [
        name
        for name in ("amount_due", "amount_overdue", "amount_not_due", "oldest_overdue_days")
        if name in Case._fields
    ]
    figures["cases"] = len(open_cases)
    figures["case_amounts"] = repeat(env, lambda: Case.browse(open_cases.ids).read(amount_fields))
    # Kanban board: the groups, their progress bars and the first page of cards.
    kanban = view_arch(env, Case._name, "kanban")
    card_spec = web_spec(env, Case._name, kanban)
    progress = kanban.find(".//progressbar")
    aggregates = [
        f"{field.get('name')}:sum"
        for field in kanban.iter("field")
        if field.get("sum") or field.get("aggregator")
    ]
    if progress is not None and progress.get("sum_field"):
        aggregates.append(f"{progress.get('sum_field')}:sum")

    def board():
        groups = Case.web_read_group(
            [], aggregates or ["__count"], ["stage_id"], lazy=True, orderby="stage_id"
        )
        if progress is not None:
            Case.read_progress_bar(
                [],
                "stage_id",
                {
                    "field": progress.get("field"),
                    "colors": json.loads(progress.get("colors", "{}").replace("'", '"')),
                },
            )
        for group in groups["groups"]:
            if group.get("__fold"):
                continue
            Case.web_search_read(group["__domain"], card_spec, limit=40)

    figures["board"] = repeat(env, board)
    # Customer form of the customer with the most invoices.
    env.cr.execute(
        "SELECT partner_id FROM account_move WHERE move_type = 'out_invoice' "
        "GROUP BY partner_id ORDER BY count(*) DESC, partner_id LIMIT 1"
    )
    partner = env["res.partner"].browse(env.cr.fetchone()[0])
    form_spec = web_spec(env, "res.partner", view_arch(env, "res.partner", "form"))
    figures["form_invoices"] = env["account.move"].search_count(
        [("partner_id", "=", partner.id), ("move_type", "=", "out_invoice")]
    )
    figures["form"] = repeat(env, lambda: env["res.partner"].browse(partner.id).web_read(form_spec))
    # The same form without the recovery fields (all named debt_*): Odoo's own share.
    base_spec = {name: sub for name, sub in form_spec.items() if not name.startswith("debt_")}
    figures["form_base"] = repeat(
        env, lambda: env["res.partner"].browse(partner.id).web_read(base_spec)
    )
    return figures


def probe_letters(env):
    """A batch of letters rendered to one PDF (real wkhtmltopdf, styled).

    The Odoo server of the copy serves the styles to wkhtmltopdf, as in
    production; one letter is printed first so that the asset bundles exist.
    """
    env["ir.config_parameter"].set_param("report.url", os.environ["BENCH_REPORT_URL"])
    Communication = env["debt.recovery.communication"]
    Communication._cron_escalate()
    env.cr.commit()
    letters = Communication.search([], limit=LETTERS, order="id")
    letters[:1]._render_letters_pdf()
    start = time.perf_counter()
    pdf = letters._render_letters_pdf()
    seconds = time.perf_counter() - start
    return {"letters": len(letters), "seconds": seconds, "bytes": len(pdf)}


PROBES = {
    "ours_escalation": probe_ours_escalation,
    "oca_setup": probe_oca_setup,
    "oca_escalation": probe_oca_escalation,
    "ui": probe_ui,
    "letters": probe_letters,
}


def probe_main(args):
    from freezegun import freeze_time

    from odoo import SUPERUSER_ID, api

    registry = open_registry(args.db, args.addons_path)
    with registry.cursor() as cr:
        analyze(cr)
        env = api.Environment(cr, SUPERUSER_ID, {})
        day = bench_day(env) + timedelta(days=args.day)
        # The clock moves on from noon of that day (tick): timings stay real.
        with freeze_time(
            datetime.combine(day, datetime.min.time()) + timedelta(hours=12), tick=True
        ):
            func = PROBES[args.kind]
            result = func(env, day) if "escalation" in args.kind else func(env)
    print("RESULT " + json.dumps(result, default=str), flush=True)


# ---------------------------------------------------------------------------
# Orchestrator
# ---------------------------------------------------------------------------


def psql(sql, db="postgres"):
    subprocess.run(["psql", "-qX", "-d", db, "-c", sql], check=True, stdout=subprocess.DEVNULL)


def copy_db(template, name):
    psql(f'DROP DATABASE IF EXISTS "{name}"')
    # Copied file by file (PostgreSQL 15's default writes the whole copy to
    # the WAL, gigabytes for large, whose checkpoints then overlap the runs).
    psql(f'CREATE DATABASE "{name}" TEMPLATE "{template}" STRATEGY FILE_COPY')
    shutil.rmtree(os.path.join(FILESTORE, name), ignore_errors=True)
    if os.path.isdir(os.path.join(FILESTORE, template)):
        shutil.copytree(os.path.join(FILESTORE, template), os.path.join(FILESTORE, name))


def drop_db(name):
    psql(f'DROP DATABASE IF EXISTS "{name}"')
    shutil.rmtree(os.path.join(FILESTORE, name), ignore_errors=True)


def db_exists(name):
    out = subprocess.run(
        [
            "psql",
            "-qXtA",
            "-d",
            "postgres",
            "-c",
            f"SELECT 1 FROM pg_database WHERE datname='{name}'",
        ],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return out.strip() == "1"


@contextlib.contextmanager
def odoo_server(args, db, addons_path, port=8169):
    """An Odoo server on ``db`` while the block runs: its URL."""
    server = subprocess.Popen(
        [sys.executable, os.path.join(args.odoo_src, "odoo-bin"), "--db_host=", "-d", db]
        + [f"--addons-path={addons_path}", f"--http-port={port}", f"--db-filter=^{db}$"]
        + ["--max-cron-threads=0", "--log-level=warn"],
    )
    url = f"http://127.0.0.1:{port}"
    try:
        for _n in range(120):
            try:
                urllib.request.urlopen(url + "/web/login", timeout=5)  # noqa: S310
                break
            except OSError:
                time.sleep(0.5)
        yield url
    finally:
        server.terminate()
        server.wait(30)


def probe(args, kind, db, addons_path, day=0, url=""):
    cmd = [sys.executable, __file__, "probe", kind, "--db", db, "--addons-path", addons_path]
    cmd += ["--day", str(day)]
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([HERE, args.odoo_src]))
    env["BENCH_REPORT_URL"] = url
    out = subprocess.run(cmd, check=True, capture_output=True, text=True, env=env)
    line = next(line for line in out.stdout.splitlines() if line.startswith("RESULT "))
    return json.loads(line[len("RESULT ") :])


def odoo_bin(args, db, addons_path, *extra):
    subprocess.run(
        [sys.executable, os.path.join(args.odoo_src, "odoo-bin"), "--db_host=", "-d", db]
        + [f"--addons-path={addons_path}", "--log-level=warn", "--stop-after-init", *extra],
        check=True,
    )


def median_of(samples, key):
    return statistics.median(sample[key] for sample in samples)


def measure_size(args, size):
    template = f"dr_bench_{size}"
    if not db_exists(template):
        sys.exit(f"{template} is missing: build it first with scripts/bench.sh build {size}")
    run_db = f"dr_bench_{size}_run"
    ours = {0: [], 1: []}
    for n in range(args.runs):
        copy_db(template, run_db)
        for day in (0, 1):
            sample = probe(args, "ours_escalation", run_db, args.addons_path, day)
            ours[day].append(sample)
            log(
                f"  {size} ours day {day} run {n + 1}: {sample['seconds']:.2f}s "
                f"{sample['queries']} queries {sample['result']}; sync before {sample['sync']}"
            )
    oca = {0: [], 1: []}
    if args.oca_path:
        oca_template = f"dr_bench_{size}_oca"
        oca_addons = f"{args.addons_path},{args.oca_path}"
        copy_db(template, oca_template)
        odoo_bin(
            args, oca_template, oca_addons, "-i", "account_credit_control", "--without-demo=all"
        )
        probe(args, "oca_setup", oca_template, oca_addons)
        for n in range(args.runs):
            copy_db(oca_template, run_db)
            for day in (0, 1):
                sample = probe(args, "oca_escalation", run_db, oca_addons, day)
                oca[day].append(sample)
                log(
                    f"  {size} OCA day {day} run {n + 1}: {sample['seconds']:.2f}s "
                    f"{sample['queries']} queries {sample['result']}"
                )
        drop_db(oca_template)
    copy_db(template, run_db)
    ui = probe(args, "ui", run_db, args.addons_path)
    log(f"  {size} ui: {ui}")
    letters = []
    if size in args.letters_sizes:
        for _n in range(args.runs):
            copy_db(template, run_db)
            with odoo_server(args, run_db, args.addons_path) as url:
                letters.append(probe(args, "letters", run_db, args.addons_path, url=url))
            log(f"  {size} letters: {letters[-1]}")
    drop_db(run_db)
    return {"ours": ours, "oca": oca, "ui": ui, "letters": letters}


def log(msg):
    print(msg, flush=True)


def data_facts(size):
    db = f"dr_bench_{size}"
    out = (
        subprocess.run(
            [
                "psql",
                "-qXtA",
                "-F",
                "|",
                "-d",
                db,
                "-c",
                FACTS_SQL,
            ],
            check=True,
            capture_output=True,
            text=True,
        )
        .stdout.strip()
        .split("|")
    )
    return dict(
        zip(
            ("invoices", "customers", "overdue_lines", "companies", "build_seconds"),
            map(int, out),
            strict=True,
        )
    )


def machine():
    with open("/proc/meminfo", encoding="ascii") as handle:
        mem_kb = int(handle.readline().split()[1])
    cpu = "?"
    with open("/proc/cpuinfo", encoding="ascii") as handle:
        for line in handle:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    pg = subprocess.run(
        ["psql", "-qXtA", "-d", "postgres", "-c", "SHOW server_version"],
        capture_output=True,
        text=True,
    ).stdout.strip()
    return (
        f"{os.cpu_count()} cores ({cpu}), {mem_kb / 2**20:.0f} GiB RAM, "
        f"Python {platform.python_version()}, PostgreSQL {pg}"
    )


def write_table(args, results):
    lines = [
        "# Benchmark results",
        "",
        f"Produced by `scripts/bench.sh measure {' '.join(args.sizes)}` on "
        f"{date.today().isoformat()}; machine: {machine()}.",
        f"Each figure is the median of {args.runs} runs, each on a fresh copy of the size's "
        "template database after ANALYZE and a CHECKPOINT, in a fresh process. Escalation = "
        "the daily run "
        "without mail transport and PDF rendering (ours: the escalation cron, which queues the "
        "communications; OCA: a credit control run generating its lines). Before ours, the "
        "daily case sync runs as scheduled (02:00, an hour before the escalation): it opens a "
        "recovery case for each customer with overdue items (on the first day, for all of "
        "them) and closes paid ones; OCA has no such step. It is measured on its own and shown "
        "in the table; the last column compares OCA with both together. Equivalent policy on "
        f"both sides: levels at {', '.join(map(str, LADDER))} days after the due date. "
        "\"Next day\" runs on the day after the first run, on its result.",
        "",
        "## Data",
        "",
        "| size | invoices and credit notes | customers invoiced "
        "| overdue receivable lines | companies | generated in |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for size in args.sizes:
        facts = data_facts(size)
        lines.append(
            f"| {size} | {facts['invoices']:,} | {facts['customers']:,} | "
            f"{facts['overdue_lines']:,} | {facts['companies']} | "
            + (
                f"{facts['build_seconds'] // 60} min {facts['build_seconds'] % 60:02d} s |"
                if facts["build_seconds"]
                else "? |"
            )
        )
    lines += [
        "",
        "## Escalation run",
        "",
        "| size | day | debt_recovery | queries | peak RSS (MB) | communications / items | "
        "OCA account_credit_control | OCA queries | OCA credit lines | OCA / ours "
        "| case sync before (cases opened) | OCA / (sync + ours) |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    medians, item_counts = {}, {}
    for size in args.sizes:
        res = results[size]
        for day in (0, 1):
            ours = res["ours"][day]
            ours_s = median_of(ours, "seconds")
            medians[size, day] = ours_s
            comms = statistics.median(s["result"]["communications"] for s in ours)
            items = statistics.median(s["result"]["items"] for s in ours)
            item_counts[size, day] = items
            row = (
                f"| {size} | {'first' if day == 0 else 'next'} | {ours_s:.2f} s | "
                f"{median_of(ours, 'queries'):,.0f} | {median_of(ours, 'peak_mb'):.0f} | "
                f"{comms:,.0f} / {items:,.0f} |"
            )
            oca = res["oca"][day]
            syncs = [sample["sync"] for sample in ours]
            sync_s = median_of(syncs, "seconds")
            both_s = statistics.median(s["seconds"] + s["sync"]["seconds"] for s in ours)
            if oca:
                oca_s = median_of(oca, "seconds")
                created = statistics.median(s["result"]["lines"] for s in oca)
                row += (
                    f" {oca_s:.2f} s | {median_of(oca, 'queries'):,.0f} | {created:,.0f} | "
                    f"**{oca_s / ours_s:.1f}×** |"
                )
            else:
                row += " – | – | – | – |"
            row += (
                f" {sync_s:.2f} s, {median_of(syncs, 'queries'):,.0f} queries "
                f"({median_of(syncs, 'opened'):,.0f}) | "
                + (f"{median_of(oca, 'seconds') / both_s:.1f}× |" if oca else "– |")
            )
            lines.append(row)
    if len(args.sizes) > 1:
        lines += ["", "Growth of our escalation time between sizes:", ""]
        for small, big in zip(args.sizes, args.sizes[1:], strict=False):
            for day in (0, 1):
                time_ratio = medians[big, day] / medians[small, day]
                item_ratio = item_counts[big, day] / item_counts[small, day]
                lines.append(
                    f"- {small} → {big}, {'first' if day == 0 else 'next'} day: "
                    f"{time_ratio:.2f}× the time for {item_ratio:.2f}× the items "
                    f"({time_ratio / item_ratio:.2f}× the time per item)"
                )
    lines += [
        "",
        "## Board, customer form, case amounts (server side, cold record cache)",
        "",
        "| size | open cases | all case amounts "
        "| kanban board (groups, progress bars, first cards) "
        "| customer form (invoices of the customer) |",
        "|---|---:|---:|---:|---:|",
    ]
    for size in args.sizes:
        ui = results[size]["ui"]
        lines.append(
            f"| {size} | {ui['cases']:,} | {ui['case_amounts']['seconds'] * 1000:.0f} ms, "
            f"{ui['case_amounts']['queries']:.0f} queries "
            f"| {ui['board']['seconds'] * 1000:.0f} ms, "
            f"{ui['board']['queries']:.0f} queries | {ui['form']['seconds'] * 1000:.0f} ms, "
            f"{ui['form']['queries']:.0f} queries ({ui['form_invoices']:,}); recovery panel "
            f"{(ui['form']['seconds'] - ui['form_base']['seconds']) * 1000:.0f} ms, "
            f"{ui['form']['queries'] - ui['form_base']['queries']:.0f} queries |"
        )
    letter_rows = [size for size in args.sizes if results[size]["letters"]]
    if letter_rows:
        lines += [
            "",
            "## Letters (real wkhtmltopdf, one PDF)",
            "",
            "| size | letters | seconds | letters per second |",
            "|---|---:|---:|---:|",
        ]
        for size in letter_rows:
            samples = results[size]["letters"]
            seconds = median_of(samples, "seconds")
            count = samples[0]["letters"]
            lines.append(f"| {size} | {count} | {seconds:.1f} | {count / seconds:.1f} |")
    with open(args.out, "w", encoding="utf-8") as handle:
        handle.write("\n".join(lines) + "\n")
    log(f"wrote {args.out}")


def main():
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run")
    run.add_argument("--sizes", nargs="+", default=["small", "medium"])
    run.add_argument("--runs", type=int, default=3)
    run.add_argument("--out", default=os.path.join(HERE, "RESULTS.md"))
    run.add_argument("--addons-path", required=True)
    run.add_argument("--oca-path")
    run.add_argument("--odoo-src", required=True)
    run.add_argument("--letters-sizes", nargs="*", default=["medium"])
    one = sub.add_parser("probe")
    one.add_argument("kind", choices=sorted(PROBES))
    one.add_argument("--db", required=True)
    one.add_argument("--addons-path", required=True)
    one.add_argument("--day", type=int, default=0)
    args = parser.parse_args()
    if args.command == "probe":
        probe_main(args)
        return
    results = {}
    for size in args.sizes:
        log(f"== {size}")
        results[size] = measure_size(args, size)
    write_table(args, results)


if __name__ == "__main__":
    main()
