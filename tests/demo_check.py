"""Read back the demo's story (run in ``odoo-bin shell`` by test_install.py).

Prints one line, ``DEMO <json>``: each case's stage against its records, and
the records of the story.
"""

# ruff: noqa: F821 (``env`` is the shell's)
import json
import subprocess
import tempfile

from odoo import fields

today = fields.Date.context_today(env.user)
Comm = env["debt.recovery.communication"]
# The demo's own customers (the other demo data has overdue customers too).
customers = env["res.partner"].browse(
    env["ir.model.data"]
    .search([("module", "=", "debt_recovery"), ("name", "=like", "demo_partner_%")])
    .mapped("res_id")
)
demo_domain = [("partner_id", "in", customers.ids)]
report = {"mismatch": [], "stages": {}, "recovered": []}
LADDER = ("reminder", "formal_notice", "demand_letter")

# Each case's stage is true of its records.
for case in env["debt.recovery.case"].search([]):
    kind = case.stage_id.kind
    sent = Comm.search([("case_id", "=", case.id), ("state", "=", "sent")])
    sent_stages = sent.level_id.stage_id
    items = case.move_line_ids
    if kind == "current":
        ok = not sent_stages
    elif kind == "disputed":
        ok = "open" in items.debt_dispute_id.mapped("state")
    elif kind == "payment_plan":
        ok = "active" in items.debt_plan_id.mapped("state")
    elif kind == "promise":
        ok = "open" in items.debt_promise_id.mapped("state")
    elif kind == "closed":
        ok = case.is_closed and not case.amount_overdue
    elif kind in LADDER:
        # The highest stage its sent communications reached is the case's.
        ok = max(sent_stages.mapped("sequence"), default=0) == case.stage_id.sequence
    else:
        ok = False
    if not case.is_closed and case.currency_id.is_zero(case.amount_overdue):
        ok = False  # an open case with nothing overdue (net of credits)
    if not ok:
        report["mismatch"].append(f"{case.partner_id.name}: {kind}")
    if case.partner_id in customers:
        if case.is_closed:
            report["recovered"].append(case.partner_id.name)
        else:
            report["stages"][case.partner_id.name] = kind

# Each move of a case onto a stage is logged on the day of what made it.
stage_field = env["ir.model.fields"]._get("debt.recovery.case", "stage_id")
report["tracking_days"] = []
for case in env["debt.recovery.case"].search([("partner_id", "in", customers.ids)]):
    made_on = {}
    for comm in Comm.search([("case_id", "=", case.id), ("state", "=", "sent")]):
        made_on.setdefault(comm.level_id.stage_id.kind, set()).add(comm.date_sent)
    for plan in env["debt.recovery.plan"].search([("partner_id", "=", case.partner_id.id)]):
        made_on.setdefault("payment_plan", set()).add(plan.date_agreement)
    for record, kind in (
        ("debt.recovery.dispute", "disputed"),
        ("debt.recovery.promise", "promise"),
    ):
        for rec in env[record].search([("partner_id", "=", case.partner_id.id)]):
            made_on.setdefault(kind, set()).add(rec.date)
    values = env["mail.tracking.value"].search(
        [
            ("mail_message_id.model", "=", case._name),
            ("mail_message_id.res_id", "=", case.id),
            ("field_id", "=", stage_field.id),
        ]
    )
    for value in values:
        stage = env["debt.recovery.stage"].search([("name", "=", value.new_value_char)], limit=1)
        day = fields.Date.to_date(value.mail_message_id.date)
        if stage.kind in made_on and day not in made_on[stage.kind]:
            report["tracking_days"].append(f"{case.partner_id.name}: {stage.kind} on {day}")

comms = Comm.search([])
sent = comms.filtered(lambda c: c.state == "sent")
report["comms"] = len(comms)
# Nothing failed or was cancelled on the way (with the reason, if so).
report["not_sent"] = [
    f"{c.name} {c.state}: {c.failure_reason or c.cancel_reason}"
    for c in comms
    if c.state not in ("sent", "to_approve")
]
report["days"] = len(set(sent.mapped("date_sent")))
report["future"] = len(comms.filtered(lambda c: max(c.date, c.date_sent or c.date) > today))
report["to_approve"] = comms.filtered(lambda c: c.state == "to_approve").level_id.mapped(
    "needs_approval"
)
report["bounced"] = env["mail.notification"].search_count([("notification_status", "=", "bounce")])
report["bounced_comm"] = comms.filtered(
    lambda c: c.email_status not in ("none", "sent", "queued")
).partner_id.mapped("name")
report["queued_emails"] = env["mail.mail"].search_count([("state", "=", "outgoing")])
# An email's message is dated the day the communication says it left.
report["dates_agree"] = all(
    fields.Date.to_date(c.mail_message_id.date) == c.date_sent for c in comms if c.mail_message_id
)
# No communication claimed an item already paid when it left.
report["claimed_paid"] = [
    comm.name
    for comm in sent
    for line in comm.line_ids.move_line_id
    if line.reconciled
    and max((line.matched_credit_ids.mapped("max_date")), default=today) < comm.date_sent
]
report["credit_deducted"] = sum(comms.mapped("amount_credit")) > 0
report["payments"] = env["account.payment"].search_count(demo_domain)
report["partial"] = env["account.move"].search_count(
    [*demo_domain, ("payment_state", "=", "partial")]
)
report["refunds"] = env["account.move"].search_count(
    [*demo_domain, ("move_type", "=", "out_refund"), ("state", "=", "posted")]
)
plan = env["debt.recovery.plan"].search([("state", "=", "active")])
report["plan"] = [
    plan.partner_id.name,
    plan.fee_move_id.state,
    plan.instalment_ids.sorted("date_due").mapped("state"),
]
Promise, Dispute = env["debt.recovery.promise"], env["debt.recovery.dispute"]
report["promises"] = Promise.search([("state", "=", "open")]).partner_id.mapped("name")
report["disputes"] = Dispute.search([("state", "=", "open")]).partner_id.mapped("name")
report["calls"] = env["mail.message"].search_count(
    [("model", "=", "debt.recovery.case"), ("body", "ilike", "Call logged")]
)
report["risks"] = env["debt.recovery.risk"].search_count(demo_domain)
customers = env["res.partner"].search(
    [("email", "=like", "%.example.com"), ("is_company", "=", True)]
)
report["limits"] = customers.filtered(lambda p: p.credit_limit > 0).mapped("name")
report["addresses"] = all(p.street and p.zip and p.city and p.country_id for p in customers)

# The French and German customers' letters, in their language: the PDF's text.
letters = {}
for lang in ("fr_FR", "de_DE"):
    comm = comms.filtered(
        lambda c, lang=lang: c.partner_id.lang == lang and c.letter_state == "printed"
    )
    comm = comm.sorted("date")[-1:]
    text = ""
    if comm.letter_attachment_id:
        with tempfile.NamedTemporaryFile(suffix=".pdf") as pdf:
            pdf.write(comm.letter_attachment_id.raw)
            pdf.flush()
            text = subprocess.run(
                ["pdftotext", pdf.name, "-"], capture_output=True, text=True, check=True
            ).stdout
    title = comm.level_id.with_context(lang=lang).letter_title or "?"
    english = comm.level_id.with_context(lang="en_US").letter_title
    letters[lang] = [
        comm.partner_id.name,
        " ".join(title.split()) in " ".join(text.split()),
        bool(comm.partner_id.zip) and comm.partner_id.zip in text,
        title != english,
    ]
report["letters"] = letters
print("DEMO " + json.dumps(report, default=str))
