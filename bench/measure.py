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
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from datetime import date, datetime, timedelta

HERE = os.path.dirname(os.path.abspath(__file__))
FILESTORE = os.path.expanduser("~/.local/share/Odoo/filestore")
# The equivalent ladder on both sides: days after the due date.
LADDER = (7, 21, 35, 60, 75)
LETTERS = 200
# Queued email communications delivered by the send probe (the first ones by
# id, the rest of the day's queue held back): a bounded, stated number (each
# costs seconds: a wkhtmltopdf process per PDF).
SEND_COUNT = 50
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

    Same delays as OCA's levels; one level per run (paced), no minimum gap
    between two levels nor between two communications to a customer (OCA has
    none): on the next day, items past the second delay climb to it, as OCA's
    lines do. Netting of open credits stays on (the default).
    """
    for policy in env["debt.recovery.policy"].search([("is_default", "=", True)]):
        policy.write({"escalation_mode": "paced", "min_days_between": 0})
        policy.level_ids.filtered(lambda level: level.days not in LADDER).unlink()
        policy.level_ids.write({"min_days_since_previous": 0})
    env.cr.commit()


def escalate(env):
    """The daily escalation cron (its model moved with the engine's own model)."""
    model = (
        "debt.recovery.escalation"
        if "debt.recovery.escalation" in env
        else "debt.recovery.communication"
    )
    env[model]._cron_escalate()


def probe_ours_escalation(env, day):
    """The day's crons in their order: the case sync (02:00: cases opened for
    customers with overdue items, closed when paid) measured on its own, then
    the escalation (03:00: levels, communications queued)."""
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
        escalate(env)
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


def probe_ours_escalation_notices(env, day):
    """The escalation straight to the level of the age (the policy's other
    mode): most overdue items get their formal notice or final demand at once,
    each communication with the interest and compensation it states."""
    configure_ours(env)
    env["debt.recovery.policy"].search([("is_default", "=", True)]).write(
        {"escalation_mode": "age"}
    )
    env.cr.commit()
    env["debt.recovery.case"]._cron_sync_cases()
    analyze(env.cr)

    def run():
        escalate(env)
        env.cr.execute(
            "SELECT count(*), count(*) FILTER (WHERE amount_interest > 0), "
            "coalesce(sum(amount_interest), 0), coalesce(sum(amount_compensation), 0) "
            "FROM debt_recovery_communication WHERE date = %s",
            [day],
        )
        comms, with_interest, interest, compensation = env.cr.fetchone()
        return {
            "communications": comms,
            "with_interest": with_interest,
            "interest": float(interest),
            "compensation": float(compensation),
        }

    return timed(env, run)


def probe_aged_receivable(env):
    """The aged receivable of every customer of every company, today and 90
    days ago (as it was then): the rows made and summed, cold caches."""
    from odoo import fields

    today = fields.Date.context_today(env.user)
    Report = env["debt.recovery.aged.receivable"]
    figures = {}
    for name, day in (("today", today), ("past", today - timedelta(days=90))):
        report = Report.create({"date_at": day, "company_ids": env["res.company"].search([]).ids})
        env.cr.commit()
        env.invalidate_all()
        queries = env.cr.sql_log_count
        start = time.perf_counter()
        report._compute_items()
        summary = report._summary()
        figures[name] = {
            "seconds": time.perf_counter() - start,
            "queries": env.cr.sql_log_count - queries,
            "items": len(report.item_ids),
            "customers": len(summary["lines"]),
            "total": round(summary["total"], 2),
        }
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
    escalate(env)
    env.cr.commit()
    letters = Communication.search([], limit=LETTERS, order="id")
    letters[:1]._render_letters_pdf()
    start = time.perf_counter()
    pdf = letters._render_letters_pdf()
    seconds = time.perf_counter() - start
    return {"letters": len(letters), "seconds": seconds, "bytes": len(pdf)}


def queued_email_ids(env, limit):
    env.cr.execute(
        "SELECT id FROM debt_recovery_communication WHERE state = 'queued' AND channel_email "
        "ORDER BY id LIMIT %s",
        [limit],
    )
    return [row[0] for row in env.cr.fetchall()]


def send_count():
    return int(os.environ.get("BENCH_SEND_COUNT") or SEND_COUNT)


def setup_outgoing_mail(env):
    """As a production database is set up to send: an outgoing mail server (the
    benchmark's SMTP sink on localhost), companies with an email address, and
    ``report.url`` at the running Odoo server that serves the PDFs' styles."""
    env["ir.config_parameter"].set_param("report.url", os.environ["BENCH_REPORT_URL"])
    env["ir.mail_server"].search([]).write({"active": False})
    env["ir.mail_server"].create(
        {
            "name": "Benchmark SMTP sink",
            "smtp_host": "127.0.0.1",
            "smtp_port": int(os.environ["BENCH_SMTP_PORT"]),
            "smtp_encryption": "none",
        }
    )
    for company in env["res.company"].search([("email", "=", False)]):
        company.email = f"credit@company{company.id}.bench.example.com"
    env.cr.commit()


def run_until_done(env, func, count):
    """Call ``func`` and commit, as ir.cron runs a job's batches, while
    ``count()`` goes down."""
    calls, left = 0, count()
    while left and calls < 1000:
        func()
        env.cr.commit()
        calls += 1
        now = count()
        if now == left:
            break
        left = now
    return {"calls": calls, "left": left}


def mail_queue(env):
    """Odoo's mail scheduler until nothing is outgoing."""
    Mail = env["mail.mail"]
    return run_until_done(
        env, Mail.process_email_queue, lambda: Mail.search_count([("state", "=", "outgoing")])
    )


def received_tally():
    """What the SMTP sink received; its PDF counts come after (a minute at most)."""
    path = os.environ["BENCH_SMTP_LOG"]

    def read(name):
        with open(name, encoding="ascii") as handle:
            return [json.loads(line) for line in handle if line.strip()]

    received = read(path)
    pdfs = read(path + ".pdf")
    for _n in range(600):
        if len(pdfs) >= len(received):
            break
        time.sleep(0.1)
        pdfs = read(path + ".pdf")
    return {
        "received": len(received),
        "received_rcpt": sum(msg["rcpt"] for msg in received),
        "received_bytes": sum(msg["bytes"] for msg in received),
        "received_pdf_parts": sum(msg["pdf"] for msg in pdfs),
        "received_pdf_bytes": sum(msg["pdf_bytes"] for msg in pdfs),
    }


@contextlib.contextmanager
def time_spent_in(env, model, method):
    """Wall time and calls of ``model.method`` while the block runs (where the
    time goes: wkhtmltopdf, SMTP), from a wrapper on the registry's class."""
    cls = type(env[model])
    original = getattr(cls, method)
    spent = {"seconds": 0.0, "calls": 0}

    def wrapper(self, *args, **kwargs):
        start = time.perf_counter()
        try:
            return original(self, *args, **kwargs)
        finally:
            spent["seconds"] += time.perf_counter() - start
            spent["calls"] += 1

    setattr(cls, method, wrapper)
    try:
        yield spent
    finally:
        setattr(cls, method, original)


@contextlib.contextmanager
def where_time_goes(env):
    with (
        time_spent_in(env, "ir.actions.report", "_run_wkhtmltopdf") as pdf,
        time_spent_in(env, "ir.mail_server", "send_email") as smtp,
    ):
        yield {"wkhtmltopdf": pdf, "smtp": smtp}


def figures_of(timing):
    return {key: timing[key] for key in ("seconds", "queries", "peak_mb")} | timing["result"]


def probe_sending(env):
    """The send cron, then the mail queue, delivering the first-day escalation's
    email communications (each with its PDF) to a real SMTP server.

    Set up outside the measure: outgoing mail (``setup_outgoing_mail``), the
    case sync and the escalation of the day, and one letter printed first so
    that the asset bundles exist. Only the first ``BENCH_SEND_COUNT`` queued
    email communications stay queued; the rest of the day's queue is held
    back ("To Approve"). Measured: the send cron called as ir.cron calls it (a
    batch, a commit, again while some are queued), then the mail queue until
    nothing is outgoing; what the SMTP server received is read from its tally.
    """
    Communication = env["debt.recovery.communication"]
    Mail = env["mail.mail"]
    setup_outgoing_mail(env)
    configure_ours(env)
    env["debt.recovery.case"]._cron_sync_cases()
    escalate(env)
    env.cr.commit()
    queued_all = Communication.search_count([("state", "=", "queued")])
    todo = queued_email_ids(env, send_count())
    env.cr.execute(
        "UPDATE debt_recovery_communication SET state = 'to_approve' "
        "WHERE state = 'queued' AND NOT (id = ANY(%s))",
        [todo],
    )
    env.cr.commit()
    env.invalidate_all()
    warmup = Communication.browse(todo[:1])
    report = warmup.level_id.report_id or env.ref("debt_recovery.action_report_recovery_letter")
    env["ir.actions.report"]._render_qweb_pdf(report, warmup.ids)
    env.cr.commit()
    pdf_alone = one_pdf_alone(env, report, warmup.ids)
    if os.environ.get("BENCH_PRINT_DELAY"):
        # A variant, not the benchmark's figure: Odoo's JavaScript delay per PDF.
        env["ir.config_parameter"].set_param("report.print_delay", os.environ["BENCH_PRINT_DELAY"])
        env.cr.commit()
    analyze(env.cr)
    mails_before = Mail.search_count([])
    workers = send_workers()
    with where_time_goes(env) as send_spent:
        worker_queries = []
        send = timed(env, lambda: send_in_workers(env, workers, worker_queries))
    send["queries"] += sum(worker_queries)
    mails_created = Mail.search_count([]) - mails_before
    with where_time_goes(env) as deliver_spent:
        deliver = timed(env, lambda: mail_queue(env))
    env.cr.execute(
        "SELECT state, count(*) FROM debt_recovery_communication WHERE id = ANY(%s) GROUP BY 1",
        [todo],
    )
    states = dict(env.cr.fetchall())
    return {
        "queued_day": queued_all,
        "selected": len(todo),
        "states": states,
        "send": figures_of(send) | send_spent,
        "mails_created": mails_created,
        "deliver": figures_of(deliver) | deliver_spent,
        "mail_states": {state: n for state, n in Mail._read_group([], ["state"], ["__count"])},
        "pdf_alone": pdf_alone,
    } | received_tally()


def send_workers():
    """Send crons working at once: the module ships two (Odoo runs two cron
    threads by default); ``BENCH_SEND_WORKERS=1`` measures one alone."""
    return int(os.environ.get("BENCH_SEND_WORKERS") or 2)


def send_in_workers(env, workers, queries):
    """The send cron as Odoo's cron threads run it: ``workers`` threads, each
    with its own cursor, calling it and committing while some are queued.
    ``queries`` gets each worker's query count."""
    import threading

    from odoo import api

    def count(worker_env):
        return worker_env["debt.recovery.communication"].search_count([("state", "=", "queued")])

    def work(results, index):
        with env.registry.cursor() as cr:
            worker_env = api.Environment(cr, env.uid, {})
            start = cr.sql_log_count
            results[index] = run_until_done(
                worker_env,
                worker_env["debt.recovery.communication"]._cron_send_queued,
                lambda: count(worker_env),
            )
            queries.append(cr.sql_log_count - start)

    results = [None] * workers
    threads = [threading.Thread(target=work, args=(results, n)) for n in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    with env.registry.cursor() as cr:
        # A new snapshot: the caller's transaction predates the workers' commits.
        left = count(api.Environment(cr, env.uid, {}))
    return {
        "workers": workers,
        "calls": sum(result["calls"] for result in results if result),
        "left": left,
    }


def one_pdf_alone(env, report, res_ids, times=3):
    """The floor of a PDF per communication: one PDF rendered alone (median of
    ``times``), with Odoo's JavaScript delay (``report.print_delay``, 1000 ms
    unless set: wkhtmltopdf waits that long on every document) and without."""
    Param = env["ir.config_parameter"].sudo()
    setting = Param.get_param("report.print_delay")
    figures = {"print_delay": setting or "1000 (default)"}
    for name, delay in (("as_set", setting), ("no_delay", "0")):
        Param.set_param("report.print_delay", delay)
        samples = []
        for _n in range(times):
            start = time.perf_counter()
            env["ir.actions.report"]._render_qweb_pdf(report, res_ids)
            samples.append(time.perf_counter() - start)
        figures[name] = statistics.median(samples)
    Param.set_param("report.print_delay", setting)
    env.cr.commit()
    return figures


def probe_oca_sending(env):
    """OCA's sending of its first-day run, as ours is measured.

    Outside the measure: outgoing mail, the credit control run of the day, its
    lines marked ready to send, a PDF printed first. Measured: OCA's emailer
    (``credit.control.emailer``: a communication per customer, level and
    currency, each posted with OCA's email template and its PDF summary; Odoo
    sends those emails when the transaction commits), then the mail queue
    until nothing is outgoing. Only the lines of the first
    ``BENCH_SEND_COUNT`` communications (by customer) are sent.
    """
    import oca

    from odoo import Command

    Line = env["credit.control.line"]
    setup_outgoing_mail(env)
    oca.mark_ready(oca.run(env, bench_day(env)))
    env.cr.commit()
    env.cr.execute(
        "SELECT id, partner_id, policy_level_id, currency_id, company_id FROM credit_control_line "
        "WHERE state = 'to_be_sent' AND channel = 'email' ORDER BY partner_id, id"
    )
    groups = {}
    for line_id, *key in env.cr.fetchall():
        if tuple(key) not in groups and len(groups) == send_count():
            continue
        groups.setdefault(tuple(key), []).append(line_id)
    line_ids = [line_id for ids in groups.values() for line_id in ids]
    template = env.ref("account_credit_control.email_template_credit_control_base")
    warmup = env["credit.control.communication"]._generate_comm_from_credit_lines(
        Line.browse(line_ids[:1])
    )
    env["ir.actions.report"]._render_qweb_pdf(template.report_template_ids[:1], warmup.ids)
    warmup.unlink()
    env.cr.commit()
    analyze(env.cr)

    def send():
        wizard = env["credit.control.emailer"].create({"line_ids": [Command.set(line_ids)]})
        return {"communications": len(wizard._send_emails())}

    with where_time_goes(env) as send_spent:
        sent = timed(env, send)
    with where_time_goes(env) as deliver_spent:
        deliver = timed(env, lambda: mail_queue(env))
    env.cr.execute(
        "SELECT state, count(*) FROM credit_control_line WHERE id = ANY(%s) GROUP BY 1",
        [line_ids],
    )
    return {
        "selected": len(groups),
        "lines": len(line_ids),
        "line_states": dict(env.cr.fetchall()),
        "send": figures_of(sent) | send_spent,
        "deliver": figures_of(deliver) | deliver_spent,
    } | received_tally()


def probe_interest(env):
    """Late-payment interest and compensation of every overdue receivable
    item of the database (one pass: ``_debt_late_payment``), after the
    escalation of the day; cold caches."""
    from odoo import fields

    escalate(env)
    env.cr.commit()
    today = fields.Date.context_today(env.user)
    Item = env["account.move.line"]
    items = Item.search(
        [
            ("account_type", "=", "asset_receivable"),
            ("parent_state", "=", "posted"),
            ("move_id.move_type", "=", "out_invoice"),
            ("date_maturity", "<", today),
            ("amount_residual", ">", 0),
        ]
    )
    env.invalidate_all()
    items = Item.browse(items.ids)
    queries = env.cr.sql_log_count
    start = time.perf_counter()
    figures = items._debt_late_payment(today)
    seconds = time.perf_counter() - start
    return {
        "items": len(items),
        "seconds": seconds,
        "queries": env.cr.sql_log_count - queries,
        "with_interest": sum(1 for figure in figures.values() if figure.interest),
        "interest": round(sum(figure.interest for figure in figures.values()), 2),
    }


PROBES = {
    "ours_escalation": probe_ours_escalation,
    "ours_escalation_notices": probe_ours_escalation_notices,
    "aged_receivable": probe_aged_receivable,
    "oca_setup": probe_oca_setup,
    "oca_escalation": probe_oca_escalation,
    "ui": probe_ui,
    "letters": probe_letters,
    "interest": probe_interest,
    "sending": probe_sending,
    "oca_sending": probe_oca_sending,
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


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def smtp_sink(args):
    """The SMTP server of bench/smtp_sink.py while the block runs: (port, tally file)."""
    port = free_port()
    tally = os.path.join(tempfile.mkdtemp(prefix="dr_bench_smtp_"), "received.jsonl")
    for name in (tally, tally + ".pdf"):
        open(name, "w", encoding="ascii").close()
    sink = subprocess.Popen(
        [sys.executable, os.path.join(HERE, "smtp_sink.py"), "--port", str(port), "--log", tally],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        if sink.stdout.readline().strip() != "READY":
            sys.exit("the SMTP sink did not start (is aiosmtpd installed? scripts/bench.sh does)")
        yield port, tally
    finally:
        sink.terminate()
        sink.wait(30)
        shutil.rmtree(os.path.dirname(tally), ignore_errors=True)


@contextlib.contextmanager
def odoo_server(args, db, addons_path, port=None):
    """An Odoo server on ``db`` while the block runs: its URL."""
    port = port or free_port()
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


def probe(args, kind, db, addons_path, day=0, url="", extra_env=None):
    cmd = [sys.executable, __file__, "probe", kind, "--db", db, "--addons-path", addons_path]
    cmd += ["--day", str(day)]
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([HERE, args.odoo_src]))
    env["BENCH_REPORT_URL"] = url
    env.update(extra_env or {})
    out = subprocess.run(cmd, check=False, capture_output=True, text=True, env=env)
    if out.returncode:
        sys.stderr.write(out.stderr[-20000:])
        sys.exit(f"probe {kind} on {db} failed (exit {out.returncode})")
    line = next(line for line in out.stdout.splitlines() if line.startswith("RESULT "))
    return json.loads(line[len("RESULT ") :])


def send_probe(args, kind, db, addons_path):
    """A sending probe with an Odoo server (for the PDFs' styles) and the SMTP sink."""
    with odoo_server(args, db, addons_path) as url, smtp_sink(args) as (port, tally):
        extra = {
            "BENCH_SMTP_PORT": str(port),
            "BENCH_SMTP_LOG": tally,
            "BENCH_SEND_COUNT": str(args.send_count),
        }
        return probe(args, kind, db, addons_path, url=url, extra_env=extra)


def odoo_bin(args, db, addons_path, *extra):
    subprocess.run(
        [sys.executable, os.path.join(args.odoo_src, "odoo-bin"), "--db_host=", "-d", db]
        + [f"--addons-path={addons_path}", "--log-level=warn", "--stop-after-init", *extra],
        check=True,
    )


def repeat_probe(args):
    """``args.runs`` runs of one probe, each on a fresh copy (letters: with
    a server for the styles), printed as they come, then the medians."""
    template, db = f"dr_bench_{args.size}", f"dr_bench_{args.size}_{args.kind}"
    samples = []
    for _n in range(args.runs):
        copy_db(template, db)
        if args.kind == "letters":
            with odoo_server(args, db, args.addons_path) as url:
                sample = probe(args, "letters", db, args.addons_path, url=url)
            sample["per_second"] = sample["letters"] / sample["seconds"]
            sample["bytes_per_letter"] = sample["bytes"] / sample["letters"]
        else:
            sample = probe(args, args.kind, db, args.addons_path)
        samples.append(sample)
        log(f"  {args.size} {args.kind}: {sample}")
    drop_db(db)
    keys = [key for key, value in samples[0].items() if isinstance(value, float)]
    log(f"  median of {args.runs}: " + ", ".join(f"{k} {median_of(samples, k):.3f}" for k in keys))


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
        if size not in args.send_sizes:
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


def measure_sending(args, size):
    """Sending, ours then OCA's (on the copy with OCA installed that
    ``measure_size`` kept), ``--send-runs`` times each."""
    template, run_db = f"dr_bench_{size}", f"dr_bench_{size}_run"
    sending, oca_sending = [], []
    for _n in range(args.send_runs):
        copy_db(template, run_db)
        sending.append(send_probe(args, "sending", run_db, args.addons_path))
        log(f"  {size} sending: {sending[-1]}")
    if args.oca_path:
        oca_template = f"dr_bench_{size}_oca"
        for _n in range(args.send_runs):
            copy_db(oca_template, run_db)
            oca_sending.append(
                send_probe(args, "oca_sending", run_db, f"{args.addons_path},{args.oca_path}")
            )
            log(f"  {size} OCA sending: {oca_sending[-1]}")
        drop_db(oca_template)
    drop_db(run_db)
    return {"sending": sending, "oca_sending": oca_sending}


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
        f"Produced by `BENCH_RUNS={args.runs} BENCH_SEND={args.send_count} "
        f"BENCH_SEND_RUNS={args.send_runs} scripts/bench.sh measure {' '.join(args.sizes)}` on "
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
    lines += sending_tables(args, results)
    with open(args.out, "w", encoding="utf-8") as handle:
        handle.write("\n".join(lines) + "\n")
    log(f"wrote {args.out}")


def sending_row(size, side, samples):
    sends = [sample["send"] for sample in samples]
    delivers = [sample["deliver"] for sample in samples]
    total = statistics.median(
        sample["send"]["seconds"] + sample["deliver"]["seconds"] for sample in samples
    )
    received = statistics.median(sample["received"] for sample in samples)
    parts = statistics.median(sample["received_pdf_parts"] for sample in samples)
    pdf_mean = statistics.median(
        sample["received_pdf_bytes"] / sample["received_pdf_parts"]
        if sample["received_pdf_parts"]
        else 0
        for sample in samples
    )
    mail_mean = statistics.median(
        sample["received_bytes"] / sample["received"] if sample["received"] else 0
        for sample in samples
    )
    queued = (
        f"{statistics.median(s['queued_day'] for s in samples):,.0f}"
        if "queued_day" in samples[0]
        else "–"
    )
    pdf_s = statistics.median(
        sample["send"]["wkhtmltopdf"]["seconds"] + sample["deliver"]["wkhtmltopdf"]["seconds"]
        for sample in samples
    )
    pdf_calls = statistics.median(
        sample["send"]["wkhtmltopdf"]["calls"] + sample["deliver"]["wkhtmltopdf"]["calls"]
        for sample in samples
    )
    smtp_s = statistics.median(
        sample["send"]["smtp"]["seconds"] + sample["deliver"]["smtp"]["seconds"]
        for sample in samples
    )
    return (
        f"| {size} | {side} | {queued} | {samples[0]['selected']:,} | "
        f"{median_of(sends, 'seconds'):.1f} s | {median_of(sends, 'queries'):,.0f} | "
        f"{median_of(delivers, 'seconds'):.1f} s | {median_of(delivers, 'queries'):,.0f} | "
        f"{pdf_s:.1f} s ({pdf_calls:,.0f}) | {smtp_s:.1f} s | "
        f"{received:,.0f} ({parts:,.0f}) | {pdf_mean / 1024:.0f} KB | {mail_mean / 1024:.0f} KB | "
        f"{max(median_of(sends, 'peak_mb'), median_of(delivers, 'peak_mb')):.0f} | "
        f"**{received / total:.1f}** |"
    )


def send_seconds(samples):
    return statistics.median(
        sample["send"]["seconds"] + sample["deliver"]["seconds"] for sample in samples
    )


def sending_tables(args, results):
    sizes = [size for size in args.sizes if results[size].get("sending")]
    if not sizes:
        return []
    lines = [
        "",
        "## Sending (the first day's emails with their PDFs, to a real SMTP server)",
        "",
        "After the first-day run (ours: case sync and escalation; OCA: its credit control run, "
        "lines marked ready to send), the first "
        f"{args.send_count:,} email communications (ours: queued, by id, the rest of the day's "
        "queue held back; OCA: those of the first customers' lines) are sent, each email with "
        "its PDF (real wkhtmltopdf, styled: a running Odoo server serves the styles), over "
        "SMTP to `bench/smtp_sink.py` (aiosmtpd, in its own process), which counts what it "
        "received. Send step: ours, the send cron (`_cron_send_queued`, called as ir.cron "
        "calls it, a commit after each batch, until none is queued), which renders each "
        "email and its PDF and queues the mail; OCA, its emailer (`credit.control.emailer`: "
        "a communication per customer, level and currency, posted with OCA's template and "
        "its PDF summary, the emails sent by Odoo as the transaction commits). Then Odoo's "
        "mail scheduler (`mail.mail.process_email_queue`) until nothing is outgoing. "
        "Communications per second = messages received / (send step + mail queue); nothing "
        f"extrapolated; median of {args.send_runs} run(s). In wkhtmltopdf and in SMTP: "
        "wall time inside "
        "`ir.actions.report._run_wkhtmltopdf` (the PDF process) and "
        "`ir.mail_server.send_email` (the SMTP exchange), out of both steps. Queries: those of "
        "the measured transaction's cursor (the emails OCA sends after its commit use a "
        "cursor of their own).",
        "",
        "| size | side | queued that day | sent | send step | queries | mail queue "
        "| queries | of both, in wkhtmltopdf (calls) | of both, in SMTP "
        "| messages received (PDF parts) | PDF size (mean) "
        "| email size (mean) | peak RSS (MB) | communications per second |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for size in sizes:
        lines.append(sending_row(size, "debt_recovery", results[size]["sending"]))
        if results[size].get("oca_sending"):
            lines.append(sending_row(size, "OCA", results[size]["oca_sending"]))
    lines += ["", "One communication's PDF rendered alone (the floor of a PDF per email):", ""]
    for size in sizes:
        alone = [sample["pdf_alone"] for sample in results[size]["sending"]]
        lines.append(
            f"- {size}: {median_of(alone, 'as_set'):.2f} s with Odoo's `report.print_delay` "
            f"at {alone[0]['print_delay']} ms (wkhtmltopdf waits that long for the page's "
            f"scripts on every document), {median_of(alone, 'no_delay'):.2f} s at 0"
        )
    lines += [
        "",
        "## The whole first day: case sync + escalation + sending, against OCA",
        "",
        "The medians above added up; sending = that of the communications measured above "
        "(their number in brackets), not the whole day's queue. OCA's run has no case sync; "
        "its sending is its emailer and the mail queue as above.",
        "",
        "| size | case sync | escalation | sending | debt_recovery, whole day "
        "| OCA run | OCA sending | OCA, whole day | OCA / ours |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for size in sizes:
        ours = results[size]["ours"][0]
        sync_s = statistics.median(sample["sync"]["seconds"] for sample in ours)
        esc_s = median_of(ours, "seconds")
        samples = results[size]["sending"]
        send_s = send_seconds(samples)
        received = statistics.median(sample["received"] for sample in samples)
        whole = sync_s + esc_s + send_s
        row = (
            f"| {size} | {sync_s:.2f} s | {esc_s:.2f} s | {send_s:.1f} s ({received:,.0f}) | "
            f"{whole:.1f} s |"
        )
        oca, oca_send = results[size]["oca"][0], results[size].get("oca_sending")
        if oca and oca_send:
            oca_s = median_of(oca, "seconds")
            oca_whole = oca_s + send_seconds(oca_send)
            oca_received = statistics.median(sample["received"] for sample in oca_send)
            row += (
                f" {oca_s:.2f} s | {send_seconds(oca_send):.1f} s ({oca_received:,.0f}) | "
                f"{oca_whole:.1f} s | **{oca_whole / whole:.2f}×** |"
            )
        else:
            row += " – | – | – | – |"
        lines.append(row)
    return lines


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
    run.add_argument("--send-sizes", nargs="*", default=["medium"])
    run.add_argument("--send-count", type=int, default=SEND_COUNT)
    run.add_argument("--send-runs", type=int, default=1)
    one = sub.add_parser("probe")
    one.add_argument("kind", choices=sorted(PROBES))
    one.add_argument("--db", required=True)
    one.add_argument("--addons-path", required=True)
    one.add_argument("--day", type=int, default=0)
    again = sub.add_parser("repeat", help="one probe on fresh copies of a size's template")
    again.add_argument(
        "kind",
        choices=[
            "letters",
            "interest",
            "ours_escalation",
            "ours_escalation_notices",
            "aged_receivable",
        ],
    )
    again.add_argument("--size", default="medium")
    again.add_argument("--runs", type=int, default=3)
    again.add_argument("--addons-path", required=True)
    again.add_argument("--odoo-src", required=True)
    args = parser.parse_args()
    if args.command == "probe":
        probe_main(args)
        return
    if args.command == "repeat":
        repeat_probe(args)
        return
    # The tables are written as the figures come (sizes done so far, then
    # the sending, the slowest), so that a stopped run leaves what it measured.
    results = {}
    for index, size in enumerate(args.sizes):
        log(f"== {size}")
        results[size] = measure_size(args, size)
        write_table(argparse.Namespace(**vars(args) | {"sizes": args.sizes[: index + 1]}), results)
    for size in args.sizes:
        if size in args.send_sizes:
            log(f"== {size} sending")
            results[size].update(measure_sending(args, size))
            write_table(args, results)


if __name__ == "__main__":
    main()
